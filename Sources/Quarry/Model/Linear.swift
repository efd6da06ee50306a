/// Dense layer over a batch: out ← x·Wᵀ + b + β·out.
///
/// Shapes: x: B×D, W: C×D, b: C, out: B×C. With β = 1 it adds to what `out` holds.
/// Cost: 2·B·C·D flops.
///
/// Every output is summed in a fixed order, s = Σ_j x_ij·W_cj for j = 0, 1, … in Float,
/// then (s + β·out) + b_c (β·out left out when β = 0), as `linearForwardReference` does,
/// with SIMD over the classes (`combineRows` over the rows of Wᵀ). Not on BLAS: OpenBLAS
/// picks its kernel by the CPU it finds, and kernels differ in rounding, so the same seed
/// gave models of other bits (and R8 scores a document apart) on other machines. The
/// layer is 2% of the forward pass's flops; with a fixed order the model no longer depends
/// on OpenBLAS's choice (checked: the same bytes under its Prescott, Haswell and SkylakeX
/// kernels).
public func linearForward(
  out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int, beta: Float = 1
) {
  guard beta == 0, let plan = LanePlan(count: outDim) else {
    return linearForwardReference(
      out: out, x: x, weight: weight, bias: bias, batch: batch, inDim: inDim, outDim: outDim,
      beta: beta)
  }
  withUnsafeTemporaryAllocation(of: Float.self, capacity: inDim * outDim) { wt in
    // Wᵀ (D×C), so that one input value scales a row of C weights.
    for c in 0..<outDim {
      for j in 0..<inDim { wt[j * outDim + c] = weight[c * inDim + j] }
    }
    let t = wt.baseAddress!
    for i in 0..<batch {
      let xi = x + i * inDim
      let y = out + i * outDim
      combineRows(
        plan, into: y, accumulate: false, count: inDim, value: { xi[$0] },
        row: { UnsafePointer(t + $0 * outDim) })
      for c in 0..<outDim { y[c] += bias[c] }
    }
  }
}

/// The naive kernel `linearForward` is tested against, in the same order.
public func linearForwardReference(
  out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int, beta: Float = 1
) {
  for i in 0..<batch {
    for c in 0..<outDim {
      var s: Float = 0
      for j in 0..<inDim { s += x[i * inDim + j] * weight[c * inDim + j] }
      let y = out + i * outDim + c
      y.pointee = (beta == 0 ? s : s + beta * y.pointee) + bias[c]
    }
  }
}

/// Backward of `linearForward`:
///   dW ← dW + dOutᵀ·x   (C×B · B×D), adding the batch's rows in order i = 0, 1, …,
///   db ← db + Σ_i dOut[i],
///   dx ← dOut·W         (B×C · C×D), summed over c = 0, 1, …, when `dx` is given;
/// each in a fixed order, with the bits of `linearBackwardReference` (see `linearForward`).
public func linearBackward(
  dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
  weight: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int
) {
  guard let plan = LanePlan(count: inDim) else {
    return linearBackwardReference(
      dWeight: dWeight, dBias: dBias, dx: dx, dOut: dOut, x: x, weight: weight, batch: batch,
      inDim: inDim, outDim: outDim)
  }
  for c in 0..<outDim {
    combineRows(
      plan, into: dWeight + c * inDim, accumulate: true, count: batch,
      value: { dOut[$0 * outDim + c] }, row: { x + $0 * inDim })
  }
  for i in 0..<batch {
    let g = dOut + i * outDim
    for c in 0..<outDim { dBias[c] += g[c] }
  }
  if let dx {
    for i in 0..<batch {
      let g = dOut + i * outDim
      combineRows(
        plan, into: dx + i * inDim, accumulate: false, count: outDim, value: { g[$0] },
        row: { weight + $0 * inDim })
    }
  }
}

/// The naive kernel `linearBackward` is tested against, in the same order.
public func linearBackwardReference(
  dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
  dx: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
  weight: UnsafePointer<Float>, batch: Int, inDim: Int, outDim: Int
) {
  for c in 0..<outDim {
    for j in 0..<inDim {
      for i in 0..<batch { dWeight[c * inDim + j] += dOut[i * outDim + c] * x[i * inDim + j] }
    }
  }
  for i in 0..<batch {
    for c in 0..<outDim { dBias[c] += dOut[i * outDim + c] }
  }
  if let dx {
    for i in 0..<batch {
      for j in 0..<inDim {
        var s: Float = 0
        for c in 0..<outDim { s += dOut[i * outDim + c] * weight[c * inDim + j] }
        dx[i * inDim + j] = s
      }
    }
  }
}
