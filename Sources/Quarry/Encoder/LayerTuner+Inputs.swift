import COpenBLAS

/// The hidden states at the input of an encoder's top layers for a list of texts, computed
/// once with the frozen bottom layers, so that tuning the top layers never re-runs them.
///
/// Text t's L_t rows sit at rows offsets[t]..<offsets[t] + L_t of `states`
/// ((Σ L_t)×H, in input order).
extension LayerTuner {
  public struct Inputs: Sendable {
    /// The index of the first layer these states feed (layers 0..<firstLayer made them).
    public var firstLayer: Int
    /// H.
    public var hidden: Int
    /// L_t: tokens per text, [CLS] and [SEP] included.
    public var lengths: [Int]
    /// The first row of each text in `states`.
    public var offsets: [Int]
    /// (Σ L_t)×H.
    public var states: [Float]

    public init(firstLayer: Int, hidden: Int, lengths: [Int], states: [Float]) {
      self.firstLayer = firstLayer
      self.hidden = hidden
      self.lengths = lengths
      self.offsets = packedOffsets(lengths)
      self.states = states
    }

    /// Texts.
    public var count: Int { lengths.count }
    /// Σ L_t.
    public var tokens: Int { lengths.reduce(0, +) }

    /// Batches of text indices, longest first (ties by index), as the encoder forms them.
    func sortedBatches(size: Int) -> [[Int]] {
      let order = lengths.indices.sorted {
        lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1)
      }
      return stride(from: 0, to: order.count, by: max(1, size)).map {
        Array(order[$0..<min($0 + max(1, size), order.count)])
      }
    }

    /// Copies the rows of `members` (text indices), back to back, to `out`.
    func gather(_ members: [Int], into out: UnsafeMutablePointer<Float>) {
      states.withUnsafeBufferPointer { s in
        var r = 0
        for t in members {
          (out + r * hidden).update(from: s.base + offsets[t] * hidden, count: lengths[t] * hidden)
          r += lengths[t]
        }
      }
    }
  }

  /// The hidden states at the input of the top `tunedLayers` layers for every sequence of
  /// `ids` (as `BertEncoder.tokenize` makes them): embeddings and layers
  /// 0..<(layers − tunedLayers), in batches of `batchSize` texts of similar length.
  /// `progress(done, total)` is called after each batch; `shouldStop` is asked before each
  /// (a yes throws `Stopped`). Throws an `InputError` for an
  /// empty, too long or out-of-vocabulary sequence.
  public static func inputs(
    encoder: BertEncoder, ids: [[Int32]], tunedLayers: Int, threads: Int = 2,
    batchSize: Int = 32, shouldStop: () -> Bool = { false },
    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
  ) throws -> Inputs {
    try encoder.check(ids: ids)
    let c = encoder.config
    let first = c.layers - min(max(tunedLayers, 0), c.layers)
    var inputs = Inputs(
      firstLayer: first, hidden: c.hidden, lengths: ids.map(\.count), states: [])
    inputs.states = [Float](repeating: 0, count: inputs.tokens * c.hidden)
    let batches = inputs.sortedBatches(size: batchSize)
    let mostRows = batches.map { $0.reduce(0) { $0 + ids[$1].count } }.max() ?? 0
    let previousThreads = openblas_get_num_threads()
    setBLASThreads(1)
    defer { setBLASThreads(Int(previousThreads)) }
    let ws = EncoderWorkspace(rows: mostRows, config: c)
    var done = 0
    let (offsets, h) = (inputs.offsets, c.hidden)
    try inputs.states.withUnsafeMutableBufferPointer { s in
      for members in batches {
        if shouldStop() { throw Stopped(.encoderTuning) }
        let lengths = members.map { ids[$0].count }
        _ = encoder.forward(
          packed: members.flatMap { ids[$0] }, lengths: lengths, workspace: ws,
          threads: max(1, threads), layerCount: first)
        var r = 0
        for (t, len) in zip(members, lengths) {
          (s.base + offsets[t] * h).update(from: ws.x + r * h, count: len * h)
          r += len
        }
        done += members.count
        progress(done, ids.count)
      }
    }
    return inputs
  }

  /// The mean-pooled output of the top layers `layers` (which must start at
  /// `inputs.firstLayer`) for every text of `inputs`: count×H, in input order. The same
  /// kernels as `BertEncoder.encode` with those layers in place, without re-running the
  /// layers below.
  public static func pooled(
    encoder: BertEncoder, inputs: Inputs, layers: [BertLayerWeights], threads: Int = 2,
    batchSize: Int = 32
  ) -> [Float] {
    let h = inputs.hidden
    let batches = inputs.sortedBatches(size: batchSize)
    let mostRows = batches.map { $0.reduce(0) { $0 + inputs.lengths[$1] } }.max() ?? 0
    let previousThreads = openblas_get_num_threads()
    setBLASThreads(1)
    defer { setBLASThreads(Int(previousThreads)) }
    let ws = EncoderWorkspace(rows: mostRows, config: encoder.config)
    var mean = [Float](repeating: 0, count: inputs.count * h)
    var cls = [Float](repeating: 0, count: inputs.count * h)
    mean.withUnsafeMutableBufferPointer { m in
      cls.withUnsafeMutableBufferPointer { c in
        for members in batches {
          let lengths = members.map { inputs.lengths[$0] }
          inputs.gather(members, into: ws.x)
          for l in layers {
            encoder.layerForward(l, lengths: lengths, workspace: ws, threads: max(1, threads))
          }
          poolForward(ws.x, lengths: lengths, hidden: h, rowOf: members, mean: m.base, cls: c.base)
        }
      }
    }
    return mean
  }
}
