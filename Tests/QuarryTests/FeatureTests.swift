import Foundation
import XCTest

@testable import Quarry

final class FeatureTests: XCTestCase {
  func config(ngrams: Int = 1, chars: ClosedRange<Int> = 0...0) -> FeatureConfig {
    TrainingFixtures.features(wordNgrams: ngrams, charNgrams: chars)
  }

  // MARK: FNV-1a

  /// Published FNV-1a 64-bit test vectors.
  func testFNV1aReferenceVectors() {
    XCTAssertEqual(FNV1a.hash([UInt8]()), 0xCBF2_9CE4_8422_2325)
    XCTAssertEqual(FNV1a.hash(Array("a".utf8)), 0xAF63_DC4C_8601_EC8C)
    XCTAssertEqual(FNV1a.hash(Array("foobar".utf8)), 0x8594_4171_F739_67E8)
    let bytes = Array("xfoobarx".utf8)
    bytes.withUnsafeBufferPointer { b in
      XCTAssertEqual(FNV1a.hash(b, 1..<7), 0x8594_4171_F739_67E8)
      // Continuing from a seed equals hashing the concatenation.
      XCTAssertEqual(FNV1a.hash(b, 4..<8, seed: FNV1a.hash(b, 0..<4)), FNV1a.hash(bytes))
    }
  }

  // MARK: FeatureExtractor

  func testWordKeysAreFNVOfLowercasedUTF8() {
    var x = FeatureExtractor(config: config())
    x.extract("Word ÉCOLE word")
    XCTAssertEqual(
      x.wordKeys,
      [
        FNV1a.hash(Array("word".utf8)), FNV1a.hash(Array("école".utf8)),
        FNV1a.hash(Array("word".utf8)),
      ])
    XCTAssertEqual(FeatureExtractor.wordKey(Array("word".utf8)), FNV1a.hash(Array("word".utf8)))
    XCTAssertTrue(x.otherKeys.isEmpty, "wordNgrams 1 and no char n-grams make no other keys")
  }

  func testBigramAndTrigramKeys() {
    let words = ["the", "quick", "brown", "fox", "jumps"]
    let h = words.map { FNV1a.hash(Array($0.utf8)) }
    var x2 = FeatureExtractor(config: config(ngrams: 2))
    x2.extract(words.joined(separator: " "))
    XCTAssertEqual(x2.otherKeys.count, words.count - 1)
    XCTAssertEqual(
      Set(x2.otherKeys),
      Set((0..<(words.count - 1)).map { FNV1a.combine(h[$0], h[$0 + 1], tag: 2) }))

    var x3 = FeatureExtractor(config: config(ngrams: 3))
    x3.extract(words.joined(separator: " "))
    XCTAssertEqual(x3.otherKeys.count, (words.count - 1) + (words.count - 2))
    let trigrams = (0..<(words.count - 2)).map {
      FNV1a.combine(FNV1a.combine(h[$0], h[$0 + 1], tag: 2), h[$0 + 2], tag: 3)
    }
    XCTAssertTrue(Set(trigrams).isSubset(of: Set(x3.otherKeys)))
    // Bigram a b differs from b a.
    XCTAssertNotEqual(FNV1a.combine(h[0], h[1], tag: 2), FNV1a.combine(h[1], h[0], tag: 2))

    var one = FeatureExtractor(config: config(ngrams: 2))
    one.extract("alone")
    XCTAssertEqual(one.otherKeys, [])
    one.extract("")
    XCTAssertEqual(one.wordKeys, [])
    XCTAssertEqual(one.otherKeys, [])
  }

  func testCharNgramCounts() {
    // "<abc>" has 5 characters: 4 of length 2 and 3 of length 3.
    var x = FeatureExtractor(config: config(chars: 2...3))
    x.extract("abc")
    XCTAssertEqual(x.otherKeys.count, 7)
    // "<ab>" has 4 characters: lengths 3..6 give 2 of length 3; the length-4 one is the
    // whole "<ab>", left out.
    var y = FeatureExtractor(config: config(chars: 3...6))
    y.extract("ab")
    XCTAssertEqual(y.otherKeys.count, 2)
    // Counted in characters, not bytes: "<é>" has 3 characters, lengths 1..2 give 3 + 2.
    var z = FeatureExtractor(config: config(chars: 1...2))
    z.extract("é")
    XCTAssertEqual(z.otherKeys.count, 5)
    // Two words: the counts add; "<hello>" (7 chars) lengths 3..5: 5 + 4 + 3 = 12,
    // "<hi>" (4 chars) lengths 3..5: 2 (+ the whole word, left out).
    var w = FeatureExtractor(config: config(chars: 3...5))
    w.extract("hello hi")
    XCTAssertEqual(w.otherKeys.count, 14)
  }

