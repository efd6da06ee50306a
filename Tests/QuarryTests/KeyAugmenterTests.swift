import XCTest

@testable import Quarry

/// The token path of augmentation (variants that remember where each word came from, and
/// features that reuse the row's n-gram rows) against the plain path on word keys.
final class KeyAugmenterTests: XCTestCase {
  let words = (0..<40).map { "w\($0)" }

  /// Random rows of the words, and a synonym table in which some synonyms are several
  /// words, some are words of the rows and some are new.
  func fixture(seed: UInt64) -> (texts: [String], table: [UInt64: [[UInt64]]]) {
    var rng = SplitMix64(seed: seed)
    let texts = (0..<30).map { _ in
      (0..<(1 + EDA.uniform(25, &rng))).map { _ in words[EDA.uniform(words.count, &rng)] }
        .joined(separator: " ")
    }
    var table: [UInt64: [[UInt64]]] = [:]
    for w in words.prefix(25) {
      table[FeatureExtractor.wordKey(w.utf8)] = (0..<(1 + EDA.uniform(3, &rng))).map { _ in
        (0..<(1 + EDA.uniform(2, &rng))).map { _ in
          let pick = EDA.uniform(60, &rng)
          return FeatureExtractor.wordKey((pick < 40 ? words[pick] : "new\(pick)").utf8)
        }
      }
    }
    return (texts, table)
  }

  func testTokenVariantsMakeTheSameEditsAsKeyVariants() {
    let (texts, table) = fixture(seed: 3)
    let aug = KeyAugmenter(table: table, alpha: 0.2)
    var f = Featurizer(
      vocabulary: Vocabulary.build(texts: texts, config: FeatureConfig()).0,
      config: FeatureConfig())
    var edited = 0
    for (i, text) in texts.enumerated() {
      let keys = f.wordKeys(text)
      var a = SplitMix64(seed: UInt64(i))
      var b = SplitMix64(seed: UInt64(i))
      let plain = aug.variants(of: keys, count: 6, rng: &a)
      let tokens = aug.variants(of: aug.tokens(of: keys), count: 6, rng: &b)
      XCTAssertEqual(tokens.map { $0.map(\.key) }, plain, "row \(i)")
      for v in tokens {
        // A word kept from the row says where it was.
        for t in v where t.position >= 0 { XCTAssertEqual(t.key, keys[Int(t.position)]) }
        if v.map(\.key) != keys { edited += 1 }
      }
      XCTAssertEqual(a.next(), b.next(), "both paths draw the same random numbers")
    }
    XCTAssertGreaterThan(edited, 100, "the fixture should make real edits")
  }

  func testVariantFeaturesEqualFeaturesOfTheirKeys() {
    for ngrams in [1, 2, 3] {
      let (texts, table) = fixture(seed: UInt64(10 + ngrams))
      let config = TrainingFixtures.features(wordNgrams: ngrams)
      // Half the rows build the vocabulary, so that variants meet unknown words and n-grams.
      let vocab = Vocabulary.build(texts: Array(texts.prefix(15)), config: config).0
      var fast = Featurizer(vocabulary: vocab, config: config)
      var plain = Featurizer(vocabulary: vocab, config: config)
      let aug = KeyAugmenter(table: table, alpha: 0.3)
      var a = SparseFeatures()
      var b = SparseFeatures()
      for (i, text) in texts.enumerated() {
        let keys = fast.wordKeys(text)
        let rows = fast.ngramRows(wordKeys: keys)
        var rng = SplitMix64(seed: UInt64(100 + i))
        for v in aug.variants(of: aug.tokens(of: keys), count: 6, rng: &rng) + [
          aug.tokens(of: keys)
        ] {
          fast.features(variant: v, original: rows, into: &a)
          plain.features(wordKeys: v.map(\.key), into: &b)
          XCTAssertEqual(a, b, "n-grams \(ngrams), row \(i)")
        }
      }
    }
  }
}
