import XCTest

@testable import Quarry

final class TermWeightsTests: XCTestCase {
  /// A naive igm: for each row, the documents of each class that hold it, sorted.
  func naiveIGM(_ m: FeatureMatrix, labels: [Int32], classes: Int, rows: Int) -> [Float] {
    (0..<rows).map { r in
      var n = [Int](repeating: 0, count: classes)
      for d in 0..<m.count
      where m.wideRows[m.wideStart[d]..<m.wideStart[d + 1]].contains(Int32(r)) {
        n[Int(labels[d])] += 1
      }
      let sorted = n.sorted(by: >)
      let moment = sorted.enumerated().reduce(Float(0)) { $0 + Float($1.0 + 1) * Float($1.1) }
      return moment > 0 ? Float(sorted[0]) / moment : 0
    }
  }

  func testIGMOfKnownSpreadsAndAgainstTheNaiveCount() {
    // "apple" only in class 0; "shared" in every document of three classes (evenly);
    // "tilted" in three documents of class 1 and one of class 2.
    let rows: [(Int32, String)] = [
      (0, "apple shared"), (0, "apple shared"), (1, "shared tilted"), (1, "shared tilted"),
      (1, "shared tilted"), (2, "shared tilted"), (2, "shared"), (0, "shared"), (1, "plain"),
    ]
    var config = FeatureConfig()
    config.wordNgrams = 1
    let texts = rows.map(\.1)
    let (vocab, _) = Vocabulary.build(texts: texts, config: config)
    let m = FeatureMatrix(texts: texts, vocabulary: vocab, config: config)
    let labels = rows.map(\.0)
    let igm = TermWeights.igm(m, labels: labels, classes: 3, rows: vocab.featureCount)
    func of(_ word: String) -> Float {
      igm[Int(FeatureMatrix(texts: [word], vocabulary: vocab, config: config).wideRows[0])]
    }
    XCTAssertEqual(of("apple"), 1)
    XCTAssertEqual(of("plain"), 1)
    // shared: 3, 3, 2 documents over the classes: 3 / (1·3 + 2·3 + 3·2).
    XCTAssertEqual(of("shared"), 3 / 15, accuracy: 1e-7)
    // tilted: 3 and 1: 3 / (1·3 + 2·1).
    XCTAssertEqual(of("tilted"), 3 / 5, accuracy: 1e-7)

    // Many random documents over 5 classes: equal to the naive count, row for row.
    var rng = SplitMix64(seed: 3)
    let words = (0..<40).map { "w\($0)" }
    let many = (0..<300).map { _ in
      (0..<(1 + Int(rng.next() % 9))).map { _ in words[Int(rng.next() % 40)] }.joined(
        separator: " ")
    }
    let manyLabels = many.map { _ in Int32(rng.next() % 5) }
    config.wordNgrams = 2
    let (v2, _) = Vocabulary.build(texts: many, config: config)
    let m2 = FeatureMatrix(texts: many, vocabulary: v2, config: config)
    XCTAssertEqual(
      TermWeights.igm(m2, labels: manyLabels, classes: 5, rows: v2.featureCount),
      naiveIGM(m2, labels: manyLabels, classes: 5, rows: v2.featureCount))
  }

  /// finetune multiplies the vocabulary's idf by 1 + λ·igm of the training rows, stores
  /// the λ it used, and keeps plain idf at λ = 0 and for a multi-label corpus.
  func testFinetuneWeightsTheIDFAndStoresTheLambda() throws {
    let corpus = try TrainingFixtures.keywordCorpus(count: 90, seed: 5)
    var config = TrainingFixtures.keywordConfig(epochs: 1, crossFit: 0)
    config.igm = 0
    let plain = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
    config.igm = 2
    let weighted = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
    config.igm = nil
    let byDefault = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
    XCTAssertEqual(plain.metadata.config.igm, 0)
    XCTAssertEqual(weighted.metadata.config.igm, 2)
    XCTAssertEqual(byDefault.metadata.config.igm, TrainingConfig.defaultIGM)

    let vocab = plain.vocabulary
    XCTAssertEqual(weighted.vocabulary.index, vocab.index)
    let labels = corpus.examples.map { Int32(plain.labels.firstIndex(of: $0.label)!) }
    let m = FeatureMatrix(
      texts: corpus.examples.map(\.text), vocabulary: vocab, config: config.features)
    let igm = naiveIGM(m, labels: labels, classes: 3, rows: vocab.featureCount)
    for f in 0..<vocab.featureCount {
      XCTAssertEqual(weighted.vocabulary.idf[f], vocab.idf[f] * (1 + 2 * igm[f]), accuracy: 1e-5)
    }
    XCTAssertTrue(
      igm.contains { $0 < 0.5 } && igm.contains { $0 == 1 }, "spread and one-class rows")

    // Multi-label: plain idf whatever the default.
    let tags = try CorpusReader.parse(
      bytes: Array(
        (0..<60).map { i in
          (i % 2 == 0 ? "a,b" : "c") + "\t" + (i % 2 == 0 ? "bread cheese" : "bank rates")
            + " row \(i)\n"
        }.joined().utf8), path: "tags.tsv")
    config.igm = nil
    let multi = try Finetune.run(
      train: tags, valid: nil, pretrained: nil, config: config, multiLabel: true)
    XCTAssertEqual(multi.metadata.config.igm, 0)
  }

  /// A model file written before the setting existed has no "igm" in its config: nil,
  /// which `resolvedIGM` does not apply to a stored model (its idf is stored as trained).
  func testOldConfigWithoutTheKeyDecodes() throws {
    var config = TrainingConfig()
    config.igm = 1
    var json =
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
    XCTAssertEqual(json["igm"] as? Double, 1)
    json.removeValue(forKey: "igm")
    let back = try JSONDecoder().decode(
      TrainingConfig.self, from: JSONSerialization.data(withJSONObject: json))
    XCTAssertNil(back.igm)
  }
}
