import XCTest

@testable import Quarry

final class TrainerTests: XCTestCase {
  /// The keyword corpus every test here trains on.
  static func corpus(count: Int = 90, seed: UInt64 = 100) throws -> Corpus {
    try TrainingFixtures.keywordCorpus(count: count, seed: seed, path: "synthetic.tsv")
  }

  func config(seed: UInt64 = 1, threads: Int = 1) -> TrainingConfig {
    var c = TrainingFixtures.keywordConfig(epochs: 8, seed: seed, threads: threads)
    c.embeddingLRScale = 1
    c.validFraction = 0
    c.classWeighting = .balanced
    return c
  }

  func train(_ config: TrainingConfig) throws -> Model {
    try Finetune.run(train: try TrainerTests.corpus(), valid: nil, pretrained: nil, config: config)
  }

  func testLearnsASeparableCorpus() throws {
    var epochEvents = 0
    let model = try Finetune.run(
      train: try TrainerTests.corpus(), valid: nil, pretrained: nil, config: config()
    ) { e in
      if case .training(.epoch) = e { epochEvents += 1 }
    }
    XCTAssertEqual(model.labels, ["food", "money", "sport"])
    XCTAssertEqual(epochEvents, 8)
    let epochs = model.metadata.epochs
    XCTAssertEqual(epochs.map(\.epoch), Array(1...8))
    XCTAssertLessThan(epochs.last!.loss, epochs.first!.loss)
    XCTAssertTrue(epochs.allSatisfy { $0.loss.isFinite })
    // Held-out texts, drawn afresh.
    let test = KeywordCorpus.named(count: 60, seed: 999)
    let probs = try Predictor(model: model, threads: 1).probabilities(test.map(\.text))
    let gold = test.map { Int32(model.labels.firstIndex(of: $0.label)!) }
    let metrics = Metrics(probabilities: probs, gold: gold, classes: 3)
    XCTAssertGreaterThanOrEqual(metrics.accuracy, 0.95)
  }

  func testSameSeedGivesTheSameModel() throws {
    let a = try train(config(seed: 5))
    let b = try train(config(seed: 5))
    XCTAssertEqual(a.classifier, b.classifier)
    XCTAssertEqual(a.vocabulary, b.vocabulary)
    // The model file holds no timings: the same run gives the same bytes.
    XCTAssertEqual(try ModelFile.encode(a), try ModelFile.encode(b))
  }

  func testThreadCountDoesNotChangeTheModel() throws {
    let one = try train(config(seed: 3, threads: 1))
    let two = try train(config(seed: 3, threads: 2))
    let three = try train(config(seed: 3, threads: 3))
    XCTAssertEqual(one.classifier, two.classifier)
    XCTAssertEqual(one.classifier, three.classifier)
  }

  func testDifferentSeedGivesADifferentModel() throws {
    let a = try train(config(seed: 1))
    let b = try train(config(seed: 2))
    XCTAssertNotEqual(a.classifier.dense, b.classifier.dense)
    XCTAssertNotEqual(a.classifier.embedding, b.classifier.embedding)
    XCTAssertNotEqual(a.classifier.wide, b.classifier.wide)
  }

  func testValidationSplitPicksABestEpoch() throws {
    var c = config()
    c.validFraction = 0.2
    let model = try train(c)
    let meta = model.metadata
    XCTAssertEqual(meta.corpus.rows, 90)
    XCTAssertEqual(meta.corpus.validRows, 18)
    XCTAssertEqual(meta.corpus.trainRows, 72)
    XCTAssertEqual(meta.epochs.count, 8)
    XCTAssertTrue((1...8).contains(meta.bestEpoch))
    XCTAssertTrue(meta.epochs[meta.bestEpoch - 1].isBest)
    XCTAssertTrue(meta.epochs.allSatisfy { $0.validAccuracy != nil && $0.validMacroF1 != nil })
  }

  func testAbsurdLearningRateThrowsInsteadOfNaN() throws {
    var c = config()
    c.learningRate = 1e6
    c.epochs = 6
    do {
      let model = try train(c)
      let cl = model.classifier
      XCTFail(
        "expected a divergence error; the model's weights are finite: "
          + "\((cl.wide + cl.embedding + cl.dense + cl.bias).allSatisfy(\.isFinite))")
    } catch let e as Trainer.TrainingError {
      XCTAssertTrue(e.description.contains("diverged"), e.description)
    }
  }

  /// A loss that rises after epoch 1 starts the run again at half the rate, up to
  /// `Trainer.maxRestarts` times: at an absurd rate every attempt diverges, each restart
  /// is reported, and the error names the last rate.
  func testDivergingRunRestartsAtHalfTheRateThenGivesUp() throws {
    var c = config()
    c.scaleLearningRate = false
    c.learningRate = 1e6
    c.epochs = 6
    var rates: [Float] = []
    XCTAssertThrowsError(
      try Finetune.run(
        train: try TrainerTests.corpus(), valid: nil, pretrained: nil, config: c
      ) { if case .training(.restarted(_, _, _, let lr)) = $0 { rates.append(lr) } }
    ) { error in
      XCTAssertTrue("\(error)".contains("every rate down to 125000"), "\(error)")
    }
    XCTAssertEqual(rates, [5e5, 2.5e5, 1.25e5])
  }

