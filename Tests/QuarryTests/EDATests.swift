import XCTest

@testable import Quarry

/// `EDA.randomInsertion` rebuilds the row offline; a naive reference inserts one segment at
/// a time with the same draws. The two must agree exactly.
final class EDATests: XCTestCase {
  func naiveInsertion(
    _ words: [Int], alpha: Float, synonyms: (Int) -> [[Int]], rng: inout SplitMix64
  )
    -> [Int]
  {
    let candidates = words.indices.filter { !synonyms(words[$0]).isEmpty }
    guard !candidates.isEmpty else { return words }
    let n = EDA.editCount(alpha, words.count)
    var segments: [[Int]] = words.map { [$0] }
    for _ in 0..<n {
      let syns = synonyms(words[candidates[EDA.uniform(candidates.count, &rng)]])
      let s = syns[EDA.uniform(syns.count, &rng)]
      segments.insert(s, at: EDA.uniform(segments.count + 1, &rng))
    }
    return Array(segments.joined())
  }

  func testRandomInsertionEqualsOneByOneInsertion() {
    // Even words have synonyms: w → [[w + 1000], [w + 2000, w + 2001]] (one multi-token).
    let synonyms: (Int) -> [[Int]] = { $0 % 2 == 0 ? [[$0 + 1000], [$0 + 2000, $0 + 2001]] : [] }
    var source = SplitMix64(seed: 9)
    for length in [1, 2, 3, 7, 20, 100, 1000] {
      for alpha in [Float(0.05), 0.2, 0.5, 1] {
        let words = (0..<length).map { _ in Int(source.next() % 50) }
        let seed = source.next()
        var a = SplitMix64(seed: seed)
        var b = SplitMix64(seed: seed)
        XCTAssertEqual(
          EDA.randomInsertion(words, alpha: alpha, synonyms: synonyms, rng: &a),
          naiveInsertion(words, alpha: alpha, synonyms: synonyms, rng: &b),
          "length \(length), alpha \(alpha)")
      }
    }
  }

  func testFenwickFindsTheNthFreeSlot() {
    var f = FenwickCounts(count: 10)
    var free = Array(0..<10)
    var rng = SplitMix64(seed: 3)
    while !free.isEmpty {
      let n = Int(rng.next() % UInt64(free.count)) + 1
      XCTAssertEqual(f.findNth(n), free[n - 1])
      f.remove(free[n - 1])
      free.remove(at: n - 1)
    }
  }
}
