import Foundation

/// The SGD of one epoch over one block of rows: every row with class-weighted
/// cross-entropy, then (after the warm-up, given last scores) the mined boundary rows and
/// their augmented variants with focal loss. The in-memory trainer runs it once an epoch
/// over the whole corpus; the streaming trainer once per chunk. The learning rate decays
/// linearly over `totalSteps` steps: lr_t = lr · max(0, 1 − t / totalSteps).
struct TrainingPass {
  let config: TrainingConfig
  let classWeight: [Float]
  let miner: Miner
  let totalSteps: Double
  /// Steps taken so far, over every block of every epoch.
  var step: Int
  var scratch: Trainer.Scratch

  struct Outcome {
    /// Summed cross-entropy (weighted) of the block's rows.
    var loss: Double = 0
    var mined: Miner.Selection? = nil
    var selectSeconds = 0.0
    var passSeconds = 0.0
  }

  init(
    config: TrainingConfig, classes: Int, dim: Int, encoderDim: Int = 0, classWeight: [Float],
    totalSteps: Int
  ) {
    self.config = config
    self.classWeight = classWeight
    self.miner = Miner(config: config, classes: classes)
    self.totalSteps = Double(max(1, totalSteps))
    self.step = 0
    self.scratch = Trainer.Scratch(
      batch: max(1, config.batchSize), dim: dim, classes: classes, encoderDim: encoderDim)
  }

  /// Trains `model` on the rows of `data` in `order`, then on the mined rows of `scores`
  /// (probabilities of `data`'s rows by the model before this pass) and their variants.
  /// `progress(done, meanLoss)` is called every 64 batches and at the end of the rows.
  mutating func run(
    model: inout Classifier, data: LabeledData, order: [Int], scores: [Float]?, epoch: Int,
    augment: Trainer.Augment?, rng: inout SplitMix64, shouldStop: () -> Bool,
    progress: (_ done: Int, _ loss: Double) -> Void
  ) throws -> Outcome {
    let bs = max(1, config.batchSize)
    let n = data.count
    let exampleWeight = data.labels.map { classWeight[Int($0)] }
    var out = Outcome()
    var lr = config.learningRate
    var s = 0
    while s < n {
      if shouldStop() { throw Trainer.TrainingError.interrupted(epoch: epoch) }
      let e = min(n, s + bs)
      lr = config.learningRate * Float(max(0, 1 - Double(step) / totalSteps))
      step += 1
      out.loss += Double(
        order.withUnsafeBufferPointer { ord in
          Trainer.sgdStep(
            model: &model, data: data, docs: UnsafeBufferPointer(rebasing: ord[s..<e]),
            weights: exampleWeight, gamma: config.lossGamma, lr: lr, config: config,
            scratch: &scratch)
        })
      s = e
      if (s / bs) % 64 == 0 || s == n { progress(s, out.loss) }
    }

    // The mined pass: boundary rows by the last scores and their variants, focal loss.
    guard config.mine, epoch > config.mineWarmup, let scores else { return out }
    let t0 = DispatchTime.now().uptimeNanoseconds
    // The variant budget caps the rows (at least one; the share is rounded up per class,
    // so the budget is approximate).
    let budget =
      augment != nil && config.augment && config.augmentVariants > 0
      ? max(1, config.augmentBudget / config.augmentVariants) : nil
    let selection = miner.select(
      probabilities: scores, labels: data.labels, features: data.features, maxRows: budget)
    let t1 = DispatchTime.now().uptimeNanoseconds
    out.selectSeconds = Double(t1 - t0) / 1e9
    var pass = data.subset(selection.rows)
    if let augment, config.augment, !selection.rows.isEmpty {
      pass.append(augment(selection.rows, epoch))
    }
    let weights = pass.labels.map { classWeight[Int($0)] * config.mineWeight }
    var passOrder = Array(0..<pass.count)
    rng.shuffle(&passOrder)
    var p = 0
    while p < pass.count {
      let e = min(pass.count, p + bs)
      _ = passOrder.withUnsafeBufferPointer { ord in
        Trainer.sgdStep(
          model: &model, data: pass, docs: UnsafeBufferPointer(rebasing: ord[p..<e]),
          weights: weights, gamma: config.focalGamma, lr: lr, config: config,
          scratch: &scratch)
      }
      p = e
    }
    out.passSeconds = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
    out.mined = selection
    out.mined?.trained = pass.count
    return out
  }
}
