import COpenBLAS

/// How the row kernels cover a row of n floats with SIMD vectors of W lanes: at offsets
/// 0, W, 2W, … and, when W does not divide n, one last vector at n − W that overlaps the
/// one before it. A lane covered twice goes through the same operations in the same order
/// in both vectors, so it gets the same bits in both: the result equals the scalar loop's
/// exactly. The vectors are taken four at a time ("passes"), grouped from the end so that
/// the overlapping pair always shares a pass: a kernel that reads, updates and writes back
/// a row loads every vector of a pass before it stores any, and so never reads a lane that
/// the pass has already written.
struct LanePlan {
  /// Lanes per vector: 8, 4 or 2 (the widest that fits; 8 floats are two SSE registers,
  /// so the four accumulators of a pass fit the 16 registers of baseline x86-64).
  let width: Int
  /// The passes, each of one to four vectors.
  let passes: [Pass]

  /// Up to four vector offsets taken together; the first `count` are the pass's own, the
  /// rest repeat the first and are never touched.
  struct Pass {
    let offsets: (Int, Int, Int, Int)
    let count: Int
  }

  /// nil when n < 2 (the caller then runs its scalar loop).
  init?(count n: Int) {
    guard let w = [8, 4, 2].first(where: { n >= $0 }) else { return nil }
    var offsets = Array(stride(from: 0, through: n - w, by: w))
    if n % w != 0 { offsets.append(n - w) }
    var passes: [Pass] = []
    var end = offsets.count
    while end > 0 {
      let start = max(0, end - 4)
      let g = Array(offsets[start..<end])
      let f = g[0]
      passes.append(
        Pass(
          offsets: (f, g.count > 1 ? g[1] : f, g.count > 2 ? g[2] : f, g.count > 3 ? g[3] : f),
          count: g.count))
      end = start
    }
    self.width = w
    self.passes = passes.reversed()
  }
}

/// How many vectors a pass holds, as a type: the kernels are specialized on it, so that a
/// pass of one vector (the wide part's 8 classes, say) does its arithmetic once, not four
/// times over.
protocol PassArity { static var count: Int { get } }
enum OneVector: PassArity { static var count: Int { 1 } }
enum TwoVectors: PassArity { static var count: Int { 2 } }
enum ThreeVectors: PassArity { static var count: Int { 3 } }
enum FourVectors: PassArity { static var count: Int { 4 } }

/// y ← y₀ + Σ_{p < count} value(p) · row(p), over rows of the plan's n floats, with y₀ = y
/// when `accumulate`, else 0. Each lane adds its products in the order p = 0, 1, …, so the
/// result has the bits of the scalar loop `for p { for j { y[j] += value(p) · row(p)[j] } }`.
/// The sum stays in registers while the rows stream past; the lines a pass reads of the
/// row 8 ahead are prefetched (the first 8 before the loop), since the rows of a sparse
/// document are scattered over a table of megabytes. Cost: O(count · n).
@inline(__always)
func combineRows(
  _ plan: LanePlan, into y: UnsafeMutablePointer<Float>, accumulate: Bool, count: Int,
  value: (Int) -> Float, row: (Int) -> UnsafePointer<Float>
) {
  switch plan.width {
  case 8:
    combineRows(
      SIMD8<Float>.self, plan, y, accumulate: accumulate, count: count, value: value, row: row)
  case 4:
    combineRows(
      SIMD4<Float>.self, plan, y, accumulate: accumulate, count: count, value: value, row: row)
  default:
    combineRows(
      SIMD2<Float>.self, plan, y, accumulate: accumulate, count: count, value: value, row: row)
  }
}

@inline(__always)
private func combineRows<V: SIMD>(
  _: V.Type, _ plan: LanePlan, _ y: UnsafeMutablePointer<Float>, accumulate: Bool, count: Int,
  value: (Int) -> Float, row: (Int) -> UnsafePointer<Float>
) where V.Scalar == Float {
  for pass in plan.passes {
    switch pass.count {
    case 1:
      combinePass(V.self, OneVector.self, pass.offsets, y, accumulate, count, value, row)
    case 2:
      combinePass(V.self, TwoVectors.self, pass.offsets, y, accumulate, count, value, row)
    case 3:
      combinePass(V.self, ThreeVectors.self, pass.offsets, y, accumulate, count, value, row)
    default:
      combinePass(V.self, FourVectors.self, pass.offsets, y, accumulate, count, value, row)
    }
  }
}

