import COpenBLAS

/// General matrix multiply on row-major buffers, C ← α·op(A)·op(B) + β·C, where
/// op(A) is m×k, op(B) is k×n and C is m×n. `transA` means A is stored k×m
/// (lda = m), otherwise m×k (lda = k); likewise B. Runs on OpenBLAS `cblas_sgemm`.
/// Cost: 2·m·n·k flops.
@inline(__always)
public func sgemm(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float,
  _ c: UnsafeMutablePointer<Float>
) {
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
    beta, c, Int32(n))
}

/// The reference for `sgemm`: the same contract, three plain loops, accumulated in Double.
public func sgemmNaive(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float,
  _ c: UnsafeMutablePointer<Float>
) {
  for i in 0..<m {
    for j in 0..<n {
      var s: Double = 0
      for p in 0..<k {
        let aip = transA ? a[p * m + i] : a[i * k + p]
        let bpj = transB ? b[j * k + p] : b[p * n + j]
        s += Double(aip) * Double(bpj)
      }
      let prior = beta == 0 ? 0 : Double(beta) * Double(c[i * n + j])
      c[i * n + j] = Float(Double(alpha) * s + prior)
    }
  }
}

/// Sets OpenBLAS's own thread count. Quarry runs its own threads over a batch, so it sets
/// OpenBLAS to one thread to keep the two cores from being oversubscribed.
public func setBLASThreads(_ n: Int) {
  openblas_set_num_threads(Int32(n))
}
