/// The backward pass of both sparse parts (the embedding bag and the wide part) as an
/// SGD-style scatter: grad[r] ← decay · grad[r] + scale · v_p · dOut[i] for every entry
/// p = (r, v_p) of document i, over rows of `width` floats (decay < 1: the shrinkage of
/// an L2 penalty, applied to a row each time a document holds it). Only rows with
/// `r % parts == part` are touched, so that `parts` threads can each own a disjoint set of
/// rows and apply their updates in document order: the result is the same for any thread
/// count.
///
/// Shapes: dOut: B×width, grad: rows×width. The document's dOut stays in registers while
/// its rows are updated (`scatterRows`), with the bits of `sparseScatterReference`.
@inline(__always)
func sparseScatter(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, width: Int, scale: Float,
  decay: Float = 1, entries x: CSRView, docs: UnsafeBufferPointer<Int>, part: Int, parts: Int
) {
  guard let plan = LanePlan(count: width) else {
    return sparseScatterReference(
      grad: grad, dOut: dOut, width: width, scale: scale, decay: decay, entries: x, docs: docs,
      part: part, parts: parts)
  }
  let (starts, rows, values) = (x.starts, x.rows, x.values)
  // Row r belongs to part r mod parts; a mask instead of a division when parts is a power
  // of two (one or two threads), since the test runs once per entry.
  let mask = parts & (parts - 1) == 0 ? parts - 1 : -1
  for (i, d) in docs.enumerated() {
    let s = starts[d]
    scatterRows(
      plan, g: dOut + i * width, scale: scale, decay: decay, count: starts[d + 1] - s,
      keep: {
        let r = Int(rows[s + $0])
        return (mask >= 0 ? r & mask : r % parts) == part
      }, value: { values[s + $0] },
      row: { grad + Int(rows[s + $0]) * width })
  }
}

/// The naive kernel `sparseScatter` is tested against: one lane at a time.
func sparseScatterReference(
  grad: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, width: Int, scale: Float,
  decay: Float = 1, entries x: CSRView, docs: UnsafeBufferPointer<Int>, part: Int, parts: Int
) {
  for (o, d) in docs.enumerated() {
    let g = dOut + o * width
    for p in x.entries(of: d) {
      let r = Int(x.rows[p])
      if parts > 1 && r % parts != part { continue }
      let s = scale * x.values[p]
      let e = grad + r * width
      for j in 0..<width { e[j] = e[j] * decay + s * g[j] }  // x · 1 is x exactly
    }
  }
}