/// One pass of `combineRows`: the pass's vectors of y, summed over every row p.
@inline(__always)
private func combinePass<V: SIMD, A: PassArity>(
  _: V.Type, _: A.Type, _ o: (Int, Int, Int, Int), _ y: UnsafeMutablePointer<Float>,
  _ accumulate: Bool, _ count: Int, _ value: (Int) -> Float,
  _ row: (Int) -> UnsafePointer<Float>
) where V.Scalar == Float {
  let k = A.count
  // Every vector of the pass is loaded before any is stored (they may overlap).
  var a0 = accumulate ? loadLanes(y + o.0) : V()
  var a1 = accumulate && k > 1 ? loadLanes(y + o.1) : V()
  var a2 = accumulate && k > 2 ? loadLanes(y + o.2) : V()
  var a3 = accumulate && k > 3 ? loadLanes(y + o.3) : V()
  for p in 0..<min(8, count) { prefetchPass(row(p), o, A.self, V.self) }
  for p in 0..<count {
    if p + 8 < count { prefetchPass(row(p + 8), o, A.self, V.self) }
    let a = V(repeating: value(p))
    let e = row(p)
    a0 += a * loadLanes(e + o.0)
    if k > 1 { a1 += a * loadLanes(e + o.1) }
    if k > 2 { a2 += a * loadLanes(e + o.2) }
    if k > 3 { a3 += a * loadLanes(e + o.3) }
  }
  storeLanes(a0, y + o.0)
  if k > 1 { storeLanes(a1, y + o.1) }
  if k > 2 { storeLanes(a2, y + o.2) }
  if k > 3 { storeLanes(a3, y + o.3) }
}

/// row(p) ← decay · row(p) + (scale · value(p)) · g for p = 0, 1, … in order, rows with
/// keep(p) only, over rows of the plan's n floats: the scatter that the sparse backward
/// passes apply as SGD steps (decay < 1: with an L2 penalty's shrinkage; decay = 1 skips
/// the product). g stays in registers; each row is read, updated and written back one
/// pass at a time, with the bits of the scalar loop.
@inline(__always)
func scatterRows(
  _ plan: LanePlan, g: UnsafePointer<Float>, scale: Float, decay: Float = 1, count: Int,
  keep: (Int) -> Bool, value: (Int) -> Float, row: (Int) -> UnsafeMutablePointer<Float>
) {
  switch plan.width {
  case 8:
    scatterRows(
      SIMD8<Float>.self, plan, g, scale: scale, decay: decay, count: count, keep: keep,
      value: value, row: row)
  case 4:
    scatterRows(
      SIMD4<Float>.self, plan, g, scale: scale, decay: decay, count: count, keep: keep,
      value: value, row: row)
  default:
    scatterRows(
      SIMD2<Float>.self, plan, g, scale: scale, decay: decay, count: count, keep: keep,
      value: value, row: row)
  }
}

@inline(__always)
private func scatterRows<V: SIMD>(
  _: V.Type, _ plan: LanePlan, _ g: UnsafePointer<Float>, scale: Float, decay: Float,
  count: Int, keep: (Int) -> Bool, value: (Int) -> Float,
  row: (Int) -> UnsafeMutablePointer<Float>
) where V.Scalar == Float {
  if decay == 1 {
    scatterPasses(V.self, Undecayed.self, plan, g, scale, 1, count, keep, value, row)
  } else {
    scatterPasses(V.self, Decayed.self, plan, g, scale, decay, count, keep, value, row)
  }
}