  /// Character n-gram keys are FNV-1a over a 0x01 tag byte and the n-gram's UTF-8, so
  /// they never equal the word key of the same letters.
  func testCharNgramKeysAreTaggedFNV() {
    var x = FeatureExtractor(config: config(chars: 2...2))
    x.extract("ab")
    let expected = ["<a", "ab", "b>"].map { FNV1a.hash([0x01] + Array($0.utf8)) }
    XCTAssertEqual(x.otherKeys, expected)
    XCTAssertFalse(x.otherKeys.contains(FNV1a.hash(Array("ab".utf8))))
  }

  // MARK: FeatureIndex

  func testIndexInsertAndRow() {
    var idx = FeatureIndex(capacity: 4)
    XCTAssertEqual(idx.row(12345), -1)
    XCTAssertEqual(idx.insert(12345).row, 0)
    XCTAssertTrue(idx.insert(777).inserted)
    let again = idx.insert(12345)
    XCTAssertEqual(again.row, 0)
    XCTAssertFalse(again.inserted)
    XCTAssertEqual(idx.row(777), 1)
    XCTAssertEqual(idx.count, 2)
    // Key 0 is usable.
    XCTAssertEqual(idx.insert(0).row, 2)
    XCTAssertEqual(idx.row(0), 2)
  }

  func testIndexGrowsPastManyInserts() {
    var idx = FeatureIndex(capacity: 1)
    var rng = SplitMix64(seed: 77)
    var keys: [UInt64] = []
    var seen = Set<UInt64>()
    while keys.count < 5000 {
      let k = rng.next() | 2  // never 0 or 1
      if seen.insert(k).inserted { keys.append(k) }
    }
    for (i, k) in keys.enumerated() {
      let r = idx.insert(k)
      XCTAssertTrue(r.inserted)
      XCTAssertEqual(Int(r.row), i)
    }
    XCTAssertEqual(idx.count, keys.count)
    let cap = idx.slotKeys.count
    XCTAssertEqual(cap & (cap - 1), 0, "capacity is a power of two")
    XCTAssertGreaterThanOrEqual(cap, 2 * keys.count)
    for (i, k) in keys.enumerated() { XCTAssertEqual(Int(idx.row(k)), i) }
    var misses = 0
    for _ in 0..<1000 where idx.row(rng.next() | 2) >= 0 { misses += 1 }
    XCTAssertEqual(misses, 0)
    // Rebuilding from the stored arrays gives the same table.
    XCTAssertEqual(
      FeatureIndex(slotKeys: idx.slotKeys, slotRows: idx.slotRows, count: idx.count), idx)
  }

