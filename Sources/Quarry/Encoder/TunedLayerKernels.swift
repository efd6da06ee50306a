import Foundation

/// What one transformer block's forward saves for its backward, over a batch of up to
/// `rows` packed rows (R below):
///
///     qkv    = x·W_qkvᵀ + b_qkv             R×3H
///     ctx    = attention(qkv)               R×H    (P is recomputed by the backward)
///     sum1   = x + ctx·W_oᵀ + b_o           R×H    mean1, inverse1: R (LayerNorm stats)
///     x1     = LayerNorm(sum1)              R×H
///     ffnPre = x1·W_1ᵀ + b_1                R×I
///     ffnAct = GELU(ffnPre)                 R×I
///     sum2   = x1 + ffnAct·W_2ᵀ + b_2       R×H    mean2, inverse2: R
///     out    = LayerNorm(sum2)              R×H    (the caller's buffer)
///
/// About R·(7H + 2I + 4) floats.
final class LayerActivations {
  let rows: Int
  let qkv, ctx, sum1, x1, ffnPre, ffnAct, sum2: UnsafeMutablePointer<Float>
  let mean1, inverse1, mean2, inverse2: UnsafeMutablePointer<Float>

  init(rows: Int, config c: BertConfig) {
    let r = max(rows, 1)
    self.rows = rows
    qkv = .allocate(capacity: r * 3 * c.hidden)
    ctx = .allocate(capacity: r * c.hidden)
    sum1 = .allocate(capacity: r * c.hidden)
    x1 = .allocate(capacity: r * c.hidden)
    ffnPre = .allocate(capacity: r * c.intermediate)
    ffnAct = .allocate(capacity: r * c.intermediate)
    sum2 = .allocate(capacity: r * c.hidden)
    mean1 = .allocate(capacity: r)
    inverse1 = .allocate(capacity: r)
    mean2 = .allocate(capacity: r)
    inverse2 = .allocate(capacity: r)
  }

  deinit {
    for p in [qkv, ctx, sum1, x1, ffnPre, ffnAct, sum2, mean1, inverse1, mean2, inverse2] {
      p.deallocate()
    }
  }
}

/// Scratch of one block's backward over up to `rows` rows: R·(6H + I) floats.
final class LayerBackwardScratch {
  let dSum, dX1, dCtx, dQKV, dFFN: UnsafeMutablePointer<Float>

  init(rows: Int, config c: BertConfig) {
    let r = max(rows, 1)
    dSum = .allocate(capacity: r * c.hidden)
    dX1 = .allocate(capacity: r * c.hidden)
    dCtx = .allocate(capacity: r * c.hidden)
    dQKV = .allocate(capacity: r * 3 * c.hidden)
    dFFN = .allocate(capacity: r * c.intermediate)
  }

  deinit {
    for p in [dSum, dX1, dCtx, dQKV, dFFN] { p.deallocate() }
  }
}

/// One transformer block's forward from `input` to `output` ((Σ lengths)×H each), with the
/// same kernels in the same order as `BertEncoder.layerForward`, so the output is the same
/// bytes, and saving in `saved` what `tunedLayerBackward` needs.
func tunedLayerForward(
  _ l: BertLayerWeights, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
  saved s: LayerActivations, lengths: [Int], config c: BertConfig, threads: Int
) {
  let (h, i) = (c.hidden, c.intermediate)
  let rows = lengths.reduce(0, +)
  precondition(rows <= s.rows, "batch of \(rows) rows in activations for \(s.rows)")
  sgemmLinearForward(
    s.qkv, x, weight: l.qkv, bias: l.qkvBias, rows: rows, n: h, m: 3 * h, threads: threads)
  attentionForward(s.ctx, qkv: s.qkv, lengths: lengths, hidden: h, heads: c.heads, threads: threads)
  s.sum1.update(from: x, count: rows * h)
  sgemmLinearForward(
    s.sum1, s.ctx, weight: l.attentionOut, bias: l.attentionOutBias, rows: rows, n: h, m: h,
    accumulate: true, threads: threads)
  s.x1.update(from: s.sum1, count: rows * h)
  layerNormForward(
    s.x1, scale: l.attentionNormScale, shift: l.attentionNormShift, rows: rows, n: h,
    eps: c.layerNormEps, threads: threads, savedMean: s.mean1, savedInverse: s.inverse1)
  sgemmLinearForward(
    s.ffnPre, s.x1, weight: l.ffnIn, bias: l.ffnInBias, rows: rows, n: h, m: i, threads: threads)
  s.ffnAct.update(from: s.ffnPre, count: rows * i)
  geluForward(s.ffnAct, count: rows * i, threads: threads)
  s.sum2.update(from: s.x1, count: rows * h)
  sgemmLinearForward(
    s.sum2, s.ffnAct, weight: l.ffnOut, bias: l.ffnOutBias, rows: rows, n: i, m: h,
    accumulate: true, threads: threads)
  output.update(from: s.sum2, count: rows * h)
  layerNormForward(
    output, scale: l.outputNormScale, shift: l.outputNormShift, rows: rows, n: h,
    eps: c.layerNormEps, threads: threads, savedMean: s.mean2, savedInverse: s.inverse2)
}

