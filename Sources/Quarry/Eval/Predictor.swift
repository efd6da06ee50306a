/// Class probabilities of raw texts under a model, featurized as in training (with the
/// model's encoder, when it has one: `encoder` must then be its weights, with the model's
/// tuned layers on top when it tuned some).
public struct Predictor {
  public let model: Model
  public let threads: Int
  public let encoder: FrozenEncoder?

  /// Texts per block when a caller scores a long input: each block is featurized and
  /// scored before the next, so that memory is bounded by a block, not by the input
  /// (`quarry predict`, the C library).
  public static let blockSize = 8192

  public init(model: Model, threads: Int = 2, encoder: FrozenEncoder? = nil) {
    self.model = model
    self.threads = max(1, threads)
    self.encoder = encoder
  }

  /// Row-major N×C probabilities of `texts`.
  public func probabilities(_ texts: [String]) throws -> [Float] {
    var m = featurize(texts)
    if model.classifier.encoderDim > 0 {
      guard let encoder, encoder.hidden == model.classifier.encoderDim else {
        throw InputError(
          path: model.metadata.encoder?.path ?? "--encoder",
          "this model reads an encoder's vectors: give its checkpoint folder with --encoder")
      }
      let info = model.metadata.encoder
      guard encoder.tunedLayers == info?.tunedLayers ?? 0,
        encoder.tunedChecksum == info?.tunedChecksum ?? ""
      else {
        throw InputError(
          path: encoder.directory,
          "the model tuned the encoder's top \(info?.tunedLayers ?? 0) layers; this encoder has \(encoder.tunedLayers) tuned layers of another checksum (load it with FrozenEncoder.load(for:) and .tuned(model.tunedLayers))"
        )
      }
      m.attachDense(try encoder.vectors(texts).vectors, dim: encoder.hidden)
    }
    setBLASThreads(1)
    return model.classifier.probabilities(m, threads: threads)
  }

  /// Features of `texts`, tokenized on `threads` threads.
  public func featurize(_ texts: [String]) -> FeatureMatrix {
    FeatureMatrix(
      texts: texts, vocabulary: model.vocabulary, config: model.metadata.config.features,
      threads: threads)
  }

  /// The k most probable classes of each row, best first (ties: the lower label first).
  /// A selection, not a sort: O(N·C·k).
  public func topK(_ probs: [Float], k: Int) -> [[(label: Int, probability: Float)]] {
    Predictor.topK(probs, classes: model.classifier.classes, k: k)
  }

  /// The classes of each row at or above their threshold, most probable first (ties: the
  /// lower label first), at most `k` (nil: all): a multi-label model's prediction.
  public static func aboveThresholds(_ probs: [Float], thresholds: [Float], k: Int? = nil)
    -> [[(label: Int, probability: Float)]]
  {
    let c = thresholds.count
    return MultiLabelMetrics.predictedSets(probs, thresholds: thresholds, k: k).enumerated().map {
      i, set in set.map { (Int($0), probs[i * c + Int($0)]) }
    }
  }

  /// `topK` of row-major N×`classes` probabilities.
  public static func topK(_ probs: [Float], classes c: Int, k: Int)
    -> [[(label: Int, probability: Float)]]
  {
    let n = probs.count / c
    let kk = min(max(1, k), c)
    return probs.withUnsafeBufferPointer { p in
      (0..<n).map { i in
        var best: [(label: Int, probability: Float)] = []
        best.reserveCapacity(kk + 1)
        for label in 0..<c {
          let q = p[i * c + label]
          // Insert after every kept entry at least as probable (they have lower labels).
          var at = best.count
          while at > 0 && best[at - 1].probability < q { at -= 1 }
          if at < kk {
            best.insert((label, q), at: at)
            if best.count > kk { best.removeLast() }
          }
        }
        return best
      }
    }
  }
}
