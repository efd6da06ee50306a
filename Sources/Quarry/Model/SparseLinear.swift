/// The wide part: a linear map of a sparse tf-idf vector, out[i] += Σ_f x_{i,f} · W[f]
/// (accumulates into `out`, which holds the other logits already).
///
/// Shapes: W: F×C, out: B×C; `x` holds each document's features and their tf-idf
/// values. Cost: O(nnz · C). A document's logits stay in SIMD
/// registers (`combineRows`) with the same operations per lane as
/// `sparseLinearForwardReference`: the same bits.
@inline(__always)
public func sparseLinearForward(
  out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, classes: Int, x: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  guard let plan = LanePlan(count: classes) else {
    return sparseLinearForwardReference(
      out: out, weight: weight, classes: classes, x: x, docs: docs)
  }
  let (rows, values) = (x.rows, x.values)
  for (i, d) in docs.enumerated() {
    let s = x.starts[d]
    combineRows(
      plan, into: out + i * classes, accumulate: true, count: x.starts[d + 1] - s,
      value: { values[s + $0] }, row: { weight + Int(rows[s + $0]) * classes })
  }
}

/// The naive kernel `sparseLinearForward` is tested against.
public func sparseLinearForwardReference(
  out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, classes: Int, x: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  for (o, d) in docs.enumerated() {
    let y = out + o * classes
    for p in x.entries(of: d) {
      let v = x.values[p]
      let w = weight + Int(x.rows[p]) * classes
      for c in 0..<classes { y[c] += v * w[c] }
    }
  }
}

/// Backward of the wide part as a sparse update: grad[f] += scale · x_{i,f} · dOut[i],
/// rows split among `parts` threads by `row % parts` (`sparseScatter`).
/// Shapes: dOut: B×C, grad: F×C.
@inline(__always)
public func sparseLinearBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, classes: Int, scale: Float,
  x: CSRView, docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  sparseScatter(
    grad: grad, dOut: dOut, width: classes, scale: scale, entries: x, docs: docs, part: part,
    parts: parts)
}
