/// The forward pass of both sparse parts (the embedding bag and the wide part): each
/// document's weighted sum of table rows, out[i] = y₀ + Σ_{p = (r, v_p) ∈ doc i} v_p · T[r],
/// with y₀ = out[i] when `accumulate`, else 0. Its backward is `sparseScatter`.
///
/// Shapes: T: rows×width, out: B×width. Cost: O(nnz · width). A document's sum stays in
/// SIMD registers while its rows stream past (`combineRows`), every lane adding the same
/// products in the same order as `sparseGatherReference`: the two give the same bits.
@inline(__always)
func sparseGather(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, width: Int, entries x: CSRView,
  docs: UnsafeBufferPointer<Int>, accumulate: Bool
) {
  guard let plan = LanePlan(count: width) else {
    return sparseGatherReference(
      out: out, table: table, width: width, entries: x, docs: docs, accumulate: accumulate)
  }
  let (rows, values) = (x.rows, x.values)
  for (i, d) in docs.enumerated() {
    let s = x.starts[d]
    combineRows(
      plan, into: out + i * width, accumulate: accumulate, count: x.starts[d + 1] - s,
      value: { values[s + $0] }, row: { table + Int(rows[s + $0]) * width })
  }
}

/// The naive kernel `sparseGather` is tested against: one lane at a time.
func sparseGatherReference(
  out: UnsafeMutablePointer<Float>, table: UnsafePointer<Float>, width: Int, entries x: CSRView,
  docs: UnsafeBufferPointer<Int>, accumulate: Bool
) {
  for (o, d) in docs.enumerated() {
    let y = out + o * width
    if !accumulate { for j in 0..<width { y[j] = 0 } }
    for p in x.entries(of: d) {
      let v = x.values[p]
      let e = table + Int(x.rows[p]) * width
      for j in 0..<width { y[j] += v * e[j] }
    }
  }
}