/// The backward of `tunedLayerForward`: given dOut = ∂L/∂output ((Σ lengths)×H), adds
/// ∂L/∂θ for every tensor θ of the block to the same-named tensor of `grads`, and writes
/// ∂L/∂input into `dInput` when given. In order:
///
///     dSum2 = LayerNorm₂ᵀ(dOut)                         dγ₂, dβ₂
///     dAct  = dSum2·W_2,  dW_2 += dSum2ᵀ·ffnAct          db_2
///     dPre  = dAct ⊙ GELU′(ffnPre)
///     dX1   = dSum2 + dPre·W_1,  dW_1 += dPreᵀ·x1        db_1
///     dSum1 = LayerNorm₁ᵀ(dX1)                          dγ₁, dβ₁
///     dCtx  = dSum1·W_o,  dW_o += dSum1ᵀ·ctx             db_o
///     dQKV  = attentionᵀ(dCtx)
///     dIn   = dSum1 + dQKV·W_qkv,  dW_qkv += dQKVᵀ·x     db_qkv
///
/// `input` and `saved` must be those of the forward. Cost: about twice the forward's flops.
func tunedLayerBackward(
  _ l: BertLayerWeights, dOut: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
  input x: UnsafePointer<Float>, saved s: LayerActivations, grads g: inout BertLayerWeights,
  scratch t: LayerBackwardScratch, lengths: [Int], config c: BertConfig, threads: Int
) {
  let (h, i) = (c.hidden, c.intermediate)
  let rows = lengths.reduce(0, +)
  withGradients(&g.outputNormScale, &g.outputNormShift) { dg, db in
    layerNormBackward(
      dx: t.dSum, dy: dOut, x: s.sum2, mean: s.mean2, inverse: s.inverse2, scale: l.outputNormScale,
      dScale: dg, dShift: db, rows: rows, n: h, threads: threads)
  }
  withGradients(&g.ffnOut, &g.ffnOutBias) { dw, db in
    sgemmLinearBackward(
      dX: t.dFFN, dWeight: dw, dBias: db, dOut: t.dSum, x: s.ffnAct, weight: l.ffnOut,
      rows: rows, n: i, m: h, threads: threads)
  }
  geluBackward(dx: t.dFFN, dy: t.dFFN, x: s.ffnPre, count: rows * i, threads: threads)
  t.dX1.update(from: t.dSum, count: rows * h)
  withGradients(&g.ffnIn, &g.ffnInBias) { dw, db in
    sgemmLinearBackward(
      dX: t.dX1, dWeight: dw, dBias: db, dOut: t.dFFN, x: s.x1, weight: l.ffnIn, rows: rows,
      n: h, m: i, accumulate: true, threads: threads)
  }
  withGradients(&g.attentionNormScale, &g.attentionNormShift) { dg, db in
    layerNormBackward(
      dx: t.dSum, dy: t.dX1, x: s.sum1, mean: s.mean1, inverse: s.inverse1,
      scale: l.attentionNormScale,
      dScale: dg, dShift: db, rows: rows, n: h, threads: threads)
  }
  withGradients(&g.attentionOut, &g.attentionOutBias) { dw, db in
    sgemmLinearBackward(
      dX: t.dCtx, dWeight: dw, dBias: db, dOut: t.dSum, x: s.ctx, weight: l.attentionOut,
      rows: rows,
      n: h, m: h, threads: threads)
  }
  attentionBackward(
    dQKV: t.dQKV, dOut: t.dCtx, qkv: s.qkv, lengths: lengths, hidden: h, heads: c.heads,
    threads: threads)
  dInput?.update(from: t.dSum, count: rows * h)
  withGradients(&g.qkv, &g.qkvBias) { dw, db in
    sgemmLinearBackward(
      dX: dInput, dWeight: dw, dBias: db, dOut: t.dQKV, x: x, weight: l.qkv, rows: rows,
      n: h, m: 3 * h, accumulate: true, threads: threads)
  }
}

/// Runs `body` with the base addresses of two arrays, mutably.
@inline(__always)
func withGradients<R>(
  _ a: inout [Float], _ b: inout [Float],
  _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> R
) -> R {
  a.withUnsafeMutableBufferPointer { pa in
    b.withUnsafeMutableBufferPointer { pb in body(pa.base, pb.base) }
  }
}

extension BertLayerWeights {
  /// Every tensor of a block, in a fixed order (the optimizer's and the checkpoint's).
  static let tensorPaths: [WritableKeyPath<BertLayerWeights, [Float]>] = [
    \.qkv, \.qkvBias, \.attentionOut, \.attentionOutBias, \.attentionNormScale,
    \.attentionNormShift, \.ffnIn, \.ffnInBias, \.ffnOut, \.ffnOutBias, \.outputNormScale,
    \.outputNormShift,
  ]

  /// Which of `tensorPaths` are weight matrices (weight decay applies to them only).
  static let isMatrix: [Bool] = [
    true, false, true, false, false, false, true, false, true, false, false, false,
  ]

  /// A block of the same shapes, every value zero (a gradient or an optimizer moment).
  func zeros() -> BertLayerWeights {
    var z = self
    for p in BertLayerWeights.tensorPaths {
      z[keyPath: p] = [Float](repeating: 0, count: self[keyPath: p].count)
    }
    return z
  }

  /// Sets every value to zero, in place.
  mutating func zero() {
    for p in BertLayerWeights.tensorPaths {
      self[keyPath: p].withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
  }
}
