/// The three EDA operations (Wei & Zou 2019) over a token sequence of any element type,
/// seeded. `synonyms(t)` gives the synonyms of token t, each as a token sequence (a
/// multi-word synonym is several tokens); a token with none is never picked for a swap or
/// an insertion. `Augmenter` runs these on strings, `KeyAugmenter` on word keys.
enum EDA {
  /// Synonym swap: n = max(1, round(α·len)) distinct candidate positions, chosen by a
  /// partial seeded Fisher–Yates shuffle (all candidates if fewer), each replaced by a
  /// uniformly chosen synonym. Unchanged when no token has a synonym.
  static func synonymSwap<T>(
    _ words: [T], alpha: Float, synonyms: (T) -> [[T]], rng: inout SplitMix64
  ) -> [T] {
    var candidates = words.indices.filter { !synonyms(words[$0]).isEmpty }
    guard !candidates.isEmpty else { return words }
    let n = min(editCount(alpha, words.count), candidates.count)
    var replacement = [[T]?](repeating: nil, count: words.count)
    for i in 0..<n {
      candidates.swapAt(i, i + uniform(candidates.count - i, &rng))
      let p = candidates[i]
      let syns = synonyms(words[p])
      replacement[p] = syns[uniform(syns.count, &rng)]
    }
    var out: [T] = []
    out.reserveCapacity(words.count + n)
    for (p, w) in words.enumerated() {
      if let s = replacement[p] { out.append(contentsOf: s) } else { out.append(w) }
    }
    return out
  }

  /// Random insertion: n = max(1, round(α·len)) times, a uniformly random synonym of the
  /// token at a uniformly random candidate position of the original row is inserted at a
  /// uniformly random gap (never inside an earlier inserted synonym).
  static func randomInsertion<T>(
    _ words: [T], alpha: Float, synonyms: (T) -> [[T]], rng: inout SplitMix64
  ) -> [T] {
    let candidates = words.indices.filter { !synonyms(words[$0]).isEmpty }
    guard !candidates.isEmpty else { return words }
    let n = editCount(alpha, words.count)
    // Insertion k goes to gap g_k of the row as it is then (words.count + k segments).
    var inserted: [[T]] = []
    var gaps: [Int] = []
    inserted.reserveCapacity(n)
    gaps.reserveCapacity(n)
    for k in 0..<n {
      let syns = synonyms(words[candidates[uniform(candidates.count, &rng)]])
      inserted.append(syns[uniform(syns.count, &rng)])
      gaps.append(uniform(words.count + k + 1, &rng))
    }
    // The final row, rebuilt offline instead of by n array insertions (quadratic in the
    // row's length): going from the last insertion to the first, insertion k takes the
    // (g_k + 1)-th free slot of the words.count + n; the original words fill the rest in
    // order. O((len + n) log(len + n)), the same row as inserting one by one.
    let total = words.count + n
    var free = FenwickCounts(count: total)
    var slot = [Int](repeating: -1, count: total)  // -1: an original word
    for k in stride(from: n - 1, through: 0, by: -1) {
      let position = free.findNth(gaps[k] + 1)
      free.remove(position)
      slot[position] = k
    }
    var out: [T] = []
    out.reserveCapacity(total)
    var next = 0
    for owner in slot {
      if owner >= 0 {
        out.append(contentsOf: inserted[owner])
      } else {
        out.append(words[next])
        next += 1
      }
    }
    return out
  }

  /// Random deletion: each token deleted with probability α, order kept; if all were
  /// deleted, one uniformly chosen token is returned; one token or none is left as is.
  static func randomDeletion<T>(_ words: [T], alpha: Float, rng: inout SplitMix64) -> [T] {
    guard words.count > 1 else { return words }
    let p = clamped(alpha)
    var out: [T] = []
    out.reserveCapacity(words.count)
    for w in words where rng.nextUnitFloat() >= p { out.append(w) }
    if out.isEmpty { return [words[uniform(words.count, &rng)]] }
    return out
  }

  /// Variant k of `count` applies operation k mod 3 (swap, insertion, deletion); without
  /// synonyms (`hasSynonyms` false) every variant is a deletion.
  static func variants<T>(
    of words: [T], count: Int, alpha: Float, hasSynonyms: Bool, synonyms: (T) -> [[T]],
    rng: inout SplitMix64
  ) -> [[T]] {
    guard count > 0 else { return [] }
    return (0..<count).map { k in
      switch (k % 3, hasSynonyms) {
      case (0, true): return synonymSwap(words, alpha: alpha, synonyms: synonyms, rng: &rng)
      case (1, true): return randomInsertion(words, alpha: alpha, synonyms: synonyms, rng: &rng)
      default: return randomDeletion(words, alpha: alpha, rng: &rng)
      }
    }
  }

  /// n = max(1, round(α·len)), α clamped to [0, 1].
  static func editCount(_ alpha: Float, _ length: Int) -> Int {
    max(1, Int((Double(clamped(alpha)) * Double(length)).rounded()))
  }

  static func clamped(_ alpha: Float) -> Float { alpha.isNaN ? 0 : min(max(alpha, 0), 1) }

  /// Uniform in 0..<n (n > 0); bias below n/2⁶⁴.
  static func uniform(_ n: Int, _ rng: inout SplitMix64) -> Int {
    Int(rng.next() % UInt64(n))
  }
}

/// Counts of free slots 0..<count in a Fenwick tree (all free at first): remove a slot, or
/// find the n-th free one, each in O(log count).
struct FenwickCounts {
  private var tree: [Int]

  init(count: Int) {
    tree = [Int](repeating: 0, count: count + 1)
    for i in 1...max(count, 1) where i <= count {
      tree[i] += 1
      let parent = i + (i & -i)
      if parent <= count { tree[parent] += tree[i] }
    }
  }

  mutating func remove(_ slot: Int) {
    var i = slot + 1
    while i < tree.count {
      tree[i] -= 1
      i += i & -i
    }
  }

  /// The slot of the n-th free slot (1-based n, at most the number free).
  func findNth(_ n: Int) -> Int {
    var position = 0
    var remaining = n
    var step = 1
    while step * 2 < tree.count { step *= 2 }
    while step > 0 {
      let next = position + step
      if next < tree.count && tree[next] < remaining {
        position = next
        remaining -= tree[next]
      }
      step /= 2
    }
    return position  // 0-based slot
  }
}
