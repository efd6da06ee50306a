import Foundation

/// A training checkpoint: the `TrainerState` after an epoch, in the `TensorFile` container
/// (`FileKind.checkpoint`, version 1), with a fingerprint of everything the run was started
/// from (corpus, settings, initial weights) so that a resume against anything else is
/// refused. Written atomically, like the model file.
public enum CheckpointFile {
  public static let version: UInt32 = 1

  struct Metadata: TensorMetadata {
    var fingerprint: String
    var epoch: Int
    var step: Int
    /// Hexadecimal: JSON numbers lose 64-bit integers in some readers.
    var rngState: String
    var classes, dim, featureCount, wordCount: Int
    var encoderDim: Int?
    var dynamicsRows: Int
    var summaries: [EpochSummary]
    var bestEpoch: Int?
    var bestLoss: Float?
    /// The run's base learning rate (absent in older files: the configured one).
    var learningRate: Float?
    var tensors: [ModelMetadata.TensorEntry] = []
  }

  public static func encode(_ state: TrainerState, fingerprint: String) throws -> [UInt8] {
    var none: [UInt8] = []
    return TensorFile.concatenated(try parts(state, fingerprint: fingerprint, reusing: &none))
  }

  /// The file as `TensorFile.parts`, its tensor section built in `buffer`'s storage (which
  /// the section takes over; `buffer` is left empty).
  static func parts(
    _ state: TrainerState, fingerprint: String, reusing buffer: inout [UInt8]
  ) throws -> [[UInt8]] {
    let m = state.model
    let meta = Metadata(
      fingerprint: fingerprint, epoch: state.epoch, step: state.step,
      rngState: String(state.rngState, radix: 16), classes: m.classes, dim: m.dim,
      featureCount: m.featureCount, wordCount: m.wordCount, encoderDim: m.encoderDim,
      dynamicsRows: state.dynamics.rows,
      summaries: state.summaries, bestEpoch: state.best?.epoch, bestLoss: state.best?.loss,
      learningRate: state.learningRate)
    var t = TensorFile.Builder(reusing: &buffer)
    addWeights(&t, m, prefix: "")
    if let best = state.best { addWeights(&t, best.model, prefix: "best.") }
    t.add("order", state.order)
    t.add("dynamics.pgold", state.dynamics.pGold)
    t.add("dynamics.predicted", state.dynamics.predicted)
    return try TensorFile.parts(.checkpoint, version: version, metadata: meta, tensors: t)
  }

  private static func addWeights(_ t: inout TensorFile.Builder, _ m: Classifier, prefix: String) {
    t.add(prefix + "wide", m.wide)
    t.add(prefix + "embedding", m.embedding)
    t.add(prefix + "dense", m.dense)
    t.add(prefix + "bias", m.bias)
    if m.encoderDim > 0 { t.add(prefix + "encoder.weights", m.encoderWeights) }
  }

  /// Writes the states of a run, one an epoch, on a background thread while training goes
  /// on. `save` copies the state (into buffers kept from the last save, so no fresh pages
  /// are touched) and returns; the write of the last state must end before the next
  /// starts, and `finish` waits for it. A write's error comes out of the next `save` or of
  /// `finish`. The file at `path` always holds a whole checkpoint: the last one written.
  public final class Writer: @unchecked Sendable {
    let path: String
    let fingerprint: String
    /// Seconds between writes: a state saved sooner after the last write (or the start)
    /// is kept in memory only, and written by `flush` if the run stops early. 0: every
    /// state is written.
    let interval: Double
    private let queue = DispatchQueue(label: "quarry.checkpoint")
    // Touched only on `queue`, or while nothing runs on it (after `queue.sync`).
    private var snapshot: TrainerState? = nil
    private var buffer: [UInt8] = []
    private var failure: Error? = nil
    /// `snapshot` holds a state that is not on disk yet.
    private var pending = false
    private var lastWrite = ContinuousClock.now

    public init(path: String, fingerprint: String, interval: Double = 0) {
      self.path = path
      self.fingerprint = fingerprint
      self.interval = interval
    }

    public func save(_ state: TrainerState) throws {
      try finish()
      if var s = snapshot {
        // Refill the last snapshot's arrays in place: once `snapshot` lets go of them,
        // their storage is `s`'s alone.
        snapshot = nil
        Writer.refill(&s.model, from: state.model)
        if let b = state.best {
          if s.best == nil { s.best = b } else { Writer.refill(&s.best!.model, from: b.model) }
          s.best!.epoch = b.epoch
          s.best!.loss = b.loss
        } else {
          s.best = nil
        }
        s.epoch = state.epoch
        s.rngState = state.rngState
        s.order = state.order
        s.step = state.step
        s.summaries = state.summaries
        s.dynamics = state.dynamics
        s.learningRate = state.learningRate
        snapshot = s
      } else {
        snapshot = TrainerState(
          epoch: state.epoch, model: Writer.copy(state.model), rngState: state.rngState,
          order: state.order, step: state.step, summaries: state.summaries,
          best: state.best.map {
            .init(model: Writer.copy($0.model), epoch: $0.epoch, loss: $0.loss)
          },
          dynamics: state.dynamics, learningRate: state.learningRate)
      }
      let now = ContinuousClock.now
      guard interval <= 0 || (now - lastWrite).seconds >= interval else {
        pending = true
        return
      }
      lastWrite = now
      pending = false
      queue.async { [self] in write() }
    }

