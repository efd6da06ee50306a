import Foundation

/// A classifier's parameters as the kernels read and step them: pointers into its arrays,
/// valid only inside `Classifier.withView` (read only) or `Classifier.withMutableView`.
///
/// Shapes: wide W_w F×C, embedding E V×D, dense W_d C×D, bias b C, encoder W_u C×H.
public struct ClassifierView {
  public let classes: Int
  public let dim: Int
  public let encoderDim: Int
  public let wide: UnsafeMutablePointer<Float>
  public let embedding: UnsafeMutablePointer<Float>
  public let dense: UnsafeMutablePointer<Float>
  public let bias: UnsafeMutablePointer<Float>
  public let encoder: UnsafeMutablePointer<Float>

  /// The logits Z (B×C) of the documents `docs` of `x`:
  ///
  ///   H = bag(E) (B×D),   Z = H·W_dᵀ + b + X·W_w + U·W_uᵀ,
  ///
  /// with `hidden` receiving H and `encoded` (B×H, when there is an encoder part) the
  /// documents' gathered encoder vectors U. Each of `threads` threads takes a contiguous
  /// share of the batch through the bag, the dense layer and the wide part, in one
  /// parallel region: every kernel computes a row on its own in a fixed order, so the
  /// logits have the same bits for any thread count. The encoder part is one sgemm.
  public func forward(
    _ x: FeatureView, docs: UnsafeBufferPointer<Int>, hidden: UnsafeMutablePointer<Float>,
    logits: UnsafeMutablePointer<Float>, encoded: UnsafeMutablePointer<Float>?, threads: Int
  ) {
    let (b, c, d) = (docs.count, classes, dim)
    parallelFor(threads) { t in
      let r = chunk(b, part: t, parts: threads)
      let share = UnsafeBufferPointer(rebasing: docs[r])
      let h = hidden + r.lowerBound * d
      let z = logits + r.lowerBound * c
      embeddingBagForward(out: h, table: embedding, dim: d, bag: x.bag, docs: share)
      linearForward(
        out: z, x: h, weight: dense, bias: bias, batch: r.count, inDim: d, outDim: c, beta: 0)
      sparseLinearForward(out: z, weight: wide, classes: c, x: x.wide, docs: share)
    }
    guard encoderDim > 0 else { return }
    precondition(x.denseDim == encoderDim, "encoder features missing or of another width")
    let h = encoderDim
    let u = encoded ?? UnsafeMutablePointer<Float>.allocate(capacity: b * h)
    defer { if encoded == nil { u.deallocate() } }
    for (i, doc) in docs.enumerated() { (u + i * h).update(from: x.dense + doc * h, count: h) }
    // Z += U · W_uᵀ  (B×H · H×C)
    sgemm(transA: false, transB: true, m: b, n: c, k: h, alpha: 1, u, encoder, beta: 1, logits)
  }

  /// The SGD step of the sparse parts, from G = ∂L/∂Z (`dLogits`, B×C) and ∂L/∂H
  /// (`dHidden`, B×D): W_w[f] ← (1 − rate·λ) · W_w[f] − rate · x_f · G_i (λ = `wideL2`,
  /// the shrinkage applied to a row each time a document holds it) and
  /// E[w] −= embeddingRate · a_w · dH_i. Each thread owns the rows r with r mod T = t and
  /// applies them in batch order.
  public func sparseStep(
    _ x: FeatureView, docs: UnsafeBufferPointer<Int>, dLogits: UnsafePointer<Float>,
    dHidden: UnsafePointer<Float>, rate: Float, embeddingRate: Float, wideL2: Float = 0,
    threads: Int
  ) {
    let decay = wideL2 > 0 ? max(0, 1 - rate * wideL2) : 1
    parallelFor(threads) { t in
      sparseLinearBackward(
        grad: wide, dOut: dLogits, classes: classes, scale: -rate, decay: decay, x: x.wide,
        docs: docs, part: t, parts: threads)
      embeddingBagBackward(
        grad: embedding, dOut: dHidden, dim: dim, scale: -embeddingRate, bag: x.bag, docs: docs,
        part: t, parts: threads)
    }
  }

  /// The SGD step of the dense parts: W_d −= rate · dW_d, b −= rate · db, W_u −= rate · dW_u.
  public func denseStep(
    dDense: UnsafePointer<Float>, dBias: UnsafePointer<Float>, dEncoder: UnsafePointer<Float>,
    rate: Float
  ) {
    for i in 0..<(classes * dim) { dense[i] -= rate * dDense[i] }
    for i in 0..<classes { bias[i] -= rate * dBias[i] }
    for i in 0..<(classes * encoderDim) { encoder[i] -= rate * dEncoder[i] }
  }
}

extension Classifier {
  /// Calls `body` with pointers to the parameters, which it must only read.
  public func withView<R>(_ body: (ClassifierView) throws -> R) rethrows -> R {
    try wideWeights.withUnsafeBufferPointer { w in
      try embedding.withUnsafeBufferPointer { e in
        try dense.withUnsafeBufferPointer { d in
          try bias.withUnsafeBufferPointer { b in
            try encoderWeights.withUnsafeBufferPointer { u in
              try body(
                ClassifierView(
                  classes: classes, dim: dim, encoderDim: encoderDim,
                  wide: UnsafeMutablePointer(mutating: w.base),
                  embedding: UnsafeMutablePointer(mutating: e.base),
                  dense: UnsafeMutablePointer(mutating: d.base),
                  bias: UnsafeMutablePointer(mutating: b.base),
                  encoder: UnsafeMutablePointer(mutating: u.base)))
            }
          }
        }
      }
    }
  }

  /// Calls `body` with pointers to the parameters, which it may step.
  public mutating func withMutableView<R>(_ body: (ClassifierView) throws -> R) rethrows -> R {
    let (c, d, h) = (classes, dim, encoderDim)
    return try wideWeights.withUnsafeMutableBufferPointer { w in
      try embedding.withUnsafeMutableBufferPointer { e in
        try dense.withUnsafeMutableBufferPointer { dn in
          try bias.withUnsafeMutableBufferPointer { b in
            try encoderWeights.withUnsafeMutableBufferPointer { u in
              try body(
                ClassifierView(
                  classes: c, dim: d, encoderDim: h, wide: w.base, embedding: e.base,
                  dense: dn.base, bias: b.base, encoder: u.base))
            }
          }
        }
      }
    }
  }
}
