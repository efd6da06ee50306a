/// Fine-tuned encoder layers as tensors of a `TensorFile` (a model file or the tuning
/// cache): layer i's tensors are named `<prefix>.<i>.<name>`, with the names below.
extension BertLayerWeights {
  /// The file names of `tensorPaths`, in the same order.
  static let tensorNames = [
    "qkv", "qkv_bias", "attention_out", "attention_out_bias", "attention_norm_scale",
    "attention_norm_shift", "ffn_in", "ffn_in_bias", "ffn_out", "ffn_out_bias",
    "output_norm_scale", "output_norm_shift",
  ]

  /// The length of each of `tensorPaths` for hidden width H and feed-forward width I:
  /// 3H×H, 3H, H×H, H, H, H, I×H, I, H×I, H, H, H.
  static func tensorCounts(hidden h: Int, intermediate i: Int) -> [Int] {
    [3 * h * h, 3 * h, h * h, h, h, h, i * h, i, h * i, h, h, h]
  }

  /// A 64-bit checksum (hex) of the values of `layers`, in tensor order.
  static func checksum(_ layers: [BertLayerWeights]) -> String {
    var sum = Checksum.Stream()
    for l in layers {
      for p in tensorPaths {
        l[keyPath: p].withUnsafeBytes { sum.update($0) }
      }
    }
    return String(sum.finish(), radix: 16)
  }

  static func add(_ layers: [BertLayerWeights], prefix: String, to t: inout TensorFile.Builder) {
    for (i, l) in layers.enumerated() {
      for (name, p) in zip(tensorNames, tensorPaths) {
        t.add("\(prefix).\(i).\(name)", l[keyPath: p])
      }
    }
  }

  /// Reads `count` layers of hidden width `hidden`; the feed-forward width is taken from
  /// the first layer's `ffn_in` and every other length checked against it.
  static func read(
    _ file: TensorFile.Parsed, prefix: String, count: Int, hidden h: Int,
    in entries: [ModelMetadata.TensorEntry]
  ) throws -> [BertLayerWeights] {
    guard count > 0 else { return [] }
    guard count <= 64 else { throw file.fail("\(count) tuned encoder layers") }
    guard h > 0, let ffn = entries.first(where: { $0.name == "\(prefix).0.ffn_in" }),
      ffn.count % h == 0, ffn.count > 0, ffn.count <= file.section.count / 4, h <= 1 << 16
    else { throw file.fail("tuned encoder layers: no \(prefix).0.ffn_in of width \(h)") }
    let counts = tensorCounts(hidden: h, intermediate: ffn.count / h)
    // Every tensor must lie in the section: together they cannot be larger than it (so a
    // corrupt directory pointing many tensors at the same bytes allocates nothing).
    let bytes = counts.reduce(0) { $0 + $1 } * count * MemoryLayout<Float>.size
    guard bytes <= file.section.count else {
      throw file.fail("\(count) tuned encoder layers of width \(h) need \(bytes) bytes")
    }
    return try (0..<count).map { i in
      var l = BertLayerWeights.empty
      for (k, p) in tensorPaths.enumerated() {
        l[keyPath: p] = try file.floats("\(prefix).\(i).\(tensorNames[k])", counts[k], in: entries)
      }
      return l
    }
  }

  /// A block with no values, to be filled tensor by tensor.
  static var empty: BertLayerWeights {
    BertLayerWeights(
      qkv: [], qkvBias: [], attentionOut: [], attentionOutBias: [], attentionNormScale: [],
      attentionNormShift: [], ffnIn: [], ffnInBias: [], ffnOut: [], ffnOutBias: [],
      outputNormScale: [], outputNormShift: [])
  }

  /// Whether every tensor has the length `config` calls for.
  func fits(_ config: BertConfig) -> Bool {
    let counts = BertLayerWeights.tensorCounts(
      hidden: config.hidden, intermediate: config.intermediate)
    return zip(BertLayerWeights.tensorPaths, counts).allSatisfy { self[keyPath: $0].count == $1 }
  }
}
