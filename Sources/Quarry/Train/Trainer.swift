import Foundation

/// The training loop: minibatch SGD with a linearly decaying learning rate, and in every
/// epoch after the warm-up, a second pass over the mined boundary rows and their
/// augmented variants with focal loss. Each epoch:
///
///   1. every training row, shuffled, with class-weighted cross-entropy;
///   2. (after `mineWarmup` epochs) the rows the miner picked from the last epoch's scores,
///      plus their variants from `augment`, with focal loss (γ = `focalGamma`);
///   3. a forward pass over every row (no gradients): p(gold) goes into the training
///      dynamics, and the probabilities are the miner's scores for the next epoch;
///   4. the validation set, when there is one: the epoch with the lowest loss is kept.
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
  }

  /// Makes the augmented variants of training rows (by index), featurized, labels kept.
  public typealias Augment = (_ rows: [Int], _ epoch: Int) -> LabeledData

  /// The model that `valid` scores, from the one in training: itself, or with a part
  /// trained apart joined to it (a tuned encoder's head, whose vectors `valid` carries).
  public typealias Scored = (Classifier) -> Classifier

  public func train(
    model initial: Classifier, train: LabeledData, valid: LabeledData?,
    augment: Augment? = nil, recordDynamics: Bool = true, control: Control = Control(),
    validScored: Scored? = nil, progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> Result {
    do {
      let result = try trainEpochs(
        model: initial, train: train, valid: valid, augment: augment,
        recordDynamics: recordDynamics, control: control, validScored: validScored,
        progress: progress)
      try control.finish()
      return result
    } catch {
      try? control.stopped()
      try? control.finish()
      throw error
    }
  }

  private func trainEpochs(
    model initial: Classifier, train: LabeledData, valid: LabeledData?,
    augment: Augment?, recordDynamics: Bool, control: Control, validScored: Scored?,
    progress: (TrainingEvent) -> Void
  ) throws -> Result {
    var model = initial
    let c = model.classes
    let bs = max(1, config.batchSize)
    let threads = max(1, config.threads)
    let n = train.count
    let classWeight = config.classWeighting.weights(labels: train.labels, classes: c)

    var rng = SplitMix64(seed: config.seed &+ 0x5151)
    var order = Array(0..<n)
    var pass = TrainingPass(
      config: config, classes: c, dim: model.dim, encoderDim: model.encoderDim,
      classWeight: classWeight,
      totalSteps: config.epochs * ((n + bs - 1) / bs))
    var summaries: [EpochSummary] = []
    var best: TrainerState.Best? = nil
    var dynamics = Dynamics(rows: n)
    var scores: [Float]? = nil  // last epoch's probabilities of every training row
    var firstEpoch = 1
    if let state = control.resume {
      guard state.order.count == n, state.dynamics.rows == n || state.dynamics.epochs == 0,
        state.model.classes == c, state.model.featureCount == model.featureCount,
        state.model.wordCount == model.wordCount, state.model.dim == model.dim,
        state.model.encoderDim == model.encoderDim
      else { throw TrainingError.stateMismatch }
      model = state.model
      rng = SplitMix64(seed: state.rngState)
      order = state.order.map(Int.init)
      pass.step = state.step
      summaries = state.summaries
      best = state.best
      dynamics = state.dynamics
      firstEpoch = state.epoch + 1
      if state.epoch >= 1, recordDynamics || config.mine {
        scores = model.probabilities(train.features, threads: threads)
      }
    }

    for epoch in stride(from: firstEpoch, through: max(1, config.epochs), by: 1) {
      let start = DispatchTime.now().uptimeNanoseconds
      rng.shuffle(&order)
      let outcome = try pass.run(
        model: &model, data: train, order: order, scores: scores, epoch: epoch,
        augment: augment, rng: &rng, shouldStop: control.shouldStop
      ) { done, loss in
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        progress(
          .step(
            epoch: epoch, done: done, total: n, loss: Float(loss / Double(done)),
            examplesPerSecond: Double(done) / max(secs, 1e-9)))
      }
      let epochLoss = outcome.loss
      let mined = outcome.mined
      // A non-finite row shows in the next epoch's loss; the dense layer is cheap to check
      // (every parameter is checked once more at the end).
      guard epochLoss.isFinite, model.dense.allSatisfy(\.isFinite),
        model.bias.allSatisfy(\.isFinite)
      else {
        throw TrainingError.diverged(epoch: epoch, learningRate: config.learningRate)
      }

      // Dynamics, and the scores the miner uses next epoch.
      let t1 = DispatchTime.now().uptimeNanoseconds
      if recordDynamics || config.mine {
        let probs = model.probabilities(train.features, threads: threads)
        if recordDynamics {
          dynamics.record(probabilities: probs, labels: train.labels, classes: c)
        }
        scores = probs
      }
      let scoreSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9

      let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      var summary = EpochSummary(
        epoch: epoch, loss: Float(epochLoss / Double(max(n, 1))), isBest: false)
      summary.minedPerClass = mined?.perClass
      summary.minedTrained = mined?.trained
      if let valid, valid.count > 0 {
        Trainer.validate(
          model, on: valid, epoch: epoch, threads: threads, summary: &summary, best: &best,
          scored: validScored)
      } else {
        summary.isBest = true
      }
      summaries.append(summary)
      progress(
        .epoch(
          summary, seconds: secs, examplesPerSecond: Double(n) / max(secs, 1e-9),
          miningSeconds: outcome.selectSeconds + (config.mine ? scoreSeconds : 0),
          minedPassSeconds: outcome.passSeconds))
      try control.checkpoint?(
        TrainerState(
          epoch: epoch, model: model, rngState: rng.state, order: order.map { Int32($0) },
          step: pass.step, summaries: summaries, best: best, dynamics: dynamics))
    }
    guard model.isFinite else {
      throw TrainingError.diverged(epoch: config.epochs, learningRate: config.learningRate)
    }
    if let best {
      return Result(model: best.model, epochs: summaries, bestEpoch: best.epoch, dynamics: dynamics)
    }
    return Result(model: model, epochs: summaries, bestEpoch: summaries.count, dynamics: dynamics)
  }

  /// Buffers of one batch, allocated once per run.
  struct Scratch {
    var hidden: [Float]
    var logits: [Float]
    var dHidden: [Float]
    var dDense: [Float]
    var dBias: [Float]
    var labels: [Int32]
    var weights: [Float]
    /// The batch's encoder vectors U (B×H) and ∂L/∂W_u (C×H), when there is an encoder.
    var encoded: [Float]
    var dEncoder: [Float]
    /// The focal gradient's per-row factors (`focalRowScales`).
    var rowScales: [Float]

    init(batch: Int, dim: Int, classes: Int, encoderDim: Int = 0) {
      rowScales = [Float](repeating: 1, count: batch)
      encoded = [Float](repeating: 0, count: batch * encoderDim)
      dEncoder = [Float](repeating: 0, count: classes * encoderDim)
      hidden = [Float](repeating: 0, count: batch * dim)
      logits = [Float](repeating: 0, count: batch * classes)
      dHidden = [Float](repeating: 0, count: batch * dim)
      dDense = [Float](repeating: 0, count: classes * dim)
      dBias = [Float](repeating: 0, count: classes)
      labels = [Int32](repeating: 0, count: batch)
      weights = [Float](repeating: 0, count: batch)
    }
  }

  /// One SGD step on the documents `docs` of `data`, each weighted by `weights[doc]`, with
  /// focal loss of focusing `gamma` (0: cross-entropy). Returns the batch's summed loss.
  static func sgdStep(
    model: inout Classifier, data: LabeledData, docs: UnsafeBufferPointer<Int>, weights: [Float],
    gamma: Float, lr: Float, config: TrainingConfig, scratch: inout Scratch
  ) -> Float {
    let b = docs.count
    let c = model.classes
    let d = model.dim
    let threads = max(1, config.threads)
    let m = data.features
    for (i, doc) in docs.enumerated() {
      scratch.labels[i] = data.labels[doc]
      scratch.weights[i] = weights[doc]
    }
    var loss: Float = 0
    scratch.hidden.withUnsafeMutableBufferPointer { h in
      scratch.logits.withUnsafeMutableBufferPointer { z in
        // Forward.
        scratch.encoded.withUnsafeMutableBufferPointer { u in
          model.forward(
            m, docs: docs, hidden: h.base, logits: z.base, threads: threads,
            encoded: u.baseAddress)
        }
        // Loss and ∂L/∂Z, in place of the probabilities.
        softmaxRows(z.base, batch: b, classes: c)
        if gamma > 0 {
          scratch.rowScales.withUnsafeMutableBufferPointer { s in
            focalRowScales(
              probs: z.base, labels: scratch.labels, weights: scratch.weights, gamma: gamma,
              batch: b, classes: c, into: s.baseAddress!)
          }
        }
        loss = focalForwardBackward(
          probs: z.base, labels: scratch.labels, weights: scratch.weights, gamma: gamma,
          batch: b, classes: c, dLogits: z.base)
        if gamma > 0 {
          for i in 0..<b {
            let s = scratch.rowScales[i]
            for k in 0..<c { z.base[i * c + k] *= s }
          }
        }
        // Dense backward: dW_d, db, dH.
        for i in scratch.dDense.indices { scratch.dDense[i] = 0 }
        for i in scratch.dBias.indices { scratch.dBias[i] = 0 }
        scratch.dHidden.withUnsafeMutableBufferPointer { dh in
          linearBackward(
            dWeight: &scratch.dDense, dBias: &scratch.dBias, dx: dh.base, dOut: z.base,
            x: h.base, weight: model.dense, batch: b, inDim: d, outDim: c)
          // Encoder part: ∂L/∂W_u = Gᵀ · U  (C×B · B×H); U is frozen, so no ∂L/∂U.
          if model.encoderDim > 0 {
            scratch.encoded.withUnsafeBufferPointer { u in
              scratch.dEncoder.withUnsafeMutableBufferPointer { dw in
                sgemm(
                  transA: true, transB: false, m: c, n: model.encoderDim, k: b, alpha: 1,
                  z.base, u.baseAddress!, beta: 0, dw.baseAddress!)
              }
            }
          }
          // Sparse backward, applied to the rows as SGD steps.
          sparseStep(
            model: &model, m: m, docs: docs, dLogits: z.base, dHidden: dh.base, lr: lr,
            embeddingLR: lr * config.embeddingLRScale, threads: threads)
        }
      }
    }
    // The dense layer sees every row of the batch: it steps on the batch mean.
    let denseLR = lr * config.denseLRScale / Float(b)
    for i in model.dense.indices { model.dense[i] -= denseLR * scratch.dDense[i] }
    for i in model.bias.indices { model.bias[i] -= denseLR * scratch.dBias[i] }
    for i in model.encoderWeights.indices {
      model.encoderWeights[i] -= denseLR * scratch.dEncoder[i]
    }
    return loss
  }
  public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, learningRate: Float)
    /// `Control.shouldStop` said so, before a batch of `epoch`.
    case interrupted(epoch: Int)
    /// A resumed state does not fit the data or the model.
    case stateMismatch

    public var description: String {
      switch self {
      case .diverged(let epoch, let lr):
        return
          "training diverged (the loss is not finite) in epoch \(epoch); try a smaller --lr than \(lr)"
      case .interrupted(let epoch):
        return "training interrupted in epoch \(epoch)"
      case .stateMismatch:
        return "the saved training state does not fit this corpus and model"
      }
    }
  }

  /// The SGD step of the sparse parts: each thread owns the rows r with r mod T = t.
  static func sparseStep(
    model: inout Classifier, m: FeatureMatrix, docs: UnsafeBufferPointer<Int>,
    dLogits: UnsafePointer<Float>, dHidden: UnsafePointer<Float>, lr: Float,
    embeddingLR: Float, threads: Int
  ) {
    let c = model.classes
    let d = model.dim
    model.wide.withUnsafeMutableBufferPointer { ww in
      model.embedding.withUnsafeMutableBufferPointer { ee in
        m.wideStart.withUnsafeBufferPointer { wst in
          m.wideRows.withUnsafeBufferPointer { wr in
            m.wideValues.withUnsafeBufferPointer { wv in
              m.bagStart.withUnsafeBufferPointer { bst in
                m.bagRows.withUnsafeBufferPointer { br in
                  m.bagWeights.withUnsafeBufferPointer { bw in
                    parallelFor(threads) { t in
                      sparseLinearBackward(
                        grad: ww.base, dOut: dLogits, classes: c, scale: -lr,
                        starts: wst.base, rows: wr.base, values: wv.base, docs: docs,
                        part: t, parts: threads)
                      embeddingBagBackward(
                        grad: ee.base, dOut: dHidden, dim: d, scale: -embeddingLR,
                        starts: bst.base, rows: br.base, weights: bw.base, docs: docs,
                        part: t, parts: threads)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
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
    let metrics = Metrics(probabilities: vprobs, gold: valid.labels, classes: c)
    let vloss = Trainer.meanLoss(probabilities: vprobs, gold: valid.labels, classes: c)
    summary.validLoss = vloss
    summary.validAccuracy = metrics.accuracy
    summary.validMacroF1 = metrics.macroF1
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