    /// Writes the kept state if it is not on disk yet (a run that stops early), then waits
    /// for the write.
    public func flush() throws {
      try finish()
      guard pending else { return }
      pending = false
      queue.sync { write() }
      try finish()
    }

    /// Waits for the last write; throws its error, if it had one.
    public func finish() throws {
      queue.sync {}
      if let failure { throw failure }
    }

    /// Writes `snapshot`; runs on `queue`.
    private func write() {
      guard let s = snapshot else { return }
      do {
        var parts = try CheckpointFile.parts(s, fingerprint: fingerprint, reusing: &buffer)
        try AtomicFile.write(parts: parts, to: path, kind: .checkpoint, sync: false)
        // Keep the section's storage for the next save (the only reference left to it).
        swap(&buffer, &parts[1])
      } catch {
        failure = error
      }
    }

    /// A copy of `m` whose arrays share no storage with it.
    static func copy(_ m: Classifier) -> Classifier {
      var c = m
      refill(&c, from: m)
      return c
    }

    /// `m`'s weights become `source`'s, written into `m`'s own storage.
    static func refill(_ m: inout Classifier, from source: Classifier) {
      func fill(_ a: inout [Float], _ b: [Float]) {
        if a.count != b.count { a = [Float](repeating: 0, count: b.count) }
        a.withUnsafeMutableBufferPointer { dst in
          b.withUnsafeBufferPointer { src in
            dst.baseAddress!.update(from: src.baseAddress!, count: src.count)
          }
        }
      }
      fill(&m.wide, source.wide)
      fill(&m.embedding, source.embedding)
      fill(&m.dense, source.dense)
      fill(&m.bias, source.bias)
      fill(&m.encoderWeights, source.encoderWeights)
    }
  }

  /// The state and the fingerprint it was saved with.
  public static func read(_ path: String) throws -> (state: TrainerState, fingerprint: String) {
    try decode(try FileBytes.read(path), path: path)
  }

  public static func decode(_ bytes: [UInt8], path: String) throws -> (
    state: TrainerState, fingerprint: String
  ) {
    let (file, meta) = try TensorFile.read(
      .checkpoint, bytes, path: path, maxVersion: version, as: Metadata.self)
    let fail = file.fail
    let (c, d, f, w, rows) =
      (meta.classes, meta.dim, meta.featureCount, meta.wordCount, meta.dynamicsRows)
    let h = meta.encoderDim ?? 0
    guard c >= 2, c <= 1 << 16, d >= 1, d <= 1 << 16, f >= w, w >= 0, f <= 1 << 31,
      rows >= 0, rows <= 1 << 40,
      h >= 0, h <= 1 << 16,
      meta.epoch >= 0, meta.step >= 0, let rngState = UInt64(meta.rngState, radix: 16)
    else {
      throw fail("shape classes \(c), dim \(d), features \(f), words \(w), rows \(rows)")
    }
    let tensors = meta.tensors
    func weights(_ prefix: String) throws -> Classifier {
      guard
        let m = Classifier(
          classes: c, featureCount: f, wordCount: w, dim: d,
          wide: try file.floats(prefix + "wide", f * c, in: tensors),
          embedding: try file.floats(prefix + "embedding", w * d, in: tensors),
          dense: try file.floats(prefix + "dense", c * d, in: tensors),
          bias: try file.floats(prefix + "bias", c, in: tensors), encoderDim: h,
          encoderWeights: h > 0
            ? try file.floats(prefix + "encoder.weights", c * h, in: tensors) : [])
      else { throw fail("weights do not fit the shapes") }
      return m
    }
    let model = try weights("")
    var best: TrainerState.Best? = nil
    if let epoch = meta.bestEpoch, let loss = meta.bestLoss {
      best = .init(model: try weights("best."), epoch: epoch, loss: loss)
    }
    let orderCount = tensors.first { $0.name == "order" }?.count ?? -1
    let order = try file.int32s("order", orderCount, in: tensors)
    guard Set(order).count == order.count, order.allSatisfy({ $0 >= 0 && Int($0) < order.count })
    else { throw fail("the row order is not a permutation") }
    let cells = tensors.first { $0.name == "dynamics.pgold" }?.count ?? -1
    let pGold = try file.floats("dynamics.pgold", cells, in: tensors)
    let predicted = try file.int32s("dynamics.predicted", cells, in: tensors)
    let dynamics: Dynamics
    if cells == 0 {
      dynamics = Dynamics(rows: rows)
    } else {
      guard predicted.allSatisfy({ $0 >= 0 && Int($0) < c }),
        let dyn = Dynamics(rows: rows, pGold: pGold, predicted: predicted)
      else { throw fail("dynamics values") }
      dynamics = dyn
    }
    let state = TrainerState(
      epoch: meta.epoch, model: model, rngState: rngState, order: order, step: meta.step,
      summaries: meta.summaries, best: best, dynamics: dynamics,
      learningRate: meta.learningRate)
    return (state, meta.fingerprint)
  }
}