  func testIndexFromSlotsRejectsInconsistentArrays() {
    var idx = FeatureIndex(capacity: 8)
    for k: UInt64 in [10, 20, 30] { idx.insert(k) }
    let keys = idx.slotKeys
    let rows = idx.slotRows
    XCTAssertNotNil(FeatureIndex(slotKeys: keys, slotRows: rows, count: 3))
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: rows, count: 2), "filled ≠ count")
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: rows, count: 4), "filled ≠ count")
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: rows, count: -1))
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: Array(rows.dropLast()), count: 3))
    XCTAssertNil(
      FeatureIndex(slotKeys: Array(keys.dropLast()), slotRows: Array(rows.dropLast()), count: 3),
      "not a power of two")
    XCTAssertNil(
      FeatureIndex(slotKeys: Array(keys.prefix(8)), slotRows: Array(rows.prefix(8)), count: 0),
      "smaller than 16")
    let filled = keys.indices.first { keys[$0] != 0 }!
    var badRows = rows
    badRows[filled] = 3
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: badRows, count: 3), "row ≥ count")
    badRows[filled] = -1
    XCTAssertNil(FeatureIndex(slotKeys: keys, slotRows: badRows, count: 3), "negative row")
    // More than half full.
    var full = [UInt64](repeating: 0, count: 16)
    var fullRows = [Int32](repeating: -1, count: 16)
    for s in 0..<9 {
      full[s] = UInt64(s + 100)
      fullRows[s] = Int32(s)
    }
    XCTAssertNil(FeatureIndex(slotKeys: full, slotRows: fullRows, count: 9))
  }

  // MARK: Vocabulary

  func testVocabularyRowsAndIdfByHand() {
    let texts = ["a b", "b c", "a a"]
    let (v, counts) = Vocabulary.build(texts: texts, config: config(ngrams: 2))
    let key = { (w: String) in FNV1a.hash(Array(w.utf8)) }
    // Words in order of first appearance, then the n-grams.
    XCTAssertEqual(v.wordCount, 3)
    XCTAssertEqual(v.index.row(key("a")), 0)
    XCTAssertEqual(v.index.row(key("b")), 1)
    XCTAssertEqual(v.index.row(key("c")), 2)
    let bigrams = [("a", "b"), ("b", "c"), ("a", "a")].map {
      FNV1a.combine(key($0.0), key($0.1), tag: 2)
    }
    XCTAssertEqual(bigrams.map { v.index.row($0) }, [3, 4, 5])
    XCTAssertEqual(v.featureCount, 6)
    // idf = ln((1 + N)/(1 + df)) + 1 with N = 3: df(a) = 2, df(b) = 2, df(c) = 1, every
    // bigram 1.
    let n = 3.0
    let expected = [2.0, 2, 1, 1, 1, 1].map { log((1 + n) / (1 + $0)) + 1 }
    XCTAssertEqual(v.idf.count, 6)
    for i in 0..<6 { XCTAssertEqual(Double(v.idf[i]), expected[i], accuracy: 1e-6, "row \(i)") }
    XCTAssertEqual(counts.tokensPerWord, [3, 2, 1])
    XCTAssertEqual(counts.totalTokens, 6)
  }

  func testVocabularyMinCountDropsRareFeatures() {
    let texts = ["a b", "b c", "a a"]
    let (v, _) = Vocabulary.build(texts: texts, config: config(ngrams: 2), minCount: 2)
    XCTAssertEqual(v.wordCount, 2)
    XCTAssertEqual(v.featureCount, 2, "every bigram occurs in one document only")
    XCTAssertEqual(v.index.row(FNV1a.hash(Array("c".utf8))), -1)
  }

  func testVocabularyIsDeterministic() {
    let texts = (0..<50).map { "doc \($0 % 7) word\($0 % 11) common tail\($0)" }
    let c = config(ngrams: 2, chars: 3...4)
    XCTAssertEqual(
      Vocabulary.build(texts: texts, config: c).0, Vocabulary.build(texts: texts, config: c).0)
  }

  // MARK: Featurizer

  func testFeaturizerWeightsByHand() {
    let texts = ["a b", "b c", "a a"]
    let c = config(ngrams: 1)
    let (v, _) = Vocabulary.build(texts: texts, config: c)
    var f = Featurizer(vocabulary: v, config: c)
    let idf = v.idf.map(Double.init)
    // "a a c zzz": tf(a) = 2 → 1 + ln 2, tf(c) = 1; zzz unknown.
    let s = f.features("a A c zzz")
    XCTAssertEqual(s.tokens, 4)
    XCTAssertEqual(s.knownTokens, 3)
    XCTAssertEqual(s.wideRows, [0, 2])
    XCTAssertEqual(s.bagRows, [0, 2])
    let wa = (1 + log(2.0)) * idf[0]
    let wc = idf[2]
    let norm = (wa * wa + wc * wc).squareRoot()
    XCTAssertEqual(Double(s.wideValues[0]), wa / norm, accuracy: 1e-6)
    XCTAssertEqual(Double(s.wideValues[1]), wc / norm, accuracy: 1e-6)
    XCTAssertEqual(Double(s.bagWeights[0]), wa / (wa + wc), accuracy: 1e-6)
    XCTAssertEqual(Double(s.bagWeights[1]), wc / (wa + wc), accuracy: 1e-6)

    var raw = config(ngrams: 1)
    raw.sublinearTF = false
    var g = Featurizer(vocabulary: v, config: raw)
    let t = g.features("a a c")
    let ra = 2 * idf[0]
    XCTAssertEqual(Double(t.bagWeights[0]), ra / (ra + wc), accuracy: 1e-6)
  }

  func testFeaturizerNormalisation() {
    let texts = [
      "the cat sat on the mat", "a dog ate my homework", "the dog and the cat",
      "stock prices fell sharply", "prices rose on the news",
    ]
    let c = config(ngrams: 2, chars: 3...5)
    let (v, _) = Vocabulary.build(texts: texts, config: c)
    var f = Featurizer(vocabulary: v, config: c)
    for text in texts + ["the cat and unknownword", "The Cat THE cat"] {
      let s = f.features(text)
      let norm2 = s.wideValues.reduce(0.0) { $0 + Double($1) * Double($1) }
      XCTAssertEqual(norm2, 1, accuracy: 1e-5, text)
      XCTAssertEqual(s.bagWeights.reduce(0.0) { $0 + Double($1) }, 1, accuracy: 1e-5, text)
      XCTAssertTrue(s.bagRows.allSatisfy { $0 >= 0 && Int($0) < v.wordCount }, text)
      XCTAssertTrue(s.wideRows.allSatisfy { $0 >= 0 && Int($0) < v.featureCount }, text)
      XCTAssertEqual(s.wideRows, s.wideRows.sorted(), "rows sorted")
      XCTAssertEqual(Set(s.wideRows).count, s.wideRows.count, "rows unique")
      XCTAssertGreaterThan(s.wideRows.count, s.bagRows.count, "n-grams add wide features")
    }
  }

  func testFeaturizerIgnoresUnknownWords() {
    let c = config(ngrams: 2)
    let (v, _) = Vocabulary.build(texts: ["alpha beta", "gamma"], config: c)
    var f = Featurizer(vocabulary: v, config: c)
    let none = f.features("zeta eta theta")
    XCTAssertEqual(none.tokens, 3)
    XCTAssertEqual(none.knownTokens, 0)
    XCTAssertEqual(none.wideRows, [])
    XCTAssertEqual(none.bagRows, [])
    XCTAssertEqual(none.bagWeights, [])
    // Unknown words around a known one change nothing.
    XCTAssertEqual(f.features("gamma").wideValues, f.features("zeta gamma eta").wideValues)
    XCTAssertEqual(f.features("gamma").bagRows, f.features("zeta gamma eta").bagRows)
  }

  /// Tallying (a count table and a bitmap read back in order) gives the sort's features,
  /// exactly: on texts long enough to take it (64 rows or more) and short ones, with
  /// repeated words, over a vocabulary of many bit words and summary words.
  func testTallyingGivesTheSortsFeatures() {
    var rng = SplitMix64(seed: 3)
    let words = (0..<3000).map { "w\($0)" }
    func text(_ n: Int) -> String {
      (0..<n).map { _ in words[Int(rng.next() % UInt64(rng.next() % 2 == 0 ? 40 : 3000))] }
        .joined(separator: " ")
    }
    let texts = (0..<600).map { _ in text(Int(rng.next() % 200)) }
    let c = config(ngrams: 3)
    let (v, _) = Vocabulary.build(texts: texts, config: c)
    XCTAssertGreaterThan(v.featureCount, 3 * 4096)
    var sorting = Featurizer(vocabulary: v, config: c, tallies: false)
    var tallying = Featurizer(vocabulary: v, config: c, tallies: true)
    var long = 0
    for (i, t) in (texts + (0..<50).map({ _ in text(150) + " unknown words here" })).enumerated() {
      let a = sorting.features(t)
      XCTAssertTrue(tallying.features(t) == a, "text \(i)")
      if a.wideRows.count >= 64 { long += 1 }
    }
    XCTAssertGreaterThan(long, 300)
    // FeatureMatrix tallies from `tallyFrom` texts on; its rows are the same.
    let m = FeatureMatrix(texts: texts, vocabulary: v, config: c)
    XCTAssertGreaterThanOrEqual(texts.count, FeatureMatrix.tallyFrom)
    let sorted = texts.map { sorting.features($0) }
    XCTAssertEqual(m.wideRows, sorted.flatMap(\.wideRows))
    XCTAssertEqual(m.wideValues, sorted.flatMap(\.wideValues))
    XCTAssertEqual(m.bagRows, sorted.flatMap(\.bagRows))
    XCTAssertEqual(m.bagWeights, sorted.flatMap(\.bagWeights))
    XCTAssertEqual(m.tokens, sorted.reduce(0) { $0 + $1.tokens })
  }

  func testFeatureMatrixConcatenation() {
    let c = config(ngrams: 2)
    let texts = ["one two", "two three four", "", "four one", "five"]
    let (v, _) = Vocabulary.build(texts: texts, config: c)
    let whole = FeatureMatrix(texts: texts, vocabulary: v, config: c)
    XCTAssertEqual(whole.count, texts.count)
    var joined = FeatureMatrix(texts: Array(texts[0..<2]), vocabulary: v, config: c)
    joined.append(contentsOf: FeatureMatrix(texts: Array(texts[2...]), vocabulary: v, config: c))
    XCTAssertEqual(joined.wideStart, whole.wideStart)
    XCTAssertEqual(joined.wideRows, whole.wideRows)
    XCTAssertEqual(joined.wideValues, whole.wideValues)
    XCTAssertEqual(joined.bagStart, whole.bagStart)
    XCTAssertEqual(joined.bagRows, whole.bagRows)
    XCTAssertEqual(joined.bagWeights, whole.bagWeights)
    XCTAssertEqual(joined.tokens, 8)
    XCTAssertEqual(joined.knownTokens, 8)
    // The empty document has no features.
    XCTAssertEqual(whole.wideStart[2], whole.wideStart[3])
  }
}
