/// One transformer block's parameters, as float32 in PyTorch's `Linear` layout: a weight
/// mapping n inputs to m outputs is stored m×n (out × in), so y = x·Wᵀ + b.
public struct BertLayerWeights: Sendable {
  /// The query, key and value projections stacked: 3H×H (rows 0..<H query, H..<2H key,
  /// 2H..<3H value), so one sgemm computes all three.
  public var qkv: [Float]
  /// 3H: the three biases, in the same order.
  public var qkvBias: [Float]
  /// H×H, H: the attention output projection.
  public var attentionOut: [Float]
  public var attentionOutBias: [Float]
  /// H, H: the LayerNorm after attention (γ, β).
  public var attentionNormScale: [Float]
  public var attentionNormShift: [Float]
  /// I×H, I: the feed-forward expansion.
  public var ffnIn: [Float]
  public var ffnInBias: [Float]
  /// H×I, H: the feed-forward contraction.
  public var ffnOut: [Float]
  public var ffnOutBias: [Float]
  /// H, H: the LayerNorm after the feed-forward layer (γ, β).
  public var outputNormScale: [Float]
  public var outputNormShift: [Float]
}

/// A BERT encoder's parameters, read by their Hugging Face names from a safetensors file.
/// Names may carry a `bert.` or `model.` prefix; LayerNorm parameters may be called
/// `weight`/`bias` or (older checkpoints) `gamma`/`beta`. The pooler and any heads are
/// not read.
public struct BertWeights: Sendable {
  /// V×H word, P×H position and T×H token-type embeddings.
  public var wordEmbeddings: [Float]
  public var positionEmbeddings: [Float]
  public var tokenTypeEmbeddings: [Float]
  /// H, H: the LayerNorm over the summed embeddings.
  public var embeddingNormScale: [Float]
  public var embeddingNormShift: [Float]
  public var layers: [BertLayerWeights]

  /// Reads every tensor `config` calls for from the safetensors file at `path`.
  public static func load(path: String, config: BertConfig) throws -> BertWeights {
    try BertWeights(Safetensors.open(path), config: config)
  }

  /// Reads every tensor `config` calls for; a missing one, or one of another shape, is an
  /// `InputError` naming it with the expected and found shapes.
  public init(_ file: Safetensors, config c: BertConfig) throws {
    let prefix =
      ["", "bert.", "model."].first {
        file.tensors["\($0)embeddings.word_embeddings.weight"] != nil
      } ?? ""
    func read(_ name: String, _ shape: [Int]) throws -> [Float] {
      let full = prefix + name
      if file.tensors[full] == nil, name.hasSuffix("LayerNorm.weight") {
        let old = String(full.dropLast("weight".count)) + "gamma"
        if file.tensors[old] != nil { return try file.floats(old, shape: shape) }
      }
      if file.tensors[full] == nil, name.hasSuffix("LayerNorm.bias") {
        let old = String(full.dropLast("bias".count)) + "beta"
        if file.tensors[old] != nil { return try file.floats(old, shape: shape) }
      }
      return try file.floats(full, shape: shape)
    }
    let h = c.hidden
    let i = c.intermediate
    wordEmbeddings = try read("embeddings.word_embeddings.weight", [c.vocabSize, h])
    positionEmbeddings = try read("embeddings.position_embeddings.weight", [c.maxPositions, h])
    tokenTypeEmbeddings = try read("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h])
    embeddingNormScale = try read("embeddings.LayerNorm.weight", [h])
    embeddingNormShift = try read("embeddings.LayerNorm.bias", [h])
    layers = []
    for l in 0..<c.layers {
      let p = "encoder.layer.\(l)."
      let q = try read(p + "attention.self.query.weight", [h, h])
      let k = try read(p + "attention.self.key.weight", [h, h])
      let v = try read(p + "attention.self.value.weight", [h, h])
      let qb = try read(p + "attention.self.query.bias", [h])
      let kb = try read(p + "attention.self.key.bias", [h])
      let vb = try read(p + "attention.self.value.bias", [h])
      layers.append(
        BertLayerWeights(
          qkv: q + k + v, qkvBias: qb + kb + vb,
          attentionOut: try read(p + "attention.output.dense.weight", [h, h]),
          attentionOutBias: try read(p + "attention.output.dense.bias", [h]),
          attentionNormScale: try read(p + "attention.output.LayerNorm.weight", [h]),
          attentionNormShift: try read(p + "attention.output.LayerNorm.bias", [h]),
          ffnIn: try read(p + "intermediate.dense.weight", [i, h]),
          ffnInBias: try read(p + "intermediate.dense.bias", [i]),
          ffnOut: try read(p + "output.dense.weight", [h, i]),
          ffnOutBias: try read(p + "output.dense.bias", [h]),
          outputNormScale: try read(p + "output.LayerNorm.weight", [h]),
          outputNormShift: try read(p + "output.LayerNorm.bias", [h])))
    }
  }
}
