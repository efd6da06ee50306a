import Foundation

/// The training loop: minibatch SGD with a linearly decaying learning rate, and in every
/// epoch after the warm-up, a second pass over the mined boundary rows and their
/// augmented variants with focal loss. Each epoch visits the blocks of `RowBlocks` in a
/// seeded order (a corpus in memory is one block), and for each block:
///
///   1. every row, shuffled, with class-weighted cross-entropy (`sgd`, one `sgdStep` a
///      batch; the step count t drives lr_t = lr · max(0, 1 − t / total steps));
///   2. (after `mineWarmup` epochs) the rows the miner picks from the model's scores of
///      the block before step 1, plus their variants from the block's `augment`, with
///      focal loss (γ = `focalGamma`) at the last rate of step 1.
///
/// Then, once per epoch: a check that the epoch's mean loss is finite and not above the
/// first epoch's, and that the dense layer is finite (a non-finite sparse row shows in the
/// next epoch's loss; every parameter is checked once more at the end). A run that fails
/// it is diverging: it starts again from the initial model at half the base rate, at most
/// `maxRestarts` times. With `recordDynamics`
/// (one block), a forward pass over every row, whose p(gold) goes into the training
/// dynamics and whose probabilities are the next epoch's scores; the validation set, where
/// the epoch with the lowest loss is kept; and the state, to `Control.checkpoint`.
///
/// One SGD step over a batch of B documents (`sgdStep`):
///   forward:  H = bag(E) (B×D) · Z = H·W_dᵀ + b (`linearForward`, a fixed-order SIMD loop,
///             not BLAS: the same bytes on every CPU) · Z += X·W_w (sparse) · P = softmax(Z)
///   backward: G = ∂L/∂Z · dW_d = Gᵀ·H, dH = G·W_d (`linearBackward`) ·
///             W_w[f] −= lr·x_f·G_i and E[w] −= lr·η·a_w·dH_i (sparse rows) · W_d, b −= lr·…
/// The sparse updates are split among threads by row (row mod T), each applied in batch
/// order, so the result does not depend on the thread count.
public struct Trainer {
  public let config: TrainingConfig

  public init(config: TrainingConfig) {
    self.config = config
  }

  public struct Result: Sendable {
    public var model: Classifier
    public var epochs: [EpochSummary]
    public var bestEpoch: Int
    public var dynamics: Dynamics
    /// The base rate the model was trained at: `config.learningRate`, halved per restart.
    public var learningRate: Float
  }

  /// How many times a diverging run starts again at half the rate before it gives up.
  public static let maxRestarts = 3

  /// Makes the augmented variants of training rows (by index), featurized, labels kept.
  public typealias Augment = (_ rows: [Int], _ epoch: Int) -> LabeledData

  /// The model that `valid` scores, from the one in training: itself, or with a part
  /// trained apart joined to it (a tuned encoder's head, whose vectors `valid` carries).
  public typealias Scored = (Classifier) -> Classifier

