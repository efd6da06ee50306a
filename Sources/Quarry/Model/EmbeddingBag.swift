/// Embedding bag: each document's vector is the weighted sum of its words' rows,
/// out[i] = Σ_{w ∈ doc i} a_w · E[w], with the weights a summing to 1 (a weighted mean).
///
/// Shapes: table E: V×D, out: B×D; `bag` holds each document's words and their weights.
/// Cost: O(Σ bag sizes · D).
///
/// A document's sum stays in SIMD registers while its rows stream past (`combineRows`):
/// every lane adds the same products in the same order as
/// `embeddingBagForwardReference`, so the two give the same bits.
@inline(__always)
public func embeddingBagForward(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, dim: Int, bag: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  guard let plan = LanePlan(count: dim) else {
    return embeddingBagForwardReference(out: out, table: table, dim: dim, bag: bag, docs: docs)
  }
  let (rows, weights) = (bag.rows, bag.values)
  for (i, d) in docs.enumerated() {
    let s = bag.starts[d]
    combineRows(
      plan, into: out + i * dim, accumulate: false, count: bag.starts[d + 1] - s,
      value: { weights[s + $0] }, row: { table + Int(rows[s + $0]) * dim })
  }
}

/// The naive kernel `embeddingBagForward` is tested against: one lane at a time.
public func embeddingBagForwardReference(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, dim: Int, bag: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  for (o, d) in docs.enumerated() {
    let y = out + o * dim
    for j in 0..<dim { y[j] = 0 }
    for p in bag.entries(of: d) {
      let a = bag.values[p]
      let e = table + Int(bag.rows[p]) * dim
      for j in 0..<dim { y[j] += a * e[j] }
    }
  }
}

/// Backward of the embedding bag, as a sparse update: grad[w] += scale · a_w · dOut[i]
/// for every word w of document i. With `grad` the table itself and scale = −lr this is
/// the SGD step; rows are split among `parts` threads by `row % parts`
/// (`sparseScatter`). Shapes: dOut: B×D, grad: V×D.
@inline(__always)
public func embeddingBagBackward(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, dim: Int, scale: Float,
  bag: CSRView, docs: UnsafeBufferPointer<Int>, part: Int = 0, parts: Int = 1
) {
  sparseScatter(
    grad: grad, dOut: dOut, width: dim, scale: scale, entries: bag, docs: docs, part: part,
    parts: parts)
}
