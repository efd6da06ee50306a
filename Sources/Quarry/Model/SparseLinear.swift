/// The wide part: a linear map of a sparse tf-idf vector, out[i] += Σ_f x_{i,f} · W[f]
/// (accumulates into `out`, which holds the other logits already).
///
/// Shapes: W: F×C, out: B×C; `x` holds each document's features and their tf-idf
/// values. Cost: O(nnz · C). It is `sparseGather`, accumulating.
@inline(__always)
public func sparseLinearForward(
  out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, classes: Int, x: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  sparseGather(out: out, table: weight, width: classes, entries: x, docs: docs, accumulate: true)
}

/// Backward of the wide part as a sparse update: grad[f] ← decay · grad[f] + scale ·
/// x_{i,f} · dOut[i] (decay = 1 − η·λ: lazy L2 shrinkage of the rows a document holds),
/// rows split among `parts` threads by `row % parts` (`sparseScatter`).
/// Shapes: dOut: B×C, grad: F×C.
@inline(__always)
public func sparseLinearBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, classes: Int, scale: Float,
  decay: Float = 1, x: CSRView, docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  sparseScatter(
    grad: grad, dOut: dOut, width: classes, scale: scale, decay: decay, entries: x, docs: docs,
    part: part, parts: parts)
}
