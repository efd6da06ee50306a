/// The wide part: a linear map of a sparse tf-idf vector, out[i] += Σ_f x_{i,f} · W[f]
/// (accumulates into `out`, which holds the other logits already).
///
/// Shapes: W: F×C, out: B×C; document i's features are `rows[starts[i]..<starts[i+1]]`
/// with `values` beside them. Cost: O(nnz · C).
@inline(__always)
public func sparseLinearForward(
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

/// Backward of the wide part as a sparse update: grad[f] += scale · x_{i,f} · dOut[i].
/// Rows are split among `parts` threads by `row % parts`, as in `embeddingBagBackward`.
///
/// Shapes: dOut: B×C, grad: F×C.
@inline(__always)
public func sparseLinearBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, classes: Int, scale: Float,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, values: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  for (o, d) in docs.enumerated() {
    let g = dOut + o * classes
    for p in starts[d]..<starts[d + 1] {
      let r = Int(rows[p])
      if parts > 1 && r % parts != part { continue }
      let s = scale * values[p]
      let w = grad + r * classes
      for c in 0..<classes { w[c] += s * g[c] }
    }
  }
}
