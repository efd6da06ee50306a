/// The features of many documents in compressed sparse row form: document d's wide
/// features are `wideRows[wideStart[d]..<wideStart[d+1]]` with their values, and its
/// embedding-bag words likewise. Built once per corpus, read by every epoch.
public struct FeatureMatrix: Sendable {
  public private(set) var wideStart: [Int] = [0]
  public private(set) var wideRows: [Int32] = []
  public private(set) var wideValues: [Float] = []
  public private(set) var bagStart: [Int] = [0]
  public private(set) var bagRows: [Int32] = []
  public private(set) var bagWeights: [Float] = []
  public private(set) var tokens = 0
  public private(set) var knownTokens = 0
  /// Dense features per document (an encoder's pooled vectors), row-major count×denseDim;
  /// denseDim is 0 when there are none.
  public private(set) var denseDim = 0
  public private(set) var dense: [Float] = []

  public init() {}

  public var count: Int { wideStart.count - 1 }

  /// How many texts make `Featurizer.tallies` pay for its table: the table holds 4 bytes
  /// and a bit per vocabulary row (about 1 MB on R8) and is zeroed when made, which by
  /// estimate costs what sorting the rows of some tens of texts does.
  static let tallyFrom = 256

  /// Calls `body` with the matrix as the kernels read it (`FeatureView`).
  public func withView<R>(_ body: (FeatureView) throws -> R) rethrows -> R {
    try wideStart.withUnsafeBufferPointer { wst in
      try wideRows.withUnsafeBufferPointer { wr in
        try wideValues.withUnsafeBufferPointer { wv in
          try bagStart.withUnsafeBufferPointer { bst in
            try bagRows.withUnsafeBufferPointer { br in
              try bagWeights.withUnsafeBufferPointer { bw in
                try dense.withUnsafeBufferPointer { dn in
                  try body(
                    FeatureView(
                      wide: CSRView(starts: wst.base, rows: wr.base, values: wv.base),
                      bag: CSRView(starts: bst.base, rows: br.base, values: bw.base),
                      dense: dn.base, denseDim: denseDim))
                }
              }
            }
          }
        }
      }
    }
  }

  /// Gives every document its dense row: `values` is count×`dim`.
  public mutating func attachDense(_ values: [Float], dim: Int) {
    precondition(dim >= 1 && values.count == count * dim)
    denseDim = dim
    dense = values
  }

  /// The dense row of document `d`.
  public func denseRow(_ d: Int) -> ArraySlice<Float> {
    dense[(d * denseDim)..<((d + 1) * denseDim)]
  }

  /// The documents `docs`, in that order, copied slice by slice.
  public func rows(_ docs: [Int]) -> FeatureMatrix {
    var m = FeatureMatrix()
    m.denseDim = denseDim
    for d in docs {
      if denseDim > 0 { m.dense.append(contentsOf: denseRow(d)) }
      let w = wideStart[d]..<wideStart[d + 1]
      m.wideRows.append(contentsOf: wideRows[w])
      m.wideValues.append(contentsOf: wideValues[w])
      m.wideStart.append(m.wideRows.count)
      let b = bagStart[d]..<bagStart[d + 1]
      m.bagRows.append(contentsOf: bagRows[b])
      m.bagWeights.append(contentsOf: bagWeights[b])
      m.bagStart.append(m.bagRows.count)
    }
    return m
  }

  /// Appends a document; with dense features, `dense` is its row.
  public mutating func append(_ f: SparseFeatures, dense row: ArraySlice<Float> = []) {
    if !row.isEmpty || denseDim > 0 {
      precondition(count == 0 || row.count == denseDim)
      denseDim = row.count
      dense.append(contentsOf: row)
    }
    wideRows.append(contentsOf: f.wideRows)
    wideValues.append(contentsOf: f.wideValues)
    wideStart.append(wideRows.count)
    bagRows.append(contentsOf: f.bagRows)
    bagWeights.append(contentsOf: f.bagWeights)
    bagStart.append(bagRows.count)
    tokens += f.tokens
    knownTokens += f.knownTokens
  }

  /// Featurizes `texts` under `vocabulary`, on `threads` threads in contiguous pieces
  /// (joined in order, so the result does not depend on the thread count). From
  /// `tallyFrom` texts on, a piece's featurizer tallies rows rather than sorting them.
  public init(texts: [String], vocabulary: Vocabulary, config: FeatureConfig, threads: Int = 1) {
    let parts = texts.count >= 1024 ? max(1, threads) : 1
    if parts == 1 {
      var featurizer = Featurizer(
        vocabulary: vocabulary, config: config, tallies: texts.count >= FeatureMatrix.tallyFrom)
      var scratch = SparseFeatures()
      for t in texts {
        featurizer.features(t, into: &scratch)
        append(scratch)
      }
      return
    }
    var pieces = [FeatureMatrix](repeating: FeatureMatrix(), count: parts)
    pieces.withUnsafeMutableBufferPointer { out in
      parallelFor(parts) { t in
        let r = chunk(texts.count, part: t, parts: parts)
        out[t] = FeatureMatrix(texts: Array(texts[r]), vocabulary: vocabulary, config: config)
      }
    }
    self = pieces[0]
    for p in pieces.dropFirst() { append(contentsOf: p) }
  }
}

extension FeatureMatrix {
  /// Appends the documents of `other` after these.
  public mutating func append(contentsOf other: FeatureMatrix) {
    if other.count > 0 && (other.denseDim > 0 || denseDim > 0) {
      precondition(count == 0 || other.denseDim == denseDim)
      denseDim = other.denseDim
      dense += other.dense
    }
    let wideBase = wideRows.count
    let bagBase = bagRows.count
    wideRows += other.wideRows
    wideValues += other.wideValues
    wideStart += other.wideStart.dropFirst().map { $0 + wideBase }
    bagRows += other.bagRows
    bagWeights += other.bagWeights
    bagStart += other.bagStart.dropFirst().map { $0 + bagBase }
    tokens += other.tokens
    knownTokens += other.knownTokens
  }
}
