import XCTest

@testable import Quarry

final class AugmenterTests: XCTestCase {
  /// Single-word synonyms, none of which occurs in `row`. "the" (a stop word) and "7"
  /// (no letter) have entries but must never be used.
  let thesaurus = Thesaurus(entries: [
    "quick": ["fast", "speedy", "rapid"],
    "brown": ["tan", "umber"],
    "fox": ["vixen"],
    "jumps": ["leaps", "hops"],
    "lazy": ["idle", "slothful"],
    "dog": ["hound", "canine"],
    "the": ["thee"],
    "7": ["seven"],
  ])

  /// 50 tokens: "the quick brown fox jumps over the lazy dog 7" five times; 30 of them
  /// (quick, brown, fox, jumps, lazy, dog) are candidates.
  let row: [String] = Array(
    repeating: ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "7"],
    count: 5
  ).flatMap { $0 }

  let candidateWords: Set<String> = ["quick", "brown", "fox", "jumps", "lazy", "dog"]

  /// Every synonym of every candidate word of `row`.
  var allSynonyms: Set<String> {
    Set(candidateWords.flatMap { thesaurus.synonyms(of: $0) })
  }

  /// Whether `a` is `b` with some elements removed (order kept).
  func isSubsequence(_ a: [String], of b: [String]) -> Bool {
    var i = 0
    for x in b where i < a.count && a[i] == x { i += 1 }
    return i == a.count
  }

  /// Checks that `out` is `row` with exactly `n` positions replaced by synonyms of the
  /// words there.
  func checkSwap(
    _ out: [String], _ row: [String], n: Int, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(out.count, row.count, "\(out)", file: file, line: line)
    guard out.count == row.count else { return }
    let changed = row.indices.filter { out[$0] != row[$0] }
    XCTAssertEqual(changed.count, n, "\(out)", file: file, line: line)
    for i in changed {
      XCTAssertTrue(candidateWords.contains(row[i]), "\(row[i]) swapped", file: file, line: line)
      XCTAssertTrue(
        thesaurus.synonyms(of: row[i]).contains(out[i]), "\(row[i]) → \(out[i])", file: file,
        line: line)
    }
  }

  /// Checks that `out` is `row` with exactly `n` tokens inserted, each a synonym of a
  /// candidate word of `row` (no synonym occurs in `row`, so the inserted ones are exactly
  /// the tokens not in `row`).
  func checkInsertion(
    _ out: [String], _ row: [String], n: Int, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(out.count, row.count + n, "\(out)", file: file, line: line)
    let words = Set(row)
    XCTAssertEqual(out.filter { words.contains($0) }, row, file: file, line: line)
    let inserted = out.filter { !words.contains($0) }
    XCTAssertEqual(inserted.count, n, file: file, line: line)
    let allowed = Set(candidateWords.filter(words.contains).flatMap { thesaurus.synonyms(of: $0) })
    for s in inserted {
      XCTAssertTrue(allowed.contains(s), "inserted \(s)", file: file, line: line)
    }
  }

  func testSynonymSwapChangesExactlyNPositions() {
    // n = max(1, round(α·50)): 0.02 → 1, 0.1 → 5, 0.3 → 15.
    for (alpha, n) in [(Float(0.02), 1), (0.1, 5), (0.3, 15), (0, 1)] {
      for seed in UInt64(0)..<20 {
        var rng = SplitMix64(seed: seed)
        let out = Augmenter.synonymSwap(row, alpha: alpha, thesaurus: thesaurus, rng: &rng)
        checkSwap(out, row, n: n)
        XCTAssertFalse(out.contains("thee") || out.contains("seven"), "\(out)")
      }
    }
  }

  func testSynonymSwapIsCappedByCandidatesAndLeavesRowsWithoutThem() {
    var rng = SplitMix64(seed: 3)
    let two = ["the", "lazy", "cat", "and", "the", "dog"]
    checkSwap(Augmenter.synonymSwap(two, alpha: 1, thesaurus: thesaurus, rng: &rng), two, n: 2)
    let none = ["the", "of", "7", "xyzzy"]
    XCTAssertEqual(Augmenter.synonymSwap(none, alpha: 0.5, thesaurus: thesaurus, rng: &rng), none)
    XCTAssertEqual(Augmenter.synonymSwap([], alpha: 0.5, thesaurus: thesaurus, rng: &rng), [])
  }

  func testMultiWordSynonymBecomesSeveralTokens() {
    let t = Thesaurus(entries: ["car": ["motor vehicle"]])
    var rng = SplitMix64(seed: 1)
    XCTAssertEqual(
      Augmenter.synonymSwap(["my", "car"], alpha: 0.1, thesaurus: t, rng: &rng),
      ["my", "motor", "vehicle"])
    let out = Augmenter.randomInsertion(["a", "red", "car"], alpha: 0.1, thesaurus: t, rng: &rng)
    XCTAssertEqual(out.count, 5, "\(out)")
    XCTAssertEqual(out.filter { $0 != "motor" && $0 != "vehicle" }, ["a", "red", "car"])
    if let i = out.firstIndex(of: "motor") {
      XCTAssertEqual(out[i + 1], "vehicle", "\(out)")
    } else {
      XCTFail("\(out)")
    }
  }

  func testRandomInsertionAddsExactlyNSynonyms() {
    for (alpha, n) in [(Float(0.02), 1), (0.1, 5), (0.3, 15)] {
      for seed in UInt64(0)..<20 {
        var rng = SplitMix64(seed: seed)
        let out = Augmenter.randomInsertion(row, alpha: alpha, thesaurus: thesaurus, rng: &rng)
        checkInsertion(out, row, n: n)
      }
    }
    // Only synonyms of words present in the row are inserted.
    let short = ["a", "lazy", "afternoon", "with", "my", "dog", "and", "the", "cat"]
    for seed in UInt64(0)..<20 {
      var rng = SplitMix64(seed: seed)
      let out = Augmenter.randomInsertion(short, alpha: 0.5, thesaurus: thesaurus, rng: &rng)
      // round(0.5 · 9) = round(4.5) = 5 (half away from zero).
      checkInsertion(out, short, n: 5)
    }
    var rng = SplitMix64(seed: 9)
    let none = ["the", "of", "7", "xyzzy"]
    XCTAssertEqual(
      Augmenter.randomInsertion(none, alpha: 0.5, thesaurus: thesaurus, rng: &rng), none)
  }

  func testRandomDeletionNeverEmpties() {
    let five = ["a", "b", "c", "d", "e"]
    for seed in UInt64(0)..<200 {
      var rng = SplitMix64(seed: seed)
      let all = Augmenter.randomDeletion(five, alpha: 1, rng: &rng)
      XCTAssertEqual(all.count, 1)
      XCTAssertTrue(five.contains(all[0]))
      let most = Augmenter.randomDeletion(["x", "y"], alpha: 0.9, rng: &rng)
      XCTAssertFalse(most.isEmpty)
      XCTAssertTrue(isSubsequence(most, of: ["x", "y"]))
      XCTAssertEqual(Augmenter.randomDeletion(["solo"], alpha: 1, rng: &rng), ["solo"])
    }
    var rng = SplitMix64(seed: 0)
    XCTAssertEqual(Augmenter.randomDeletion([], alpha: 0.5, rng: &rng), [])
    XCTAssertEqual(Augmenter.randomDeletion(row, alpha: 0, rng: &rng), row)
    // The kept word after deleting everything is not always the same one.
    let kept = Set(
      (UInt64(0)..<50).map { seed -> String in
        var r = SplitMix64(seed: seed)
        return Augmenter.randomDeletion(five, alpha: 1, rng: &r)[0]
      })
    XCTAssertGreaterThan(kept.count, 2)
  }

  func testRandomDeletionRateAndOrder() {
    let n = 10_000
    let words = (0..<n).map { "w\($0)" }
    for (seed, alpha) in [(UInt64(1), Float(0.1)), (2, 0.3)] {
      var rng = SplitMix64(seed: seed)
      let out = Augmenter.randomDeletion(words, alpha: alpha, rng: &rng)
      // Binomial(10000, α): σ ≤ 46, so ±250 is over 5σ.
      let deleted = n - out.count
      XCTAssertEqual(Double(deleted), Double(alpha) * Double(n), accuracy: 250, "α \(alpha)")
      let indices = out.compactMap { Int($0.dropFirst()) }
      XCTAssertEqual(indices.count, out.count)
      XCTAssertEqual(indices, indices.sorted(), "order changed")
      XCTAssertEqual(Set(indices).count, indices.count)
    }
  }

  func testDeterminism() {
    let long = (0..<20).flatMap { _ in row }  // 1,000 tokens
    typealias Op = ([String], inout SplitMix64) -> [String]
    let t = thesaurus
    let ops: [(String, Op)] = [
      ("swap", { Augmenter.synonymSwap($0, alpha: 0.1, thesaurus: t, rng: &$1) }),
      ("insertion", { Augmenter.randomInsertion($0, alpha: 0.1, thesaurus: t, rng: &$1) }),
      ("deletion", { Augmenter.randomDeletion($0, alpha: 0.1, rng: &$1) }),
    ]
    for (name, op) in ops {
      var a = SplitMix64(seed: 42)
      var b = SplitMix64(seed: 42)
      var c = SplitMix64(seed: 43)
      let x = op(long, &a)
      XCTAssertEqual(x, op(long, &b), name)
      XCTAssertNotEqual(x, op(long, &c), name)
      XCTAssertNotEqual(x, long, name)
    }
  }

  func testVariantsCycleTheOperations() {
    // Tokenized: the row above with "." after every "7" (55 tokens), so
    // n = round(0.1 · 55) = round(5.5) = 6.
    let text = Array(repeating: "The quick brown fox jumps over the LAZY dog 7.", count: 5)
      .joined(separator: " ")
    let tokens = (0..<5).flatMap { _ in Array(row[0..<10]) + ["."] }
    let aug = Augmenter(thesaurus: thesaurus)
    XCTAssertEqual(aug.alpha, 0.1)
    var rng = SplitMix64(seed: 5)
    let variants = aug.variants(of: text, count: 7, rng: &rng)
    XCTAssertEqual(variants.count, 7)
    for (k, v) in variants.enumerated() {
      XCTAssertFalse(v.contains("  ") || v.hasPrefix(" ") || v.hasSuffix(" "), v)
      let out = v.split(separator: " ").map(String.init)
      switch k % 3 {
      case 0: checkSwap(out, tokens, n: 6)
      case 1: checkInsertion(out, tokens, n: 6)
      default:
        XCTAssertTrue(isSubsequence(out, of: tokens), "variant \(k) is not a deletion: \(v)")
        XCTAssertFalse(out.isEmpty)
      }
    }
    var again = SplitMix64(seed: 5)
    XCTAssertEqual(aug.variants(of: text, count: 7, rng: &again), variants)
    XCTAssertEqual(aug.variants(of: text, count: 0, rng: &rng), [])
  }

  func testVariantsWithoutThesaurusAreDeletions() {
    let text = Array(repeating: "the quick brown fox jumps over the lazy dog", count: 6)
      .joined(separator: " ")
    let tokens = text.split(separator: " ").map(String.init)
    let aug = Augmenter(thesaurus: nil, alpha: 0.5)
    var rng = SplitMix64(seed: 11)
    let variants = aug.variants(of: text, count: 6, rng: &rng)
    XCTAssertEqual(variants.count, 6)
    for v in variants {
      let out = v.split(separator: " ").map(String.init)
      XCTAssertTrue(isSubsequence(out, of: tokens), v)
      // 54 tokens at α = 0.5: keeping all has probability 2⁻⁵⁴.
      XCTAssertLessThan(out.count, tokens.count, v)
      XCTAssertGreaterThan(out.count, 0)
    }
  }

  func testStopWords() {
    let s = Augmenter.stopWords
    XCTAssertTrue((80...200).contains(s.count), "\(s.count)")
    XCTAssertTrue(s.isSuperset(of: ["the", "a", "and", "of", "is", "you"]))
    XCTAssertFalse(s.contains("dog") || s.contains("quick"))
    XCTAssertTrue(s.allSatisfy { $0 == $0.lowercased() && !$0.contains(" ") })
  }
}
