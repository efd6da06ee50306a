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
  private var keyScratch: [UInt64] = []
  /// Per-row counts of `features(variant:original:)` and `weighTallied`, made on first use.
  private var counter: RowCounter? = nil

  /// Whether a text's rows are tallied in a table of every row (`weighTallied`) rather
  /// than sorted. The table costs O(feature count) to make, once per featurizer, and then
  /// saves a sort per text: worth it over many texts, not for one.
  let tallies: Bool

  public init(vocabulary: Vocabulary, config: FeatureConfig, tallies: Bool = false) {
    self.vocabulary = vocabulary
    self.extractor = FeatureExtractor(config: config)
    self.tallies = tallies
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
  /// is the row of the order-o n-gram starting at word p (−1: not in the vocabulary); and
  /// the distinct rows among them in order, with their counts tf and weights
  /// (1 + ln tf) · idf (or tf · idf), which a variant reuses for every row whose count
  /// its edits left as it was.
  public struct NgramRows: Sendable {
    public var byOrder: [[Int32]]
    public var distinct: [Int32] = []
    public var counts: [Int32] = []
    public var weights: [Float] = []

    public init(byOrder: [[Int32]]) {
      self.byOrder = byOrder
    }

    /// Whether `row` is one of `distinct` (binary search).
    func contains(_ row: Int32) -> Bool {
      var lo = 0
      var hi = distinct.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if distinct[mid] < row { lo = mid + 1 } else { hi = mid }
      }
      return lo < distinct.count && distinct[lo] == row
    }
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
    var out = NgramRows(byOrder: byOrder)
    var all = byOrder.joined().filter { $0 >= 0 }
    all.withUnsafeMutableBufferPointer { sortRows($0) }
    var i = 0
    while i < all.count {
      var j = i + 1
      while j < all.count, all[j] == all[i] { j += 1 }
      out.distinct.append(all[i])
      out.counts.append(Int32(j - i))
      out.weights.append(weight(row: all[i], count: Int32(j - i)))
      i = j
    }
    return out
  }

  /// (1 + ln tf) · idf(row) with sublinear tf, else tf · idf(row).
  @inline(__always)
  private func weight(row r: Int32, count: Int32) -> Float {
    let tf = Float(count)
    return (extractor.config.sublinearTF ? 1 + logf(tf) : tf) * vocabulary.idf[Int(r)]
  }

  /// The features of a variant of a row, the same as `features(wordKeys:)` of its keys:
  /// an n-gram whose words are consecutive words of the row takes its row from
  /// `original` (that row's `ngramRows`), and only the n-grams an edit made are looked up.
  /// Rows are counted in a table indexed by row, not sorted: the row's own distinct rows
  /// come out in order by walking `original.distinct`, and only the few rows new to the
  /// variant are sorted and merged in. Same result as sorting; on R8 sorting took a
  /// quarter of the augmentation's time.
  public mutating func features(
    variant: [KeyAugmenter.Token], original: NgramRows, into out: inout SparseFeatures
  ) {
    let index = vocabulary.index
    let orders = max(1, extractor.config.wordNgrams)
    let counts = rowCounter().counts
    rowScratch.removeAll(keepingCapacity: true)  // rows looked up, not the row's own
    // The keys an edit made (words, then n-grams) are gathered and their slots
    // prefetched first, then looked up: one at a time, each lookup waited for memory.
    keyScratch.removeAll(keepingCapacity: true)
    var known = 0
    let n = variant.count
    for t in variant {
      if t.position >= 0 {
        let r = original.byOrder[0][Int(t.position)]
        if r >= 0 {
          counts[Int(r)] += 1
          known += 1
        }
      } else {
        index.prefetch(t.key)
        keyScratch.append(t.key)
      }
    }
    let newWords = keyScratch.count
    for t in 0..<n {
      var h = variant[t].key
      let p = variant[t].position
      var consecutive = p >= 0
      var o = 2
      while o <= orders, t + o - 1 < n {
        let next = variant[t + o - 1]
        h = FNV1a.combine(h, next.key, tag: UInt8(o))
        consecutive = consecutive && next.position == p + Int32(o - 1)
        if consecutive {
          let r = original.byOrder[o - 1][Int(p)]
          if r >= 0 { counts[Int(r)] += 1 }
        } else {
          index.prefetch(h)
          keyScratch.append(h)
        }
        o += 1
      }
    }
    for (i, k) in keyScratch.enumerated() {
      let r = index.row(k)
      if r >= 0 {
        rowScratch.append(r)
        counts[Int(r)] += 1
        if i < newWords { known += 1 }
      }
    }
    // Rows new to the variant, each once (marked by a negated count), then sorted.
    var fresh = 0
    for k in rowScratch.indices {
      let r = rowScratch[k]
      if counts[Int(r)] > 0 && !original.contains(r) {
        counts[Int(r)] = -counts[Int(r)]
        rowScratch[fresh] = r
        fresh += 1
      }
    }
    rowScratch.removeLast(rowScratch.count - fresh)
    rowScratch.withUnsafeMutableBufferPointer { sortRows($0) }
    // Merge the row's own rows (in order) with the new ones; every count back to 0.
    begin(tokens: n, known: known, into: &out)
    var a = 0
    var b = 0
    var norm2: Float = 0
    var bagTotal: Float = 0
    while a < original.distinct.count || b < rowScratch.count {
      let ra = a < original.distinct.count ? original.distinct[a] : Int32.max
      let rb = b < rowScratch.count ? rowScratch[b] : Int32.max
      if ra < rb {
        let c = counts[Int(ra)]
        if c > 0 {
          let w = c == original.counts[a] ? original.weights[a] : weight(row: ra, count: c)
          emit(ra, w, norm2: &norm2, bagTotal: &bagTotal, into: &out)
          counts[Int(ra)] = 0
        }
        a += 1
      } else {
        let c = -counts[Int(rb)]
        emit(rb, weight(row: rb, count: c), norm2: &norm2, bagTotal: &bagTotal, into: &out)
        counts[Int(rb)] = 0
        b += 1
      }
    }
    normalize(norm2: norm2, bagTotal: bagTotal, into: &out)
  }

  /// The featurizer's `RowCounter`, made on first use.
  private mutating func rowCounter() -> RowCounter {
    if let c = counter, c.count == vocabulary.featureCount { return c }
    let c = RowCounter(count: vocabulary.featureCount)
    counter = c
    return c
  }

  /// A count per vocabulary row and a two-level bitmap of the counted rows, all zero
  /// between uses. A class so that the table is not copied with the featurizer (a
  /// featurizer is one thread's, as its scratch is).
  final class RowCounter {
    let count: Int
    let counts: UnsafeMutablePointer<Int32>
    /// Bit r: row r is counted; bit w of `summary`: word w of `bits` is not zero.
    let bits: UnsafeMutablePointer<UInt64>
    let summary: UnsafeMutablePointer<UInt64>
    let summaryWords: Int

    init(count: Int) {
      self.count = count
      counts = .allocate(capacity: max(1, count))
      counts.initialize(repeating: 0, count: max(1, count))
      let words = (count + 63) / 64
      summaryWords = max(1, (words + 63) / 64)
      bits = .allocate(capacity: summaryWords * 64)
      bits.initialize(repeating: 0, count: summaryWords * 64)
      summary = .allocate(capacity: summaryWords)
      summary.initialize(repeating: 0, count: summaryWords)
    }

    deinit {
      counts.deallocate()
      bits.deallocate()
      summary.deallocate()
    }
  }

  /// Tf-idf and bag weights of the extractor's current keys.
  private mutating func weigh(into out: inout SparseFeatures) {
    rowScratch.removeAll(keepingCapacity: true)
    let index = vocabulary.index
    let words = extractor.wordKeys
    let others = extractor.otherKeys
    // The keys are looked up in order, words then n-grams, each key's slot prefetched 8
    // lookups early.
    let total = words.count + others.count
    @inline(__always) func key(_ j: Int) -> UInt64 {
      j < words.count ? words[j] : others[j - words.count]
    }
    for j in 0..<min(8, total) { index.prefetch(key(j)) }
    var known = 0
    for j in 0..<total {
      if j + 8 < total { index.prefetch(key(j + 8)) }
      let r = index.row(key(j))
      if r >= 0 {
        rowScratch.append(r)
        if j < words.count { known += 1 }
      }
    }
    weigh(tokens: words.count, known: known, into: &out)
  }

  /// Tf-idf and bag weights of the rows in `rowScratch` (words and n-grams, with repeats),
  /// from a text of `tokens` words of which `known` are in the vocabulary.
  private mutating func weigh(tokens: Int, known: Int, into out: inout SparseFeatures) {
    if tallies, rowScratch.count >= 64 {
      return weighTallied(tokens: tokens, known: known, into: &out)
    }
    begin(tokens: tokens, known: known, into: &out)
    rowScratch.withUnsafeMutableBufferPointer { sortRows($0) }
    // Run-length over sorted rows gives term frequencies.
    var i = 0
    var norm2: Float = 0
    var bagTotal: Float = 0
    while i < rowScratch.count {
      let r = rowScratch[i]
      var j = i + 1
      while j < rowScratch.count, rowScratch[j] == r { j += 1 }
      emit(r, weight(row: r, count: Int32(j - i)), norm2: &norm2, bagTotal: &bagTotal, into: &out)
      i = j
    }
    normalize(norm2: norm2, bagTotal: bagTotal, into: &out)
  }

  /// `weigh(tokens:known:into:)` by tallying rather than sorting: each row is counted in
  /// `RowCounter`'s table and marked in its bitmap, then the marked rows are read back in
  /// increasing order, two levels of bit words at a time. Same features as the sort.
  private mutating func weighTallied(tokens: Int, known: Int, into out: inout SparseFeatures) {
    let tally = rowCounter()
    let counts = tally.counts
    let bits = tally.bits
    let summary = tally.summary
    for r in rowScratch {
      let i = Int(r)
      counts[i] += 1
      bits[i >> 6] |= 1 << UInt64(i & 63)
      summary[i >> 12] |= 1 << UInt64((i >> 6) & 63)
    }
    begin(tokens: tokens, known: known, into: &out)
    var norm2: Float = 0
    var bagTotal: Float = 0
    for s in 0..<tally.summaryWords where summary[s] != 0 {
      var sw = summary[s]
      summary[s] = 0
      while sw != 0 {
        let w = s << 6 | sw.trailingZeroBitCount
        sw &= sw &- 1
        var word = bits[w]
        bits[w] = 0
        while word != 0 {
          let r = w << 6 | word.trailingZeroBitCount
          word &= word &- 1
          let c = counts[r]
          counts[r] = 0
          emit(
            Int32(r), weight(row: Int32(r), count: c), norm2: &norm2, bagTotal: &bagTotal,
            into: &out)
        }
      }
    }
    normalize(norm2: norm2, bagTotal: bagTotal, into: &out)
  }

  private func begin(tokens: Int, known: Int, into out: inout SparseFeatures) {
    out.wideRows.removeAll(keepingCapacity: true)
    out.wideValues.removeAll(keepingCapacity: true)
    out.bagRows.removeAll(keepingCapacity: true)
    out.bagWeights.removeAll(keepingCapacity: true)
    out.tokens = tokens
    out.knownTokens = known
  }

  /// Appends row `r` of weight `w` (rows in increasing order): a wide feature, and a bag
  /// word when it is a word.
  @inline(__always)
  private func emit(
    _ r: Int32, _ w: Float, norm2: inout Float, bagTotal: inout Float,
    into out: inout SparseFeatures
  ) {
    out.wideRows.append(r)
    out.wideValues.append(w)
    norm2 += w * w
    if r < Int32(vocabulary.wordCount) {
      out.bagRows.append(r)
      out.bagWeights.append(w)
      bagTotal += w
    }
  }

  /// x_f = w_f / ‖w‖₂ and a_w = w_w / Σ_v w_v.
  private func normalize(norm2: Float, bagTotal: Float, into out: inout SparseFeatures) {
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
