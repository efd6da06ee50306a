import Foundation

/// The shape of a BERT-family encoder, read from a Hugging Face `config.json`.
///
/// Every field is required except `type_vocab_size` (default 2), `layer_norm_eps`
/// (default 1e-12) and `hidden_act` (default `gelu`). `hidden_size` must be a multiple of
/// `num_attention_heads`; each head then has `hidden / heads` dimensions.
public struct BertConfig: Sendable, Equatable {
  /// `num_hidden_layers`: transformer blocks.
  public var layers: Int
  /// `hidden_size`: H, the width of every token's vector.
  public var hidden: Int
  /// `num_attention_heads`: h; each head attends in H / h dimensions.
  public var heads: Int
  /// `intermediate_size`: I, the width of the feed-forward layer.
  public var intermediate: Int
  /// `hidden_act`: the feed-forward activation (only the erf form of GELU is supported).
  public var activation: String
  /// `max_position_embeddings`: the most tokens a sequence can hold.
  public var maxPositions: Int
  /// `vocab_size`: rows of the word-embedding table.
  public var vocabSize: Int
  /// `type_vocab_size`: rows of the token-type (segment) table.
  public var typeVocabSize: Int
  /// `layer_norm_eps`: ε in LayerNorm's 1 / √(σ² + ε).
  public var layerNormEps: Float

  public init(
    layers: Int, hidden: Int, heads: Int, intermediate: Int, activation: String = "gelu",
    maxPositions: Int, vocabSize: Int, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12
  ) {
    self.layers = layers
    self.hidden = hidden
    self.heads = heads
    self.intermediate = intermediate
    self.activation = activation
    self.maxPositions = maxPositions
    self.vocabSize = vocabSize
    self.typeVocabSize = typeVocabSize
    self.layerNormEps = layerNormEps
  }

  /// The width of one attention head, H / h.
  public var headSize: Int { hidden / heads }

  /// Reads and checks `path` (a `config.json`).
  public static func load(path: String) throws -> BertConfig {
    try parse(bytes: FileBytes.read(path), path: path)
  }

  /// Parses and checks the JSON text of a `config.json`; errors name `path`.
  public static func parse(bytes: [UInt8], path: String) throws -> BertConfig {
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
      let json = object as? [String: Any]
    else { throw InputError(path: path, "not a JSON object") }

    func int(_ key: String, default value: Int? = nil) throws -> Int {
      guard let raw = json[key] else {
        if let value { return value }
        throw InputError(path: path, "missing \"\(key)\"")
      }
      // `raw is Bool` holds for the number 1 on Linux's Foundation: tell JSON's true and
      // false by their Objective-C type code instead.
      guard let n = raw as? NSNumber, String(cString: n.objCType) != "c",
        let i = Int(exactly: n.doubleValue),
        i > 0
      else { throw InputError(path: path, "\"\(key)\" must be a positive integer, found \(raw)") }
      return i
    }

    let eps: Float
    if let raw = json["layer_norm_eps"] {
      guard let n = raw as? NSNumber, n.doubleValue > 0, n.doubleValue < 1 else {
        throw InputError(path: path, "\"layer_norm_eps\" must be in (0, 1), found \(raw)")
      }
      eps = n.floatValue
    } else {
      eps = 1e-12
    }
    let act = json["hidden_act"] as? String ?? "gelu"
    guard act == "gelu" else {
      throw InputError(
        path: path, "\"hidden_act\" is \"\(act)\"; only \"gelu\" (the erf form) is supported")
    }
    if let kind = json["position_embedding_type"] as? String, kind != "absolute" {
      throw InputError(
        path: path, "\"position_embedding_type\" is \"\(kind)\"; only \"absolute\" is supported")
    }
    let config = BertConfig(
      layers: try int("num_hidden_layers"), hidden: try int("hidden_size"),
      heads: try int("num_attention_heads"), intermediate: try int("intermediate_size"),
      activation: act, maxPositions: try int("max_position_embeddings"),
      vocabSize: try int("vocab_size"), typeVocabSize: try int("type_vocab_size", default: 2),
      layerNormEps: eps)
    guard config.hidden % config.heads == 0 else {
      throw InputError(
        path: path,
        "\"hidden_size\" \(config.hidden) is not a multiple of \"num_attention_heads\" \(config.heads)"
      )
    }
    return config
  }
}
