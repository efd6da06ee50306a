/// Embedding bag: each document's vector is the weighted sum of its words' rows,
/// out[i] = Σ_{w ∈ doc i} a_w · E[w], with the weights a summing to 1 (a weighted mean).
///
/// Shapes: table E: V×D, out: B×D; the bag of document i is `rows[starts[i]..<starts[i+1]]`
/// with `weights` beside them. Cost: O(Σ bag sizes · D).
///
/// A document's sum stays in SIMD registers while its rows stream past (`combineRows`):
/// every lane adds the same products in the same order as
/// `embeddingBagForwardReference`, so the two give the same bits.
@inline(__always)
public func embeddingBagForward(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, dim: Int,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>
) {
  guard let plan = LanePlan(count: dim) else {
    return embeddingBagForwardReference(
      out: out, table: table, dim: dim, starts: starts, rows: rows, weights: weights, docs: docs)
  }
  for (i, d) in docs.enumerated() {
    let s = starts[d]
    combineRows(
      plan, into: out + i * dim, accumulate: false, count: starts[d + 1] - s,
      value: { weights[s + $0] }, row: { table + Int(rows[s + $0]) * dim })
  }
}

/// The naive kernel `embeddingBagForward` is tested against: one lane at a time.
public func embeddingBagForwardReference(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, dim: Int,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>
) {
  for (o, d) in docs.enumerated() {
    let y = out + o * dim
    for j in 0..<dim { y[j] = 0 }
    for p in starts[d]..<starts[d + 1] {
      let a = weights[p]
      let e = table + Int(rows[p]) * dim
      for j in 0..<dim { y[j] += a * e[j] }
    }
  }
}

/// Backward of the embedding bag, as a sparse update: grad[w] += scale · a_w · dOut[i]
/// for every word w of document i. With `grad` the table itself and scale = −lr this is
/// the SGD step. Only rows with `row % parts == part` are touched, so that `parts`
/// threads can each own a disjoint set of rows and apply their updates in document
/// order: the result is the same for any thread count.
///
/// Shapes: dOut: B×D, grad: V×D. The document's dOut stays in registers while its rows
/// are updated (`scatterRows`), with the bits of `embeddingBagBackwardReference`.
@inline(__always)
public func embeddingBagBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, dim: Int, scale: Float,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  guard let plan = LanePlan(count: dim) else {
    return embeddingBagBackwardReference(
      grad: grad, dOut: dOut, dim: dim, scale: scale, starts: starts, rows: rows,
      weights: weights, docs: docs, part: part, parts: parts)
  }
  for (i, d) in docs.enumerated() {
    let s = starts[d]
    scatterRows(
      plan, g: dOut + i * dim, scale: scale, count: starts[d + 1] - s,
      keep: { parts <= 1 || Int(rows[s + $0]) % parts == part }, value: { weights[s + $0] },
      row: { grad + Int(rows[s + $0]) * dim })
  }
}

/// The naive kernel `embeddingBagBackward` is tested against.
public func embeddingBagBackwardReference(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, dim: Int, scale: Float,
  starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  for (o, d) in docs.enumerated() {
    let g = dOut + o * dim
    for p in starts[d]..<starts[d + 1] {
      let r = Int(rows[p])
      if parts > 1 && r % parts != part { continue }
      let s = scale * weights[p]
      let e = grad + r * dim
      for j in 0..<dim { e[j] += s * g[j] }
    }
  }
}
