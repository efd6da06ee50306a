import COpenBLAS
import Foundation

// The encoder's row-wise kernels, llm.c style: free functions over row-major buffers, each
// with its shape. The matching naive references live in the tests.

/// C ← α·op(A)·op(B) + β·C on row-major buffers with explicit leading dimensions, so that
/// a head's slice of a wider matrix (every row `ld` floats apart) is used in place.
/// op(A) is m×k, op(B) is k×n, C is m×n. Cost: 2·m·n·k flops.
@inline(__always)
func sgemmStrided(
  transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
  _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
  _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
  cblas_sgemm(
    CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// A linear layer over rows: out[r] ← (accumulate ? out[r] : 0) + x[r]·Wᵀ + b.
///
/// x: rows×n, W: m×n (PyTorch's out × in), b: m, out: rows×m. Runs as sgemms over up to 8
/// row ranges of at least 768 rows, shared by `threads` threads (OpenBLAS itself on one
/// thread); the bias is written first so the sgemm adds into it with β = 1. The ranges do
/// not depend on `threads`, so neither do the results, bit for bit.
/// Cost: 2·rows·m·n flops.
func sgemmLinearForward(
  _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>, rows: Int, n: Int, m: Int, accumulate: Bool = false,
  threads: Int = 1
) {
  let parts = min(8, max(1, rows / 768))
  dynamicFor(parts, threads: threads) { part in
    let r = chunk(rows, part: part, parts: parts)
    guard !r.isEmpty else { return }
    for i in r {
      let o = out + i * m
      if accumulate {
        for j in 0..<m { o[j] += bias[j] }
      } else {
        o.update(from: bias, count: m)
      }
    }
    sgemmStrided(
      transA: false, transB: true, m: r.count, n: m, k: n, alpha: 1, x + r.lowerBound * n,
      lda: n, weight, ldb: n, beta: 1, out + r.lowerBound * m, ldc: m)
  }
}

/// LayerNorm of each row, in place: y = (x − μ) / √(σ² + ε) · γ + β, where μ and σ² are
/// the row's mean and (biased) variance (two passes, in Float).
///
/// x: rows×n, γ and β: n. When given, `savedMean` and `savedInverse` (rows each) receive
/// every row's μ and 1/√(σ² + ε), for `layerNormBackward`; the output is the same either way.
/// Cost: about 8·rows·n flops.
func layerNormForward(
  _ x: UnsafeMutablePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
  rows: Int, n: Int, eps: Float, threads: Int = 1,
  savedMean: UnsafeMutablePointer<Float>? = nil, savedInverse: UnsafeMutablePointer<Float>? = nil
) {
  let parts = pieces(rows, threads: threads, grain: 256)
  dynamicFor(parts, threads: threads) { part in
    for r in chunk(rows, part: part, parts: parts) {
      let row = x + r * n
      var sum: Float = 0
      for j in 0..<n { sum += row[j] }
      let mean = sum / Float(n)
      var sq: Float = 0
      for j in 0..<n {
        let d = row[j] - mean
        sq += d * d
      }
      let inv = 1 / (sq / Float(n) + eps).squareRoot()
      savedMean?[r] = mean
      savedInverse?[r] = inv
      for j in 0..<n { row[j] = (row[j] - mean) * inv * scale[j] + shift[j] }
    }
  }
}

/// GELU in its exact (erf) form, in place: y = x · ½ · (1 + erf(x / √2)).
///
/// x: count floats. `erf` is `Erf.value`, within 2e-7 of the true function.
func geluForward(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
  let parts = pieces(count, threads: threads, grain: 65_536)
  dynamicFor(parts, threads: threads) { part in
    for i in chunk(count, part: part, parts: parts) {
      let v = x[i]
      x[i] = 0.5 * v * (1 + Erf.value(v * 0.707_106_781_186_547_5))
    }
  }
}

/// The embeddings of packed sequences: out[r] = word[id_r] + position[p_r] + type[0],
/// where p_r is r's position inside its own sequence (0 for its [CLS]).
///
/// ids: Σ L_b token ids, sequences back to back; lengths: L_b; out: (Σ L_b)×H.
func embeddingForward(
  _ out: UnsafeMutablePointer<Float>, ids: [Int32], lengths: [Int], weights: BertWeights,
  hidden h: Int
) {
  weights.wordEmbeddings.withUnsafeBufferPointer { word in
    weights.positionEmbeddings.withUnsafeBufferPointer { pos in
      weights.tokenTypeEmbeddings.withUnsafeBufferPointer { type in
        var r = 0
        for len in lengths {
          for p in 0..<len {
            let o = out + r * h
            let w = word.base + Int(ids[r]) * h
            let q = pos.base + p * h
            for j in 0..<h { o[j] = w[j] + q[j] + type[j] }
            r += 1
          }
        }
      }
    }
  }
}

/// Mean and first-token pooling of packed sequences: mean[b] = (1/L_b) Σ_{r in b} x[r] and
/// cls[b] = x[first row of b].
///
/// x: (Σ L_b)×H; mean and cls: B×H (rows written at `rowOf[b]`, so callers can scatter
/// the batch back into input order).
func poolForward(
  _ x: UnsafePointer<Float>, lengths: [Int], hidden h: Int, rowOf: [Int],
  mean: UnsafeMutablePointer<Float>, cls: UnsafeMutablePointer<Float>
) {
  var r = 0
  for (b, len) in lengths.enumerated() {
    let m = mean + rowOf[b] * h
    let c = cls + rowOf[b] * h
    c.update(from: x + r * h, count: h)
    for j in 0..<h { m[j] = 0 }
    for i in 0..<len {
      let row = x + (r + i) * h
      for j in 0..<h { m[j] += row[j] }
    }
    let inv = 1 / Float(max(len, 1))
    for j in 0..<h { m[j] *= inv }
    r += len
  }
}
