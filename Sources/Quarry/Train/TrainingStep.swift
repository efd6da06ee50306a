extension Trainer {
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
        m.withParts { wide, bag in
          parallelFor(threads) { t in
            sparseLinearBackward(
              grad: ww.base, dOut: dLogits, classes: c, scale: -lr, starts: wide.starts,
              rows: wide.rows, values: wide.values, docs: docs, part: t, parts: threads)
            embeddingBagBackward(
              grad: ee.base, dOut: dHidden, dim: d, scale: -embeddingLR, starts: bag.starts,
              rows: bag.rows, weights: bag.values, docs: docs, part: t, parts: threads)
          }
        }
      }
    }
  }
}
