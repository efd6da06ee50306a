import XCTest

@testable import Quarry

/// The batched forward pass of the classifier and the predictor, against the model's
/// formula evaluated naively.
final class ClassifierTests: XCTestCase {
  override class func setUp() {
    super.setUp()
    setBLASThreads(1)
  }

  func fixture() -> (Classifier, FeatureMatrix) {
    let fc = TrainingFixtures.features(wordNgrams: 2)
    let texts = ["red apple pie", "green apple", "blue sky today", "red sky", "pie and sky"]
    let (v, _) = Vocabulary.build(texts: texts, config: fc)
    let m = FeatureMatrix(texts: texts + ["unknown words only"], vocabulary: v, config: fc)
    var rng = SplitMix64(seed: 17)
    let dim = 5
    let classes = 3
    let c = Classifier(
      classes: classes, featureCount: v.featureCount, wordCount: v.wordCount, dim: dim,
      wide: randomFloats(v.featureCount * classes, &rng),
      embedding: randomFloats(v.wordCount * dim, &rng), dense: randomFloats(classes * dim, &rng),
      bias: randomFloats(classes, &rng))!
    return (c, m)
  }

  /// z_i = W_d·(Σ_w a_w E[w]) + b + Σ_f x_f W_w[f], p = softmax(z), in Double.
  func naiveProbabilities(_ c: Classifier, _ m: FeatureMatrix) -> [Double] {
    var out: [Double] = []
    for d in 0..<m.count {
      var e = [Double](repeating: 0, count: c.dim)
      for p in m.bagStart[d]..<m.bagStart[d + 1] {
        for j in 0..<c.dim {
          e[j] += Double(m.bagWeights[p]) * Double(c.embedding[Int(m.bagRows[p]) * c.dim + j])
        }
      }
      var z = (0..<c.classes).map { Double(c.bias[$0]) }
      for k in 0..<c.classes {
        for j in 0..<c.dim { z[k] += Double(c.dense[k * c.dim + j]) * e[j] }
      }
      for p in m.wideStart[d]..<m.wideStart[d + 1] {
        for k in 0..<c.classes {
          z[k] += Double(m.wideValues[p]) * Double(c.wide[Int(m.wideRows[p]) * c.classes + k])
        }
      }
      let mx = z.max()!
      let ex = z.map { exp($0 - mx) }
      let s = ex.reduce(0, +)
      out += ex.map { $0 / s }
    }
    return out
  }

  func testProbabilitiesMatchTheFormula() {
    let (c, m) = fixture()
    let expected = naiveProbabilities(c, m)
    for threads in [1, 2] {
      for batch in [1, 2, 4, 512] {
        let p = c.probabilities(m, threads: threads, batchSize: batch)
        XCTAssertEqual(p.count, expected.count)
        for i in p.indices {
          XCTAssertEqual(
            Double(p[i]), expected[i], accuracy: 1e-5, "threads \(threads) batch \(batch) [\(i)]")
        }
      }
    }
  }

  func testStoredInitRejectsWrongLengths() {
    let ok = Classifier(
      classes: 2, featureCount: 3, wordCount: 2, dim: 2, wide: [Float](repeating: 0, count: 6),
      embedding: [Float](repeating: 0, count: 4), dense: [Float](repeating: 0, count: 4),
      bias: [0, 0])
    XCTAssertNotNil(ok)
    XCTAssertNil(
      Classifier(
        classes: 2, featureCount: 3, wordCount: 2, dim: 2, wide: [Float](repeating: 0, count: 5),
        embedding: [Float](repeating: 0, count: 4), dense: [Float](repeating: 0, count: 4),
        bias: [0, 0]))
    XCTAssertNil(
      Classifier(
        classes: 2, featureCount: 1, wordCount: 2, dim: 2, wide: [Float](repeating: 0, count: 2),
        embedding: [Float](repeating: 0, count: 4), dense: [Float](repeating: 0, count: 4),
        bias: [0, 0]), "fewer features than words")
    XCTAssertNil(
      Classifier(
        classes: 1, featureCount: 3, wordCount: 2, dim: 2, wide: [Float](repeating: 0, count: 3),
        embedding: [Float](repeating: 0, count: 4), dense: [Float](repeating: 0, count: 2),
        bias: [0]), "one class")
  }

  // MARK: Predictor

  func predictorModel() throws -> Model {
    var text = ""
    for i in 0..<6 {
      text += "yes\tgood great fine \(i)\n"
      text += "no\tbad awful poor \(i)\n"
    }
    let corpus = try CorpusReader.parse(bytes: Array(text.utf8), path: "p.tsv")
    let config = TrainingFixtures.config(
      epochs: 3, dim: 4, batchSize: 4, threads: 1, validFraction: 0)
    return try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
  }

  func testPredictorFeaturizesInPiecesLikeOneMatrix() throws {
    let model = try predictorModel()
    // 2048 or more texts take the multi-threaded path.
    let texts = (0..<2100).map { ["good fine", "awful \($0)", "great poor bad", ""][$0 % 4] }
    let pieces = Predictor(model: model, threads: 3).featurize(texts)
    let one = FeatureMatrix(
      texts: texts, vocabulary: model.vocabulary, config: model.metadata.config.features)
    XCTAssertEqual(pieces.count, texts.count)
    XCTAssertEqual(pieces.wideStart, one.wideStart)
    XCTAssertEqual(pieces.wideRows, one.wideRows)
    XCTAssertEqual(pieces.wideValues, one.wideValues)
    XCTAssertEqual(pieces.bagStart, one.bagStart)
    XCTAssertEqual(pieces.bagRows, one.bagRows)
    XCTAssertEqual(pieces.bagWeights, one.bagWeights)
    XCTAssertEqual(pieces.tokens, one.tokens)
  }

  func testTopK() throws {
    let model = try predictorModel()
    let p = Predictor(model: model, threads: 1)
    let probs = try p.probabilities(["good great", "awful poor"])
    XCTAssertEqual(probs.count, 4)
    for i in 0..<2 { XCTAssertEqual(probs[(2 * i)..<(2 * i + 2)].reduce(0, +), 1, accuracy: 1e-5) }
    let top = p.topK(probs, k: 5)
    XCTAssertEqual(top.count, 2)
    XCTAssertEqual(top[0].count, 2, "k is capped at the class count")
    XCTAssertGreaterThanOrEqual(top[0][0].probability, top[0][1].probability)
    XCTAssertEqual(model.labels[top[0][0].label], "yes")
    XCTAssertEqual(model.labels[top[1][0].label], "no")
    XCTAssertEqual(p.topK(probs, k: 0)[0].count, 1, "k is at least 1")
    // Ties are broken by the lower class index.
    XCTAssertEqual(p.topK([0.5, 0.5], k: 2)[0].map(\.label), [0, 1])
  }

  func testIsFiniteFindsAnyNaNOrInfinity() {
    var rng = SplitMix64(seed: 8)
    let m = Classifier(
      classes: 3, featureCount: 9, wordCount: 4, dim: 5, embedding: randomFloats(20, &rng))
    XCTAssertTrue(m.isFinite)
    for bad in [Float.nan, .infinity, -.infinity] {
      for part in 0..<4 {
        var b = m
        switch part {
        case 0: b.wide[7] = bad
        case 1: b.embedding[19] = bad
        case 2: b.dense[0] = bad
        default: b.bias[2] = bad
        }
        XCTAssertFalse(b.isFinite, "\(bad) in part \(part)")
      }
    }
  }
}
