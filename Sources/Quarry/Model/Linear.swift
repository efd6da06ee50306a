/// Dense layer over a batch: out ← x·Wᵀ + b + β·out, on BLAS.
///
/// Shapes: x: B×D, W: C×D, b: C, out: B×C. With β = 1 it adds to what `out` holds
/// (the wide logits). Cost: 2·B·C·D flops.
public func linearForward(
  out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int, beta: Float = 1
) {
  sgemm(
    transA: false, transB: true, m: batch, n: outDim, k: inDim, alpha: 1, x, weight, beta: beta,
    out)
  for i in 0..<batch {
    let y = out + i * outDim
    for c in 0..<outDim { y[c] += bias[c] }
  }
}

/// Backward of `linearForward`:
///   dW ← dW + dOutᵀ·x   (C×B · B×D),
///   db ← db + Σ_i dOut[i],
///   dx ← dOut·W         (B×C · C×D), when `dx` is given.
public func linearBackward(
  dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
  weight: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int
) {
  sgemm(
    transA: true, transB: false, m: outDim, n: inDim, k: batch, alpha: 1, dOut, x, beta: 1,
    dWeight)
  for i in 0..<batch {
    let g = dOut + i * outDim
    for c in 0..<outDim { dBias[c] += g[c] }
  }
  if let dx {
    sgemm(
      transA: false, transB: false, m: batch, n: inDim, k: outDim, alpha: 1, dOut, weight,
      beta: 0, dx)
  }
}