  /// Trains on rows held in memory (`InMemoryRows`).
  public func train(
    model initial: Classifier, train: LabeledData, valid: LabeledData?,
    augment: Augment? = nil, recordDynamics: Bool = true, control: Control = Control(),
    validScored: Scored? = nil, progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> Result {
    try self.train(
      model: initial, blocks: InMemoryRows(train, classes: initial.classes, augment: augment),
      valid: valid, recordDynamics: recordDynamics, control: control, validScored: validScored,
      progress: progress)
  }

  /// Trains on `blocks`. Dynamics, `control.resume` and `control.checkpoint` need rows
  /// held in memory (`blocks.rereads` false).
  public func train(
    model initial: Classifier, blocks: some RowBlocks, valid: LabeledData?,
    recordDynamics: Bool = true, control: Control = Control(), validScored: Scored? = nil,
    progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> Result {
    var config = self.config
    var control = control
    if let rate = control.resume?.learningRate { config.learningRate = rate }
    var restarts = 0
    while true {
      do {
        let result = try Trainer(config: config).run(
          model: initial, blocks: blocks, valid: valid,
          recordDynamics: recordDynamics && !blocks.rereads, control: control,
          validScored: validScored, progress: progress)
        try control.finish()
        return result
      } catch let TrainingError.diverged(epoch, lr, loss, firstLoss)
        where restarts < Self.maxRestarts
      {
        restarts += 1
        config.learningRate = lr / 2
        control.resume = nil
        progress(
          .restarted(epoch: epoch, loss: loss, firstLoss: firstLoss, learningRate: lr / 2))
      } catch {
        try? control.stopped()
        try? control.finish()
        throw error
      }
    }
  }

  /// The learning-rate schedule: lr_t = lr · max(0, 1 − t / total steps).
  struct Schedule {
    let base: Float
    let totalSteps: Double
    /// Steps taken so far, over every block of every epoch.
    var step = 0
    /// The rate of the last step of a main pass (the mined pass keeps it).
    var lr: Float

    init(base: Float, totalSteps: Int) {
      self.base = base
      self.totalSteps = Double(max(1, totalSteps))
      self.lr = base
    }

    /// lr_t, then t += 1.
    mutating func next() -> Float {
      lr = base * Float(max(0, 1 - Double(step) / totalSteps))
      step += 1
      return lr
    }
  }

  /// What crosses batches and epochs; at the end of an epoch, all of it but the buffers
  /// and the scores is the checkpoint (`TrainerState`).
  private struct Loop {
    var model: Classifier
    var rng: SplitMix64
    /// The rows' order when they are held in memory; each epoch shuffles it in place.
    var order: [Int]
    var schedule: Schedule
    var scratch: Scratch
    var summaries: [EpochSummary] = []
    var best: TrainerState.Best? = nil
    var dynamics: Dynamics
    /// The model's probabilities of the next block's rows, when already known.
    var scores: [Float]? = nil
    let classWeight: [Float]
    let miner: Miner
    /// The rows the dynamics follow (the one block held in memory), when recorded.
    let held: LabeledData?

    func state(after epoch: Int) -> TrainerState {
      TrainerState(
        epoch: epoch, model: model, rngState: rng.state, order: order.map { Int32($0) },
        step: schedule.step, summaries: summaries, best: best, dynamics: dynamics,
        learningRate: schedule.base)
    }
  }

  /// What an epoch's blocks add up to, for its summary and its progress event.
  private struct Tally {
    var loss: Double = 0
    var done = 0
    var minedPerClass: [Int]? = nil
    var minedTrained = 0
    var miningTime = Duration.zero
    var passTime = Duration.zero
  }

  private func run(
    model initial: Classifier, blocks: some RowBlocks, valid: LabeledData?,
    recordDynamics: Bool, control: Control, validScored: Scored?,
    progress: (TrainingEvent) -> Void
  ) throws -> Result {
    let bs = max(1, config.batchSize)
    let rows = blocks.blockRows.reduce(0, +)
    var loop = Loop(
      model: initial, rng: SplitMix64(seed: config.seed &+ 0x5151),
      order: blocks.rereads ? [] : Array(0..<rows),
      schedule: Schedule(
        base: config.learningRate,
        totalSteps: config.epochs * blocks.blockRows.reduce(0) { $0 + ($1 + bs - 1) / bs }),
      scratch: Scratch(
        batch: bs, dim: initial.dim, classes: initial.classes, encoderDim: initial.encoderDim),
      dynamics: Dynamics(rows: blocks.rereads ? 0 : rows),
      // One-vs-rest: every row weighs 1, and a class's positive rows weigh α_c in its loss.
      classWeight: initial.output == .sigmoid
        ? [Float](repeating: 1, count: initial.classes)
        : config.classWeighting.weights(counts: blocks.classCounts),
      miner: Miner(config: config, classes: initial.classes),
      held: recordDynamics ? try blocks.block(0).data : nil)
    if initial.output == .sigmoid {
      let alpha = config.classWeighting.positiveWeights(counts: blocks.classCounts, rows: rows)
      loop.scratch.positiveWeight.update(from: alpha, count: alpha.count)
    }
    var firstEpoch = 1
    if let state = control.resume {
      let m = initial
      guard !blocks.rereads, state.order.count == rows,
        state.dynamics.rows == rows || state.dynamics.epochs == 0,
        state.model.classes == m.classes, state.model.featureCount == m.featureCount,
        state.model.wordCount == m.wordCount, state.model.dim == m.dim,
        state.model.encoderDim == m.encoderDim
      else { throw TrainingError.stateMismatch }
      loop.model = state.model
      loop.model.output = initial.output
      loop.rng = SplitMix64(seed: state.rngState)
      loop.order = state.order.map(Int.init)
      loop.schedule.step = state.step
      loop.summaries = state.summaries
      loop.best = state.best
      loop.dynamics = state.dynamics
      firstEpoch = state.epoch + 1
    }
    var blockOrder = Array(blocks.blockRows.indices)
    for epoch in stride(from: firstEpoch, through: max(1, config.epochs), by: 1) {
      loop.rng.shuffle(&blockOrder)
      try self.epoch(
        epoch, &loop, blocks: blocks, blockOrder: blockOrder, valid: valid,
        validScored: validScored, control: control, progress: progress)
      control.afterEpoch?(epoch, loop.model)
      try control.checkpoint?(loop.state(after: epoch))
    }
    guard loop.model.isFinite else {
      throw TrainingError.diverged(
        epoch: loop.summaries.count, learningRate: config.learningRate, loss: .nan,
        firstLoss: loop.summaries.first?.loss ?? .nan)
    }
    return Result(
      model: loop.best?.model ?? loop.model, epochs: loop.summaries,
      bestEpoch: loop.best?.epoch ?? loop.summaries.count, dynamics: loop.dynamics,
      learningRate: config.learningRate)
  }

  /// One epoch: each block's main and mined passes, the finite check, the dynamics (whose
  /// probabilities are the next epoch's scores), validation and the epoch's summary.
  private func epoch(
    _ epoch: Int, _ loop: inout Loop, blocks: some RowBlocks, blockOrder: [Int],
    valid: LabeledData?, validScored: Scored?, control: Control,
    progress: (TrainingEvent) -> Void
  ) throws {
    let clock = ContinuousClock()
    let start = clock.now
    let threads = max(1, config.threads)
    let mining = config.mine && epoch > config.mineWarmup
    let rows = blocks.blockRows.reduce(0, +)
    var tally = Tally()
    for b in blockOrder {
      try trainBlock(
        b, of: blocks, rows: rows, epoch: epoch, mining: mining, &loop, tally: &tally,
        control: control, started: start, progress: progress)
    }
    let meanLoss = Float(tally.loss / Double(max(tally.done, 1)))
    let firstLoss = loop.summaries.first?.loss ?? meanLoss
    guard meanLoss.isFinite, meanLoss <= firstLoss, loop.model.dense.allSatisfy(\.isFinite),
      loop.model.bias.allSatisfy(\.isFinite)
    else {
      throw TrainingError.diverged(
        epoch: epoch, learningRate: config.learningRate, loss: meanLoss, firstLoss: firstLoss)
    }
    if let held = loop.held {
      let t0 = clock.now
      let probs = loop.model.probabilities(held.features, threads: threads)
      loop.dynamics.record(probabilities: probs, labels: held.labels, classes: loop.model.classes)
      loop.scores = probs
      if config.mine { tally.miningTime += clock.now - t0 }
    }

    var summary = EpochSummary(epoch: epoch, loss: meanLoss, isBest: false)
    summary.minedPerClass = tally.minedPerClass
    summary.minedTrained = tally.minedPerClass == nil ? nil : tally.minedTrained
    if let valid, valid.count > 0 {
      Trainer.validate(
        loop.model, on: valid, epoch: epoch, threads: threads, summary: &summary,
        best: &loop.best, scored: validScored)
    } else {
      summary.isBest = true
    }
    loop.summaries.append(summary)
    let secs = (clock.now - start).seconds
    progress(
      .epoch(
        summary, seconds: secs, examplesPerSecond: Double(tally.done) / max(secs, 1e-9),
        miningSeconds: tally.miningTime.seconds, minedPassSeconds: tally.passTime.seconds))
  }

  /// Block `b` of an epoch: 1. every row, shuffled, with class-weighted cross-entropy;
  /// 2. when `mining`, the mined pass over the rows the block's scores put near the
  /// boundary (`minedPass`).
  private func trainBlock(
    _ b: Int, of blocks: some RowBlocks, rows: Int, epoch: Int, mining: Bool,
    _ loop: inout Loop, tally: inout Tally, control: Control,
    started start: ContinuousClock.Instant, progress: (TrainingEvent) -> Void
  ) throws {
    let clock = ContinuousClock()
    let (data, augment) = try blocks.block(b)
    if blocks.rereads { loop.order = Array(0..<data.count) }
    loop.rng.shuffle(&loop.order)
    let t0 = clock.now
    if mining, loop.scores == nil {
      loop.scores = loop.model.probabilities(data.features, threads: max(1, config.threads))
    }
    tally.miningTime += clock.now - t0

    let base = tally.done
    let seen = tally.loss
    tally.loss += try sgd(
      &loop.model, on: data, order: loop.order,
      weights: data.labels.map { loop.classWeight[Int($0)] }, gamma: config.lossGamma,
      schedule: &loop.schedule, scratch: loop.scratch, epoch: epoch, control: control
    ) { n, partLoss in
      let secs = (clock.now - start).seconds
      progress(
        .step(
          epoch: epoch, done: base + n, total: rows,
          loss: Float((seen + partLoss) / Double(base + n)),
          examplesPerSecond: Double(base + n) / max(secs, 1e-9)))
    }
    tally.done += data.count

    if mining, let scores = loop.scores {
      try minedPass(
        &loop, data: data, scores: scores, augment: augment, epoch: epoch, control: control,
        tally: &tally)
    }
    loop.scores = nil
  }

  /// The rows the miner picks from `scores` (the model's probabilities of `data`'s rows
  /// before this block's main pass), with their variants, trained with focal loss
  /// (γ = `focalGamma`, weight × `mineWeight`) at the main pass's last rate.
  private func minedPass(
    _ loop: inout Loop, data: LabeledData, scores: [Float], augment: Augment?, epoch: Int,
    control: Control, tally: inout Tally
  ) throws {
    let clock = ContinuousClock()
    let t1 = clock.now
    // The variant budget caps the rows (at least one; the share is rounded up per class,
    // so the budget is approximate).
    let budget =
      augment != nil && config.augment && config.augmentVariants > 0
      ? max(1, config.augmentBudget / config.augmentVariants) : nil
    let selection =
      data.labelSets.map {
        loop.miner.selectPerLabel(probabilities: scores, labelSets: $0, maxRows: budget)
      }
      ?? loop.miner.select(
        probabilities: scores, labels: data.labels, features: data.features, maxRows: budget)
    let t2 = clock.now
    tally.miningTime += t2 - t1
    var pass = data.subset(selection.rows)
    if let augment, config.augment, !selection.rows.isEmpty {
      pass.append(augment(selection.rows, epoch))
    }
    var passOrder = Array(0..<pass.count)
    loop.rng.shuffle(&passOrder)
    _ = try sgd(
      &loop.model, on: pass, order: passOrder,
      weights: pass.labels.map { loop.classWeight[Int($0)] * config.mineWeight },
      gamma: config.focalGamma, schedule: &loop.schedule, holdRate: true,
      scratch: loop.scratch, epoch: epoch, control: control)
    tally.passTime += clock.now - t2
    tally.minedPerClass = zip(
      tally.minedPerClass ?? selection.perClass.map { _ in 0 }, selection.perClass
    ).map(+)
    tally.minedTrained += pass.count
  }

  /// SGD over `data`'s rows in `order`, B at a time, each row weighted by `weights[row]`,
  /// with focal loss of focusing `gamma` (0: cross-entropy). Each batch takes the
  /// schedule's next rate, or with `holdRate` its last one. `control.shouldStop` is asked
  /// before every batch (a yes throws `Stopped`). Returns the summed loss; `progress(done, loss)` is called every
  /// 64 batches and at the end.
  private func sgd(
    _ model: inout Classifier, on data: LabeledData, order: [Int], weights: [Float],
    gamma: Float, schedule: inout Schedule, holdRate: Bool = false, scratch: Scratch,
    epoch: Int, control: Control, progress: (_ done: Int, _ loss: Double) -> Void = { _, _ in }
  ) throws -> Double {
    let bs = max(1, config.batchSize)
    var loss: Double = 0
    var s = 0
    while s < data.count {
      if control.shouldStop() { throw Stopped(.epoch(epoch)) }
      let e = min(data.count, s + bs)
      let lr = holdRate ? schedule.lr : schedule.next()
      loss += Double(
        order.withUnsafeBufferPointer { ord in
          Trainer.sgdStep(
            model: &model, data: data, docs: UnsafeBufferPointer(rebasing: ord[s..<e]),
            weights: weights, gamma: gamma, lr: lr, config: config, scratch: scratch)
        })
      s = e
      if (s / bs) % 64 == 0 || s == data.count { progress(s, loss) }
    }
    return loss
  }

  public enum TrainingError: Error, CustomStringConvertible {
    /// In `epoch`, at base rate `learningRate`, the mean loss was not finite or rose
    /// above the first epoch's.
    case diverged(epoch: Int, learningRate: Float, loss: Float, firstLoss: Float)
    /// A resumed state does not fit the data or the model.
    case stateMismatch

    public var description: String {
      switch self {
      case .diverged(let epoch, let lr, let loss, let first):
        return
          "training diverged: \(Trainer.divergence(epoch: epoch, loss: loss, firstLoss: first)), "
          + "at every rate down to \(lr) (each restart halves it); "
          + "try a smaller --lr or --class-weights sqrt"
      case .stateMismatch:
        return "the saved training state does not fit this corpus and model"
      }
    }
  }

  /// What a diverging epoch did, in words: "the loss rose from 3.598 in epoch 1 to 17.77
  /// in epoch 2", or that it was not finite.
  public static func divergence(epoch: Int, loss: Float, firstLoss: Float) -> String {
    loss.isFinite
      ? String(
        format: "the loss rose from %.4g in epoch 1 to %.4g in epoch %d", firstLoss, loss, epoch)
      : "the loss was not finite in epoch \(epoch)"
  }

  /// Scores `model` (as `scored` makes it) on `valid` into `summary`; the epoch becomes
  /// `best` when its validation loss is the lowest so far (smoother than macro-F1 on a
  /// small set, whose rare classes swing it by whole rows).
  static func validate(
    _ model: Classifier, on valid: LabeledData, epoch: Int, threads: Int,
    summary: inout EpochSummary, best: inout TrainerState.Best?, scored: Scored? = nil
  ) {
    let c = model.classes
    let vprobs = (scored?(model) ?? model).probabilities(valid.features, threads: threads)
    let vloss: Float
    if let sets = valid.labelSets {
      // Multi-label: subset accuracy and macro-F1 of the classes at p ≥ ½.
      let m = MultiLabelMetrics(
        predicted: MultiLabelMetrics.predictedSets(
          vprobs, thresholds: [Float](repeating: 0.5, count: c)),
        gold: sets, classes: c)
      vloss = MultiLabelMetrics.logLoss(vprobs, gold: sets, classes: c)
      summary.validAccuracy = m.subsetAccuracy
      summary.validMacroF1 = m.macroF1
    } else {
      let metrics = Metrics(probabilities: vprobs, gold: valid.labels, classes: c)
      vloss = Trainer.meanLoss(probabilities: vprobs, gold: valid.labels, classes: c)
      summary.validAccuracy = metrics.accuracy
      summary.validMacroF1 = metrics.macroF1
    }
    summary.validLoss = vloss
    if best.map({ vloss < $0.loss }) ?? true {
      best = .init(model: model, epoch: epoch, loss: vloss)
      summary.isBest = true
    }
  }

  /// Mean −ln p(gold) over rows.
  public static func meanLoss(probabilities p: [Float], gold: [Int32], classes: Int) -> Float {
    guard !gold.isEmpty else { return 0 }
    var s: Double = 0
    for (i, y) in gold.enumerated() { s -= Double(logf(max(p[i * classes + Int(y)], 1e-12))) }
    return Float(s / Double(gold.count))
  }
}
