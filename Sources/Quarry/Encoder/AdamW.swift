/// AdamW (Loshchilov and Hutter 2019): Adam with decoupled weight decay. For a parameter θ
/// with gradient g at step t (1-based), moments m and v, rate η and decay λ:
///
///     m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − η · ( m/(1 − β₁ᵗ) / (√(v/(1 − β₂ᵗ)) + ε) + λ·θ )
///
/// The gradient is multiplied by `gradientScale` first (the global-norm clip).
struct AdamW {
  var beta1: Float = 0.9
  var beta2: Float = 0.999
  var epsilon: Float = 1e-8

  /// One step over `count` parameters. Cost: about 12 flops per parameter.
  func update(
    _ theta: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
    m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int, step t: Int,
    rate: Float, decay: Float, gradientScale: Float
  ) {
    let c1 = 1 / (1 - power(beta1, t))
    let c2 = 1 / (1 - power(beta2, t))
    for k in 0..<count {
      let gk = g[k] * gradientScale
      m[k] = beta1 * m[k] + (1 - beta1) * gk
      v[k] = beta2 * v[k] + (1 - beta2) * gk * gk
      let step = (m[k] * c1) / ((v[k] * c2).squareRoot() + epsilon)
      theta[k] -= rate * (step + decay * theta[k])
    }
  }
}
