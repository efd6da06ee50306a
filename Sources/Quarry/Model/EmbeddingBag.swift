/// Embedding bag: each document's vector is the weighted sum of its words' rows,
/// out[i] = Σ_{w ∈ doc i} a_w · E[w], with the weights a summing to 1 (a weighted mean).
///
/// Shapes: table E: V×D, out: B×D; `bag` holds each document's words and their weights.
/// Cost: O(Σ bag sizes · D).
///
/// `sparseGather` with the table's rows as the words' embeddings, not accumulating.
@inline(__always)
public func embeddingBagForward(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, dim: Int, bag: CSRView,
  docs: UnsafeBufferPointer<Int>
) {
  sparseGather(out: out, table: table, width: dim, entries: bag, docs: docs, accumulate: false)
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
