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

  /// The rows of a row's word n-grams, for `features(variant:original:)`: `byOrder[o − 1][p]`
  /// is the row of the order-o n-gram starting at word p (−1: not in the vocabulary).
  public struct NgramRows: Sendable {
    public var byOrder: [[Int32]]
  }

  /// The rows of the word n-grams (orders 1…`wordNgrams`) of a row given as word keys.
  public mutating func ngramRows(wordKeys keys: [UInt64]) -> NgramRows {
    let index = vocabulary.index
    let orders = max(1, extractor.config.wordNgrams)
    var byOrder = [keys.map { index.row($0) }]
    for o in stride(from: 2, through: orders, by: 1) {
      var rows = [Int32](repeating: -1, count: max(0, keys.count - o + 1))
      for p in rows.indices {
        var h = keys[p]
        for j in 1..<o { h = FNV1a.combine(h, keys[p + j], tag: UInt8(j + 1)) }
        rows[p] = index.row(h)
      }
      byOrder.append(rows)
    }
    return NgramRows(byOrder: byOrder)
  }

  /// The features of a variant of a row, the same as `features(wordKeys:)` of its keys:
  /// an n-gram whose words are consecutive words of the row takes its row from
  /// `original` (that row's `ngramRows`), and only the n-grams an edit made are looked up.
  public mutating func features(
    variant: [KeyAugmenter.Token], original: NgramRows, into out: inout SparseFeatures
  ) {
    let index = vocabulary.index
    let orders = max(1, extractor.config.wordNgrams)
    rowScratch.removeAll(keepingCapacity: true)
    var known = 0
    for t in variant {
      let r = t.position >= 0 ? original.byOrder[0][Int(t.position)] : index.row(t.key)
      if r >= 0 {
        rowScratch.append(r)
        known += 1
      }
    }
    let n = variant.count
    for t in 0..<n {
      var h = variant[t].key
      let p = variant[t].position
      var consecutive = p >= 0
      var o = 2
      while o <= orders, t + o - 1 < n {
        let next = variant[t + o - 1]
        h = FNV1a.combine(h, next.key, tag: UInt8(o))
        consecutive = consecutive && next.position == p + Int32(o - 1)
        let r = consecutive ? original.byOrder[o - 1][Int(p)] : index.row(h)
        if r >= 0 { rowScratch.append(r) }
        o += 1
      }
    }
    weigh(tokens: n, known: known, into: &out)
  }

  /// Tf-idf and bag weights of the extractor's current keys.
  private mutating func weigh(into out: inout SparseFeatures) {
    rowScratch.removeAll(keepingCapacity: true)
    let index = vocabulary.index
    var known = 0
    for k in extractor.wordKeys {
      let r = index.row(k)
      if r >= 0 {
        rowScratch.append(r)
        known += 1
      }
    }
    for k in extractor.otherKeys {
      let r = index.row(k)
      if r >= 0 { rowScratch.append(r) }
    }
    weigh(tokens: extractor.wordKeys.count, known: known, into: &out)
  }

  /// Tf-idf and bag weights of the rows in `rowScratch` (words and n-grams, with repeats),
  /// from a text of `tokens` words of which `known` are in the vocabulary.
  private mutating func weigh(tokens: Int, known: Int, into out: inout SparseFeatures) {
    out.wideRows.removeAll(keepingCapacity: true)
    out.wideValues.removeAll(keepingCapacity: true)
    out.bagRows.removeAll(keepingCapacity: true)
    out.bagWeights.removeAll(keepingCapacity: true)
    out.tokens = tokens
    out.knownTokens = known
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