  /// A run that restarts gives the model of a run started at the lower rate (the same
  /// seed, from the same initial weights), and the model file says that rate. Of rates
  /// doubling from 1, the first that diverges on this corpus is checked; one must.
  func testRestartedRunEqualsARunAtTheLowerRate() throws {
    let corpus = try TrainerTests.corpus()
    var c = config()
    c.scaleLearningRate = false
    for rate: Float in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
      c.learningRate = rate
      var restarts: [Float] = []
      guard
        let model = try? Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: c,
          progress: {
            if case .training(.restarted(_, _, _, let lr)) = $0 { restarts.append(lr) }
          }),
        let last = restarts.last
      else { continue }
      XCTAssertEqual(model.metadata.config.learningRate, last)
      var lower = c
      lower.learningRate = last
      let direct = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: lower)
      XCTAssertEqual(model.classifier, direct.classifier, "rate \(rate) restarted at \(last)")
      XCTAssertEqual(model.metadata.epochs, direct.metadata.epochs)
      return
    }
    XCTFail("no rate from 1 to 256 restarted and then trained")
  }

  func testOneClassIsAnError() throws {
    let corpus = try CorpusReader.parse(bytes: Array("a\tx\na\ty\n".utf8), path: "one.tsv")
    XCTAssertThrowsError(
      try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config())
    ) { XCTAssertTrue($0 is InputError) }
  }

  func testValidationLabelUnknownToTrainingIsAnError() throws {
    let train = try TrainerTests.corpus(count: 12, seed: 1)
    let valid = try CorpusReader.parse(
      bytes: Array("sport\tgoal\nweather\train\n".utf8), path: "v.tsv")
    XCTAssertThrowsError(
      try Finetune.run(train: train, valid: valid, pretrained: nil, config: config())
    ) { e in
      XCTAssertEqual((e as? InputError)?.line, 2)
    }
  }

  // MARK: Class weights and splits

  func testBalancedClassWeights() {
    // N = 6, C = 3, counts 3, 2, 1 → w_c = N/(C·n_c) = 2/3, 1, 2.
    let labels: [Int32] = [0, 1, 0, 2, 1, 0]
    let w = ClassWeighting.balanced.weights(labels: labels, classes: 3)
    XCTAssertEqual(w[0], 2.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(w[1], 1, accuracy: 1e-6)
    XCTAssertEqual(w[2], 2, accuracy: 1e-6)
    // Σ_c n_c·w_c = N.
    XCTAssertEqual(3 * w[0] + 2 * w[1] + 1 * w[2], 6, accuracy: 1e-5)
    let s = ClassWeighting.sqrt.weights(labels: labels, classes: 3)
    XCTAssertEqual(s[0], (2.0 / 3).squareRoot(), accuracy: 1e-6)
    XCTAssertEqual(s[2], Float(2).squareRoot(), accuracy: 1e-6)
    XCTAssertEqual(ClassWeighting.uniform.weights(labels: labels, classes: 3), [1, 1, 1])
    // A class without rows gets weight 1.
    let absent = ClassWeighting.balanced.weights(labels: [0, 0, 1], classes: 3)
    XCTAssertEqual(absent[0], 0.5, accuracy: 1e-6)
    XCTAssertEqual(absent[1], 1, accuracy: 1e-6)
    XCTAssertEqual(absent[2], 1)
  }

  func testStratifiedSplit() {
    var rows: [Example] = []
    for i in 0..<40 {
      rows.append(Example(line: i + 1, label: i % 4 == 0 ? "rare" : "common", text: "t\(i)"))
    }
    rows.append(Example(line: 41, label: "single", text: "only"))
    let (train, valid) = Finetune.stratifiedSplit(rows, fraction: 0.2, seed: 7)
    XCTAssertEqual(train.count + valid.count, rows.count)
    XCTAssertEqual(Set(train.map(\.line)).intersection(valid.map(\.line)), [])
    // round(0.2 · 30) = 6 common, round(0.2 · 10) = 2 rare, the single row stays in training.
    XCTAssertEqual(valid.filter { $0.label == "common" }.count, 6)
    XCTAssertEqual(valid.filter { $0.label == "rare" }.count, 2)
    XCTAssertTrue(train.contains { $0.label == "single" })
    XCTAssertEqual(train.map(\.line), train.map(\.line).sorted(), "file order kept")
    XCTAssertEqual(valid.map(\.line), valid.map(\.line).sorted(), "file order kept")
    let again = Finetune.stratifiedSplit(rows, fraction: 0.2, seed: 7)
    XCTAssertEqual(again.1, valid)
    XCTAssertNotEqual(Finetune.stratifiedSplit(rows, fraction: 0.2, seed: 8).1, valid)
    // A class of two rows gives one to validation, even when the share rounds to zero.
    let two = [Example(line: 1, label: "a", text: "x"), Example(line: 2, label: "a", text: "y")]
    XCTAssertEqual(Finetune.stratifiedSplit(two, fraction: 0.1, seed: 1).1.count, 1)
  }
}
