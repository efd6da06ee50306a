extension Trainer {
  /// Buffers of one batch of up to B rows, allocated once per run. Shapes: hidden and
  /// dHidden B×D, logits B×C (∂L/∂Z after `lossGradient`), encoded B×H, dDense C×D,
  /// dBias C, dEncoder C×H, labels, weights and rowScales B; for a multi-label model the
  /// batch's 0/1 targets B×C and the classes' positive weights α C (set once per run).
  final class Scratch {
    let hidden, logits, dHidden, encoded, targets, positiveWeight: UnsafeMutablePointer<Float>
    let dDense, dBias, dEncoder: UnsafeMutablePointer<Float>
    let labels: UnsafeMutablePointer<Int32>
    let weights, rowScales: UnsafeMutablePointer<Float>

    init(batch: Int, dim: Int, classes: Int, encoderDim: Int = 0) {
      func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
        return p
      }
      (hidden, dHidden) = (floats(batch * dim), floats(batch * dim))
      (targets, positiveWeight) = (floats(batch * classes), floats(classes))
      positiveWeight.update(repeating: 1, count: classes)
      (logits, encoded) = (floats(batch * classes), floats(batch * encoderDim))
      (dDense, dBias) = (floats(classes * dim), floats(classes))
      dEncoder = floats(classes * encoderDim)
      (weights, rowScales) = (floats(batch), floats(batch))
      labels = .allocate(capacity: max(batch, 1))
      labels.initialize(repeating: 0, count: max(batch, 1))
    }

    deinit {
      for p in [
        hidden, logits, dHidden, encoded, dDense, dBias, dEncoder, weights, rowScales, targets,
        positiveWeight,
      ] {
        p.deallocate()
      }
      labels.deallocate()
    }

    /// P = softmax(Z) over the batch's logits, then the summed focal loss of P (γ = 0:
    /// cross-entropy) is returned and ∂L/∂Z written in place of P, each row scaled by its
    /// `focalRowScales` factor when γ > 0. A sigmoid model's loss is the binary focal loss
    /// of every class against `targets` (`sigmoidFocalForwardBackward`).
    func lossGradient(batch b: Int, classes c: Int, gamma: Float, output: Classifier.Output)
      -> Float
    {
      if output == .sigmoid {
        return sigmoidFocalForwardBackward(
          logits: logits, targets: targets, weights: weights, positiveWeight: positiveWeight,
          gamma: gamma, batch: b, classes: c, dLogits: logits)
      }
      softmaxRows(logits, batch: b, classes: c)
      if gamma > 0 {
        focalRowScales(
          probs: logits, labels: labels, weights: weights, gamma: gamma, batch: b, classes: c,
          into: rowScales)
      }
      let loss = focalForwardBackward(
        probs: logits, labels: labels, weights: weights, gamma: gamma, batch: b, classes: c,
        dLogits: logits)
      if gamma > 0 {
        for i in 0..<b {
          for k in 0..<c { logits[i * c + k] *= rowScales[i] }
        }
      }
      return loss
    }

    /// From G = ∂L/∂Z: the dense layer's dW_d = Gᵀ·H, db = Σ_i G_i and dH = G·W_d
    /// (`linearBackward`), and the encoder part's dW_u = Gᵀ·U (C×B · B×H; U is frozen, so
    /// there is no ∂L/∂U).
    func denseGradients(_ p: ClassifierView, batch b: Int) {
      dDense.update(repeating: 0, count: p.classes * p.dim)
      dBias.update(repeating: 0, count: p.classes)
      linearBackward(
        dWeight: dDense, dBias: dBias, dx: dHidden, dOut: logits, x: hidden, weight: p.dense,
        batch: b, inDim: p.dim, outDim: p.classes)
      if p.encoderDim > 0 {
        sgemm(
          transA: true, transB: false, m: p.classes, n: p.encoderDim, k: b, alpha: 1, logits,
          encoded, beta: 0, dEncoder)
      }
    }
  }

  /// One SGD step on the documents `docs` of `data`, each weighted by `weights[doc]`, with
  /// focal loss of focusing `gamma` (0: cross-entropy). The sparse rows step at `lr` (the
  /// embedding at lr · `embeddingLRScale`); the dense layer, which every row of the batch
  /// reaches, steps on the batch mean at lr · `denseLRScale`. Returns the batch's summed loss.
  static func sgdStep(
    model: inout Classifier, data: LabeledData, docs: UnsafeBufferPointer<Int>, weights: [Float],
    gamma: Float, lr: Float, config: TrainingConfig, scratch s: Scratch
  ) -> Float {
    let (b, threads, output) = (docs.count, max(1, config.threads), model.output)
    precondition(output == .softmax || data.labelSets != nil, "a sigmoid model needs label sets")
    for (i, doc) in docs.enumerated() {
      s.labels[i] = data.labels[doc]
      s.weights[i] = weights[doc]
    }
    if let sets = data.labelSets {
      let c = model.classes
      s.targets.update(repeating: 0, count: b * c)
      for (i, doc) in docs.enumerated() { for y in sets[doc] { s.targets[i * c + Int(y)] = 1 } }
    }
    return model.withMutableView { p in
      data.features.withView { x in
        p.forward(
          x, docs: docs, hidden: s.hidden, logits: s.logits, encoded: s.encoded, threads: threads)
        let loss = s.lossGradient(batch: b, classes: p.classes, gamma: gamma, output: output)
        s.denseGradients(p, batch: b)
        p.sparseStep(
          x, docs: docs, dLogits: s.logits, dHidden: s.dHidden, rate: lr,
          embeddingRate: lr * config.embeddingLRScale, wideL2: config.wideL2 ?? 0,
          threads: threads)
        p.denseStep(
          dDense: s.dDense, dBias: s.dBias, dEncoder: s.dEncoder,
          rate: lr * config.denseLRScale / Float(b))
        return loss
      }
    }
  }
}
