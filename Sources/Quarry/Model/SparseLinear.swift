/// The wide part: a linear map of a sparse tf-idf vector, out[i] += Σ_f x_{i,f} · W[f]
/// (accumulates into `out`, which holds the other logits already).
///
/// Shapes: W: F×C, out: B×C; document i's features are `rows[starts[i]..<starts[i+1]]`
/// with `values` beside them. Cost: O(nnz · C). A document's logits stay in SIMD
/// registers (`combineRows`) with the same operations per lane as
/// `sparseLinearForwardReference`: the same bits.
@inline(__always)
public func sparseLinearForward(
  out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, classes: Int,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, values: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>
) {
  guard let plan = LanePlan(count: classes) else {
    return sparseLinearForwardReference(
      out: out, weight: weight, classes: classes, starts: starts, rows: rows, values: values,
      docs: docs)
  }
  for (i, d) in docs.enumerated() {
    let s = starts[d]
    combineRows(
      plan, into: out + i * classes, accumulate: true, count: starts[d + 1] - s,
      value: { values[s + $0] }, row: { weight + Int(rows[s + $0]) * classes })
  }
}

/// The naive kernel `sparseLinearForward` is tested against.
public func sparseLinearForwardReference(
  out: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, classes: Int,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, values: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>
) {
  for (o, d) in docs.enumerated() {
    let y = out + o * classes
    for p in starts[d]..<starts[d + 1] {
      let x = values[p]
      let w = weight + Int(rows[p]) * classes
      for c in 0..<classes { y[c] += x * w[c] }
    }
  }
}

/// Backward of the wide part as a sparse update: grad[f] += scale · x_{i,f} · dOut[i],
/// rows split among `parts` threads by `row % parts` (`sparseScatter`).
/// Shapes: dOut: B×C, grad: F×C.
@inline(__always)
public func sparseLinearBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, classes: Int, scale: Float,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, values: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  sparseScatter(
    grad: grad, dOut: dOut, width: classes, scale: scale, starts: starts, rows: rows,
    values: values, docs: docs, part: part, parts: parts)
}
