import Foundation

// The backward passes of the encoder's kernels (EncoderKernels.swift, Attention.swift),
// llm.c style: free functions over row-major buffers, each the partner of one forward.
// Every work split depends only on the shapes, never on `threads`, so the results are the
// same bytes on any thread count. Parameter gradients accumulate (+=); input gradients are
// written unless the kernel says otherwise. OpenBLAS should be on one thread.

/// Backward of `sgemmLinearForward` (out = x·Wᵀ + b):
///
///     dX  = dOut·W            rows×m · m×n  → rows×n   (written, or added when `accumulate`)
///     dW += dOutᵀ·x           m×rows · rows×n → m×n
///     db += Σ_rows dOut       m
///
/// dX runs as sgemms over the same kind of fixed row ranges as the forward; dW and db over
/// up to 8 fixed ranges of W's rows (each one sgemm over all `rows`), so no sum is ever
/// split across threads. `dX` nil: only the parameter gradients.
/// Cost: 4·rows·m·n flops (2·rows·m·n without dX).
func sgemmLinearBackward(
  dX: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
  dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, x: UnsafePointer<Float>,
  weight: UnsafePointer<Float>, rows: Int, n: Int, m: Int, accumulate: Bool = false,
  threads: Int = 1
) {
  guard rows > 0 else { return }
  let rowParts = dX == nil ? 0 : min(8, max(1, rows / 256))
  let weightParts = min(8, max(1, m / 64))
  dynamicFor(rowParts + weightParts, threads: threads) { part in
    if part < rowParts, let dX {
      let r = chunk(rows, part: part, parts: rowParts)
      guard !r.isEmpty else { return }
      sgemmStrided(
        transA: false, transB: false, m: r.count, n: n, k: m, alpha: 1, dOut + r.lowerBound * m,
        lda: m, weight, ldb: n, beta: accumulate ? 1 : 0, dX + r.lowerBound * n, ldc: n)
    } else {
      let c = chunk(m, part: part - rowParts, parts: weightParts)
      guard !c.isEmpty else { return }
      sgemmStrided(
        transA: true, transB: false, m: c.count, n: n, k: rows, alpha: 1, dOut + c.lowerBound,
        lda: m, x, ldb: n, beta: 1, dWeight + c.lowerBound * n, ldc: n)
      for r in 0..<rows {
        let g = dOut + r * m
        for j in c { dBias[j] += g[j] }
      }
    }
  }
}

/// Backward of `layerNormForward` (y = x̂·γ + β, x̂ = (x − μ)·s, s = 1/√(σ² + ε)), per row:
///
///     g   = dy ⊙ γ
///     dx  = s · (g − mean(g) − x̂ · mean(g ⊙ x̂))          rows×n  (written)
///     dγ += Σ_rows dy ⊙ x̂,   dβ += Σ_rows dy               n
///
/// x: the forward's input (rows×n), mean and inverse: the μ and s it saved (rows). `dx`
/// may be `dy` itself. dγ and dβ are summed per fixed range of rows, then the ranges in
/// order. Cost: about 12·rows·n flops.
func layerNormBackward(
  dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
  mean: UnsafePointer<Float>, inverse: UnsafePointer<Float>, scale: UnsafePointer<Float>,
  dScale: UnsafeMutablePointer<Float>, dShift: UnsafeMutablePointer<Float>, rows: Int, n: Int,
  threads: Int = 1
) {
  guard rows > 0 else { return }
  let parts = min(8, max(1, rows / 64))
  let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * 2 * n)
  defer { partial.deallocate() }
  partial.initialize(repeating: 0, count: parts * 2 * n)
  dynamicFor(parts, threads: threads) { part in
    let dg = partial + part * 2 * n
    let db = dg + n
    for r in chunk(rows, part: part, parts: parts) {
      let (xr, gr, out) = (x + r * n, dy + r * n, dx + r * n)
      let (mu, s) = (mean[r], inverse[r])
      var sumG: Float = 0
      var sumGX: Float = 0
      for j in 0..<n {
        let xh = (xr[j] - mu) * s
        let g = gr[j] * scale[j]
        sumG += g
        sumGX += g * xh
        dg[j] += gr[j] * xh
        db[j] += gr[j]
      }
      let meanG = sumG / Float(n)
      let meanGX = sumGX / Float(n)
      for j in 0..<n {
        let xh = (xr[j] - mu) * s
        out[j] = s * (gr[j] * scale[j] - meanG - xh * meanGX)
      }
    }
  }
  for part in 0..<parts {
    let dg = partial + part * 2 * n
    for j in 0..<n {
      dScale[j] += dg[j]
      dShift[j] += dg[n + j]
    }
  }
}

