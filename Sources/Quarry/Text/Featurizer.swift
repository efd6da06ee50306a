import Foundation

/// One document's features, as two sparse vectors over vocabulary rows:
/// - `wide`: tf-idf, x_f = tf′(f) · idf(f) / ‖tf′ · idf‖₂ with tf′ = 1 + ln tf (sublinear);
/// - `bag`: the word rows with weights summing to 1 for the embedding bag,
///   a_w = tf′(w) · idf(w) / Σ_v tf′(v) · idf(v).
public struct SparseFeatures: Sendable, Equatable {
  public var wideRows: [Int32] = []
  public var wideValues: [Float] = []
  public var bagRows: [Int32] = []
  public var bagWeights: [Float] = []
  /// Word tokens in the text, and those the vocabulary knows.
  public var tokens = 0
  public var knownTokens = 0

  public init() {}
}

/// Maps texts to `SparseFeatures` under a fixed vocabulary. Holds scratch buffers:
/// one per thread.
public struct Featurizer {
  public let vocabulary: Vocabulary
  private var extractor: FeatureExtractor
  private var rowScratch: [Int32] = []

  public init(vocabulary: Vocabulary, config: FeatureConfig) {
    self.vocabulary = vocabulary
    self.extractor = FeatureExtractor(config: config)
  }

  public mutating func features(_ text: String) -> SparseFeatures {
    var out = SparseFeatures()
    features(text, into: &out)
    return out
  }

  public mutating func features(_ text: String, into out: inout SparseFeatures) {
    extractor.extract(text)
    weigh(into: &out)
  }

  /// Features of a token sequence given as word keys (see `KeyAugmenter`).
  public mutating func features(wordKeys: [UInt64], into out: inout SparseFeatures) {
    extractor.extract(wordKeys: wordKeys)
    weigh(into: &out)
  }

  /// The word keys of a text, as `features` sees them.
  public mutating func wordKeys(_ text: String) -> [UInt64] {
    extractor.extract(text)
    return extractor.wordKeys
  }

  /// Tf-idf and bag weights of the extractor's current keys.
  private mutating func weigh(into out: inout SparseFeatures) {
    out.wideRows.removeAll(keepingCapacity: true)
    out.wideValues.removeAll(keepingCapacity: true)
    out.bagRows.removeAll(keepingCapacity: true)
    out.bagWeights.removeAll(keepingCapacity: true)
    out.tokens = extractor.wordKeys.count
    out.knownTokens = 0

    rowScratch.removeAll(keepingCapacity: true)
    let index = vocabulary.index
    for k in extractor.wordKeys {
      let r = index.row(k)
      if r >= 0 {
        rowScratch.append(r)
        out.knownTokens += 1
      }
    }
    for k in extractor.otherKeys {
      let r = index.row(k)
      if r >= 0 { rowScratch.append(r) }
    }
    rowScratch.withUnsafeMutableBufferPointer { sortRows($0) }
    // Run-length over sorted rows gives term frequencies.
    var i = 0
    var norm2: Float = 0
    var bagTotal: Float = 0
    let sublinear = extractor.config.sublinearTF
    let wordCount = Int32(vocabulary.wordCount)
    while i < rowScratch.count {
      let r = rowScratch[i]
      var j = i + 1
      while j < rowScratch.count, rowScratch[j] == r { j += 1 }
      let tf = Float(j - i)
      let w = (sublinear ? 1 + logf(tf) : tf) * vocabulary.idf[Int(r)]
      out.wideRows.append(r)
      out.wideValues.append(w)
      norm2 += w * w
      if r < wordCount {
        out.bagRows.append(r)
        out.bagWeights.append(w)
        bagTotal += w
      }
      i = j
    }
    if norm2 > 0 {
      let inv = 1 / norm2.squareRoot()
      for t in out.wideValues.indices { out.wideValues[t] *= inv }
    }
    if bagTotal > 0 {
      let inv = 1 / bagTotal
      for t in out.bagWeights.indices { out.bagWeights[t] *= inv }
    }
  }
}
