import Foundation

/// The training loop: minibatch SGD with a linearly decaying learning rate, weighted
/// softmax cross-entropy, and the best epoch on the validation set kept.
///
/// One step over a batch of B documents (all buffers allocated once):
///   forward:  H = bag(E) (B×D) · Z = H·W_dᵀ + b (sgemm) · Z += X·W_w (sparse) · P = softmax(Z)
///   backward: G = w ⊙ (P − Y) · dW_d = Gᵀ·H, dH = G·W_d (sgemm) ·
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
  }

  public func train(
    model initial: Classifier, train: LabeledData, valid: LabeledData?,
    progress: (TrainingEvent) -> Void = { _ in }
  ) throws -> Result {
    var model = initial
    let c = model.classes
    let d = model.dim
    let bs = max(1, config.batchSize)
    let threads = max(1, config.threads)
    let n = train.count
    let classWeight = Trainer.classWeights(
      labels: train.labels, classes: c, mode: config.classWeighting)
    let exampleWeight = train.labels.map { classWeight[Int($0)] }

    var rng = SplitMix64(seed: config.seed &+ 0x5151)
    var order = Array(0..<n)
    var hidden = [Float](repeating: 0, count: bs * d)
    var logits = [Float](repeating: 0, count: bs * c)
    var dHidden = [Float](repeating: 0, count: bs * d)
    var dDense = [Float](repeating: 0, count: c * d)
    var dBias = [Float](repeating: 0, count: c)
    var batchLabels = [Int32](repeating: 0, count: bs)
    var batchWeights = [Float](repeating: 0, count: bs)

    let totalSteps = Double(max(1, config.epochs * ((n + bs - 1) / bs)))
    var step = 0
    var summaries: [EpochSummary] = []
    var best: (model: Classifier, epoch: Int, f1: Float, loss: Float)? = nil
    let m = train.features

    for epoch in 1...max(1, config.epochs) {
      let start = DispatchTime.now().uptimeNanoseconds
      rng.shuffle(&order)
      var epochLoss: Double = 0
      var s = 0
      while s < n {
        let e = min(n, s + bs)
        let b = e - s
        let lr = config.learningRate * Float(max(0, 1 - Double(step) / totalSteps))
        step += 1
        for i in 0..<b {
          batchLabels[i] = train.labels[order[s + i]]
          batchWeights[i] = exampleWeight[order[s + i]]
        }
        order.withUnsafeBufferPointer { ord in
          let docs = UnsafeBufferPointer(rebasing: ord[s..<e])
          hidden.withUnsafeMutableBufferPointer { h in
            logits.withUnsafeMutableBufferPointer { z in
              // Forward.
              model.forward(m, docs: docs, hidden: h.base, logits: z.base, threads: threads)
              // Loss and ∂L/∂Z, in place of the probabilities.
              softmaxRows(z.base, batch: b, classes: c)
              epochLoss += Double(
                focalForwardBackward(
                  probs: z.base, labels: batchLabels, weights: batchWeights,
                  gamma: config.lossGamma, batch: b, classes: c, dLogits: z.base))
              // Dense backward: dW_d, db, dH.
              for i in dDense.indices { dDense[i] = 0 }
              for i in dBias.indices { dBias[i] = 0 }
              dHidden.withUnsafeMutableBufferPointer { dh in
                linearBackward(
                  dWeight: &dDense, dBias: &dBias, dx: dh.base, dOut: z.base, x: h.base,
                  weight: model.dense, batch: b, inDim: d, outDim: c)
                // Sparse backward, applied to the rows as SGD steps.
                Trainer.sparseStep(
                  model: &model, m: m, docs: docs, dLogits: z.base, dHidden: dh.base,
                  lr: lr, embeddingLR: lr * config.embeddingLRScale, threads: threads)
              }
            }
          }
        }
        // The dense layer sees every row of the batch: it steps on the batch mean.
        let denseLR = lr * config.denseLRScale / Float(b)
        for i in model.dense.indices { model.dense[i] -= denseLR * dDense[i] }
        for i in model.bias.indices { model.bias[i] -= denseLR * dBias[i] }
        s = e
        if (s / bs) % 64 == 0 || s == n {
          let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
          progress(
            .step(
              epoch: epoch, done: s, total: n, loss: Float(epochLoss / Double(s)),
              examplesPerSecond: Double(s) / max(secs, 1e-9)))
        }
      }
      guard epochLoss.isFinite, model.isFinite else {
        throw TrainingError.diverged(epoch: epoch, learningRate: config.learningRate)
      }
      let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      var summary = EpochSummary(
        epoch: epoch, loss: Float(epochLoss / Double(max(n, 1))), isBest: false)
      if let valid, valid.count > 0 {
        let probs = model.probabilities(valid.features, threads: threads)
        let metrics = Metrics(probabilities: probs, gold: valid.labels, classes: c)
        let vloss = Trainer.meanLoss(probabilities: probs, gold: valid.labels, classes: c)
        summary.validLoss = vloss
        summary.validAccuracy = metrics.accuracy
        summary.validMacroF1 = metrics.macroF1
        // Lowest validation loss: smoother than macro-F1 on a small set, whose rare
        // classes swing it by whole rows.
        let better =
          best.map { vloss < $0.loss || (vloss == $0.loss && metrics.macroF1 > $0.f1) }
          ?? true
        if better {
          best = (model, epoch, metrics.macroF1, vloss)
          summary.isBest = true
        }
      } else {
        summary.isBest = true
      }
      summaries.append(summary)
      progress(
        .epoch(summary, seconds: secs, examplesPerSecond: Double(n) / max(secs, 1e-9)))
    }
    if let best {
      return Result(model: best.model, epochs: summaries, bestEpoch: best.epoch)
    }
    return Result(model: model, epochs: summaries, bestEpoch: summaries.count)
  }

  public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, learningRate: Float)

    public var description: String {
      switch self {
      case .diverged(let epoch, let lr):
        return
          "training diverged (the loss is not finite) in epoch \(epoch); try a smaller --lr than \(lr)"
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

  /// w_c for each class: balanced N/(C·n_c), its square root, or 1.
  public static func classWeights(labels: [Int32], classes: Int, mode: String) -> [Float] {
    var counts = [Int](repeating: 0, count: classes)
    for y in labels { counts[Int(y)] += 1 }
    let n = Float(labels.count)
    return counts.map { k in
      guard k > 0 else { return 1 }
      let w = n / (Float(classes) * Float(k))
      switch mode {
      case "balanced": return w
      case "sqrt": return w.squareRoot()
      default: return 1
      }
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