/// Backward of `geluForward` (y = x·Φ(x), Φ the standard normal CDF), element-wise:
///
///     dx = dy · (Φ(x) + x·φ(x)),   Φ(x) = ½(1 + erf(x/√2)),  φ(x) = e^(−x²/2) / √(2π)
///
/// x: the forward's input (count floats); `dx` may be `dy` itself. Uses `Erf.value` and
/// `Exp.value`. Cost: about 20 flops per element.
func geluBackward(
  dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
  count: Int, threads: Int = 1
) {
  let parts = pieces(count, threads: threads, grain: 65_536)
  dynamicFor(parts, threads: threads) { part in
    for i in chunk(count, part: part, parts: parts) {
      let v = x[i]
      let cdf = 0.5 * (1 + Erf.value(v * 0.707_106_781_186_547_5))
      let pdf = Exp.value(-0.5 * v * v) * 0.398_942_280_401_432_7
      dx[i] = dy[i] * (cdf + v * pdf)
    }
  }
}

/// Backward of `attentionForward` over packed sequences. For every sequence b and head j,
/// with Q, K, V (L_b×d) read in place from `qkv` and P recomputed exactly as the forward
/// computes it (S = Q·Kᵀ/√d, P = softmax rows of S), and dO the head's slice of `dOut`:
///
///     dV = Pᵀ·dO                          L×L · L×d → L×d
///     dP = dO·Vᵀ                          L×d · d×L → L×L
///     dS = P ⊙ (dP − rowsum(dP ⊙ P))      L×L
///     dQ = dS·K / √d,   dK = dSᵀ·Q / √d   L×d
///
/// written into `dQKV` ((Σ L_b)×3H) in the forward's [q | k | v] layout. The (sequence,
/// head) pairs are shared by `threads` threads, each pair one fixed computation in a free
/// pair of L×L scratch buffers. Cost: Σ_b 10·L_b²·H flops.
func attentionBackward(
  dQKV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
  lengths: [Int], hidden h: Int, heads: Int, threads: Int = 1
) {
  let d = h / heads
  let scale = 1 / Float(d).squareRoot()
  forEachSequenceHead(lengths: lengths, heads: heads, scratchPerPair: 2, threads: threads) {
    b, j, offset, scratch in
    let len = lengths[b]
    let p = scratch
    let dp = p + len * len
    let base = qkv + offset * 3 * h + j * d
    let dBase = dQKV + offset * 3 * h + j * d
    let dO = dOut + offset * h + j * d
    attentionProbabilities(p, qkvBase: base, length: len, hidden: h, headDim: d)
    // dV = Pᵀ·dO
    sgemmStrided(
      transA: true, transB: false, m: len, n: d, k: len, alpha: 1, p, lda: len, dO, ldb: h,
      beta: 0, dBase + 2 * h, ldc: 3 * h)
    // dP = dO·Vᵀ
    sgemmStrided(
      transA: false, transB: true, m: len, n: len, k: d, alpha: 1, dO, lda: h, base + 2 * h,
      ldb: 3 * h, beta: 0, dp, ldc: len)
    for r in 0..<len {
      let pr = p + r * len
      let gr = dp + r * len
      var dot: Float = 0
      for t in 0..<len { dot += pr[t] * gr[t] }
      for t in 0..<len { gr[t] = pr[t] * (gr[t] - dot) }
    }
    // dQ = dS·K·scale, dK = dSᵀ·Q·scale
    sgemmStrided(
      transA: false, transB: false, m: len, n: d, k: len, alpha: scale, dp, lda: len, base + h,
      ldb: 3 * h, beta: 0, dBase, ldc: 3 * h)
    sgemmStrided(
      transA: true, transB: false, m: len, n: d, k: len, alpha: scale, dp, lda: len, base,
      ldb: 3 * h, beta: 0, dBase + h, ldc: 3 * h)
  }
}

/// Backward of the mean pooling in `poolForward` (mean[b] = (1/L_b) Σ_{r in b} x[r]):
///
///     dx[r] = dMean[b] / L_b   for every row r of sequence b       (Σ L_b)×H  (written)
///
/// dMean: B×H, one row per sequence in batch order.
func meanPoolBackward(
  dx: UnsafeMutablePointer<Float>, dMean: UnsafePointer<Float>, lengths: [Int], hidden h: Int
) {
  var r = 0
  for (b, len) in lengths.enumerated() {
    let inv = 1 / Float(max(len, 1))
    let g = dMean + b * h
    for i in 0..<len {
      let row = dx + (r + i) * h
      for j in 0..<h { row[j] = g[j] * inv }
    }
    r += len
  }
}