/// Every pass of `scatterRows`, each specialized on how many vectors it holds.
@inline(__always)
private func scatterPasses<V: SIMD, R: RowDecay>(
  _: V.Type, _: R.Type, _ plan: LanePlan, _ g: UnsafePointer<Float>, _ scale: Float,
  _ decay: Float, _ count: Int, _ keep: (Int) -> Bool, _ value: (Int) -> Float,
  _ row: (Int) -> UnsafeMutablePointer<Float>
) where V.Scalar == Float {
  for pass in plan.passes {
    let o = pass.offsets
    switch pass.count {
    case 1: scatterPass(V.self, OneVector.self, R.self, o, g, scale, decay, count, keep, value, row)
    case 2:
      scatterPass(V.self, TwoVectors.self, R.self, o, g, scale, decay, count, keep, value, row)
    case 3:
      scatterPass(V.self, ThreeVectors.self, R.self, o, g, scale, decay, count, keep, value, row)
    default:
      scatterPass(V.self, FourVectors.self, R.self, o, g, scale, decay, count, keep, value, row)
    }
  }
}

/// Whether a scatter shrinks each row before adding to it, as a type: the kernel is
/// specialized on it, so that a scatter without decay has no product to skip.
protocol RowDecay { static var shrinks: Bool { get } }
enum Undecayed: RowDecay { static var shrinks: Bool { false } }
enum Decayed: RowDecay { static var shrinks: Bool { true } }

/// One pass of `scatterRows`: the pass's vectors of every kept row p, updated in order.
@inline(__always)
private func scatterPass<V: SIMD, A: PassArity, R: RowDecay>(
  _: V.Type, _: A.Type, _: R.Type, _ o: (Int, Int, Int, Int), _ g: UnsafePointer<Float>,
  _ scale: Float, _ decay: Float, _ count: Int, _ keep: (Int) -> Bool, _ value: (Int) -> Float,
  _ row: (Int) -> UnsafeMutablePointer<Float>
) where V.Scalar == Float {
  let k = A.count
  let g0: V = loadLanes(g + o.0)
  let g1: V = k > 1 ? loadLanes(g + o.1) : V()
  let g2: V = k > 2 ? loadLanes(g + o.2) : V()
  let g3: V = k > 3 ? loadLanes(g + o.3) : V()
  let f = V(repeating: decay)
  @inline(__always) func old(_ at: UnsafeMutablePointer<Float>) -> V {
    R.shrinks ? loadLanes(at) * f : loadLanes(at)
  }
  for p in 0..<min(8, count) where keep(p) { prefetchPass(row(p), o, A.self, V.self) }
  for p in 0..<count {
    // Prefetch for every p, kept or not: a thread keeps about 1/T of the rows.
    if p + 8 < count, keep(p + 8) { prefetchPass(row(p + 8), o, A.self, V.self) }
    guard keep(p) else { continue }
    let s = V(repeating: scale * value(p))
    let e = row(p)
    // Every vector of the pass is loaded before any is stored (they may overlap).
    let e0 = old(e + o.0) + s * g0
    let e1 = k > 1 ? old(e + o.1) + s * g1 : V()
    let e2 = k > 2 ? old(e + o.2) + s * g2 : V()
    let e3 = k > 3 ? old(e + o.3) + s * g3 : V()
    storeLanes(e0, e + o.0)
    if k > 1 { storeLanes(e1, e + o.1) }
    if k > 2 { storeLanes(e2, e + o.2) }
    if k > 3 { storeLanes(e3, e + o.3) }
  }
}

/// Starts loading the cache lines a pass of vectors at offsets `o` will touch in the row at
/// `e`: from its first float to its last, a line (16 floats) apart. A row of a wide table
/// spans several lines and each pass reads only its own, so prefetching the row's start
/// alone left every pass but the first waiting for memory.
@inline(__always)
private func prefetchPass<A: PassArity, V: SIMD>(
  _ e: UnsafePointer<Float>, _ o: (Int, Int, Int, Int), _: A.Type, _: V.Type
) where V.Scalar == Float {
  let last =
    (A.count == 1 ? o.0 : A.count == 2 ? o.1 : A.count == 3 ? o.2 : o.3) + V.scalarCount - 1
  var q = o.0
  while q < last {
    quarry_prefetch(e + q)
    q += 16
  }
  quarry_prefetch(e + last)
}

/// W floats at `p`, which need not be aligned.
@inline(__always)
func loadLanes<V: SIMD>(_ p: UnsafePointer<Float>, as _: V.Type = V.self) -> V
where V.Scalar == Float {
  UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

/// Stores `v` at `p`, which need not be aligned.
@inline(__always)
func storeLanes<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}
