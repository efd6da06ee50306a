import Foundation

/// Multi-head self-attention over packed sequences (no padding rows).
///
/// qkv: (Σ L_b)×3H, each row [q | k | v] with head j in columns j·d..<(j+1)·d of each part
/// (d = H / heads); out: (Σ L_b)×H. For every sequence b (rows o_b..<o_b + L_b) and head j:
///
///     S = Q Kᵀ / √d                      L_b×L_b   (sgemm, Q and K read in place, ld 3H)
///     P = softmax over each row of S
///     out[o_b..., j·d...] = P V          L_b×d     (sgemm, written in place, ld H)
///
/// Each sequence attends only to its own L_b tokens: the same as BERT's additive mask
/// of −∞ on padding keys, with the padding never computed. The (sequence, head) pairs are
/// shared by `threads` threads, each pair in one of `threads` L×L scratch buffers;
/// OpenBLAS should be on one thread. Each pair is one fixed computation, so the result
/// does not depend on `threads`. Cost: Σ_b 4·L_b²·H flops for the two products, plus
/// Σ_b L_b²·heads exponentials.
func attentionForward(
  _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, lengths: [Int], hidden h: Int,
  heads: Int, threads: Int = 1
) {
  let d = h / heads
  forEachSequenceHead(lengths: lengths, heads: heads, scratchPerPair: 1, threads: threads) {
    b, j, offset, scores in
    let len = lengths[b]
    let base = qkv + offset * 3 * h + j * d
    attentionProbabilities(scores, qkvBase: base, length: len, hidden: h, headDim: d)
    sgemmStrided(
      transA: false, transB: false, m: len, n: d, k: len, alpha: 1, scores, lda: len,
      base + 2 * h, ldb: 3 * h, beta: 0, out + offset * h + j * d, ldc: h)
  }
}

/// P = softmax over each row of Q·Kᵀ/√d for one sequence and head: `scores` (L×L) receives
/// P; `qkvBase` points at the head's first query column of the sequence's first row (rows
/// 3H apart, keys H columns further). The forward pass and its backward (which recomputes
/// P rather than keeping it) share this, so both see the same bytes.
func attentionProbabilities(
  _ scores: UnsafeMutablePointer<Float>, qkvBase base: UnsafePointer<Float>, length len: Int,
  hidden h: Int, headDim d: Int
) {
  sgemmStrided(
    transA: false, transB: true, m: len, n: len, k: d, alpha: 1 / Float(d).squareRoot(), base,
    lda: 3 * h, base + h, ldb: 3 * h, beta: 0, scores, ldc: len)
  attentionSoftmax(scores, rows: len, cols: len)
}

/// Runs `body(b, j, o_b, scratch)` for every (sequence b, head j) pair with L_b > 0, on up to
/// `threads` threads; o_b is b's first packed row and `scratch` a free buffer of
/// `scratchPerPair` L×L blocks (L the longest sequence), one per busy worker. Pairs go in
/// order: sequences are sorted by length, so neighbours cost about the same. Each pair is
/// one fixed computation, so results do not depend on `threads`.
func forEachSequenceHead(
  lengths: [Int], heads: Int, scratchPerPair: Int, threads: Int,
  _ body: (_ b: Int, _ j: Int, _ offset: Int, _ scratch: UnsafeMutablePointer<Float>) -> Void
) {
  let offsets = packedOffsets(lengths)
  let longest = lengths.max() ?? 0
  let pairs = lengths.count * heads
  let workers = max(1, min(threads, pairs))
  let size = scratchPerPair * longest * longest
  let slots = UnsafeMutablePointer<Float>.allocate(capacity: max(workers * size, 1))
  defer { slots.deallocate() }
  let free = SlotPool(workers)
  dynamicFor(pairs, threads: workers) { pair in
    let b = pair / heads
    guard lengths[b] > 0 else { return }
    let slot = free.take()
    defer { free.give(slot) }
    body(b, pair % heads, offsets[b], slots + slot * size)
  }
}

/// The first row of each of sequences packed back to back: o_b = Σ_{b' < b} L_b'.
func packedOffsets(_ lengths: [Int]) -> [Int] {
  var offsets: [Int] = []
  offsets.reserveCapacity(lengths.count)
  var o = 0
  for len in lengths {
    offsets.append(o)
    o += len
  }
  return offsets
}

/// Scratch slots 0..<n handed out and returned under a lock.
final class SlotPool: @unchecked Sendable {
  private let lock = NSLock()
  private var free: [Int]

  init(_ n: Int) { free = Array(0..<n) }

  func take() -> Int {
    lock.lock()
    defer { lock.unlock() }
    return free.removeLast()
  }

  func give(_ slot: Int) {
    lock.lock()
    defer { lock.unlock() }
    free.append(slot)
  }
}

/// Softmax of each row, in place: p_j = exp(s_j − max s) / Σ_k exp(s_k − max s), with
/// `Exp.value` for exp.
///
/// s: rows×cols, contiguous. The max and the sum run over 8 interleaved partial results so
/// that they vectorise.
func attentionSoftmax(_ s: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
  let wide = cols & ~7
  for r in 0..<rows {
    let row = s + r * cols
    var top8 = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    while j < wide {
      let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
      top8 = top8.replacing(with: v, where: v .> top8)
      j += 8
    }
    var top = top8.max()
    for t in wide..<cols where row[t] > top { top = row[t] }
    for t in 0..<cols { row[t] = Exp.value(row[t] - top) }
    var sum8 = SIMD8<Float>(repeating: 0)
    j = 0
    while j < wide {
      sum8 += UnsafeRawPointer(row + j).loadUnaligned(as: SIMD8<Float>.self)
      j += 8
    }
    var sum = sum8.sum()
    for t in wide..<cols { sum += row[t] }
    let inv = 1 / sum
    for t in 0..<cols { row[t] *= inv }
  }
}
