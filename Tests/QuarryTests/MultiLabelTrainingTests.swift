import Foundation
import XCTest

@testable import Quarry

/// A synthetic multi-label corpus through `Finetune.run`: the model it gives, what it
/// learns, its determinism and its file; and the per-label miner.
final class MultiLabelTrainingTests: XCTestCase {
  static let labels = ["food", "money", "sport", "weather", "music"]
  static let keywords = [
    ["bread", "cheese", "soup", "recipe", "oven"], ["bank", "rates", "stock", "market", "loan"],
    ["goal", "match", "team", "score", "league"], ["rain", "storm", "sunny", "wind", "snow"],
    ["guitar", "song", "album", "band", "piano"],
  ]
  static let noise = ["the", "a", "today", "new", "big", "story", "report", "of"]

  /// `count` rows of one to three labels each (in a random order), every label bringing
  /// two of its keywords, with two noise words, shuffled.
  static func rows(count: Int, seed: UInt64) -> [(labels: [String], text: String)] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
      var classes = Array(0..<labels.count)
      rng.shuffle(&classes)
      let chosen = Array(classes.prefix(1 + Int(rng.next() % 3)))
      var words = [noise[Int(rng.next() % 8)], noise[Int(rng.next() % 8)]]
      for k in chosen {
        words += [keywords[k][Int(rng.next() % 5)], keywords[k][Int(rng.next() % 5)]]
      }
      rng.shuffle(&words)
      return (chosen.map { labels[$0] }, words.joined(separator: " "))
    }
  }

  static func corpus(count: Int, seed: UInt64, path: String = "multi.tsv") throws -> Corpus {
    let text = rows(count: count, seed: seed).map {
      $0.labels.joined(separator: ",") + "\t" + $0.text + "\n"
    }.joined()
    return try CorpusReader.parse(bytes: Array(text.utf8), path: path)
  }

  /// A small run: width 8, batches of 8, 8 epochs, two cross-fit folds of 4 epochs (for
  /// the thresholds), mining and deletion variants as by default. The rate is not scaled
  /// by text length: rows of about six words would cut it 16-fold, too small for 8 epochs.
  static func config(seed: UInt64 = 1, threads: Int = 1) -> TrainingConfig {
    var c = TrainingFixtures.keywordConfig(
      epochs: 8, seed: seed, threads: threads, crossFit: 2, crossFitEpochs: 4)
    c.scaleLearningRate = false
    return c
  }

  static func train(seed: UInt64 = 1, threads: Int = 1) throws -> Model {
    try Finetune.run(
      train: try corpus(count: 160, seed: 3), valid: nil, pretrained: nil,
      config: config(seed: seed, threads: threads))
  }

  /// Built once: the model of seed 1.
  static let model = Result<Model, Error> { try train() }

  /// The model's predicted sets on `rows` at its thresholds, and the gold sets.
  func predictions(_ model: Model, _ rows: [(labels: [String], text: String)]) throws -> (
    predicted: [[Int32]], gold: [[Int32]], probabilities: [Float]
  ) {
    let p = try Predictor(model: model, threads: 1).probabilities(rows.map(\.text))
    let index = Dictionary(uniqueKeysWithValues: model.labels.enumerated().map { ($1, Int32($0)) })
    let gold = rows.map { $0.labels.map { index[$0]! } }
    let thresholds = try XCTUnwrap(model.thresholds)
    return (MultiLabelMetrics.predictedSets(p, thresholds: thresholds), gold, p)
  }

  // MARK: Training

  func testCorpusOfSeveralLabelsTrainsASigmoidModelWithThresholds() throws {
    let model = try Self.model.get()
    XCTAssertEqual(model.classifier.output, .sigmoid)
    XCTAssertTrue(model.isMultiLabel)
    XCTAssertEqual(model.labels, Self.labels.sorted())
    let info = try XCTUnwrap(model.metadata.multiLabel)
    XCTAssertEqual(info.thresholds.count, model.classifier.classes)
    XCTAssertEqual(info.thresholds.count, 5)
    XCTAssertTrue(info.thresholds.allSatisfy { $0 > 0 && $0 < 1 }, "\(info.thresholds)")
    XCTAssertNotNil(info.tunedFoldMicroF1, "thresholds tuned on the cross-fit scores")
    // Each class its own probability: a row of three labels has three above ½, so the
    // row does not sum to 1 as a softmax row would.
    let p = try Predictor(model: model, threads: 1).probabilities([
      "bread cheese bank rates goal match the"
    ])
    XCTAssertEqual(p.count, 5)
    let index = { (l: String) in model.labels.firstIndex(of: l)! }
    for l in ["food", "money", "sport"] { XCTAssertGreaterThan(p[index(l)], 0.5, "\(l): \(p)") }
    for l in ["weather", "music"] { XCTAssertLessThan(p[index(l)], 0.5, "\(l): \(p)") }
    XCTAssertGreaterThan(p.reduce(0, +), 1.5)
  }

  /// On unseen rows of the same kind, micro-F1 and subset accuracy well above what a model
  /// that knows nothing scores (tagging every row with every label: micro-F1 about 0.57;
  /// guessing at random: subset accuracy about 1/25).
  func testLearnsTheKeywordsOnHeldOutRows() throws {
    let model = try Self.model.get()
    let held = Self.rows(count: 80, seed: 99)
    let (predicted, gold, _) = try predictions(model, held)
    let m = MultiLabelMetrics(predicted: predicted, gold: gold, classes: 5)
    XCTAssertGreaterThanOrEqual(m.microF1, 0.9, "\(m)")
    XCTAssertGreaterThanOrEqual(m.macroF1, 0.9, "\(m)")
    XCTAssertGreaterThanOrEqual(m.subsetAccuracy, 0.7, "\(m)")
    // The baseline the bar must beat: every label on every row.
    let all = MultiLabelMetrics(
      predicted: gold.map { _ in [0, 1, 2, 3, 4] }, gold: gold, classes: 5)
    XCTAssertLessThan(all.microF1, 0.7, "\(all)")
  }

  func testSameSeedGivesTheSameWeightsAndAnotherSeedDoesNot() throws {
    let a = try Self.train(seed: 5, threads: 2)
    let b = try Self.train(seed: 5, threads: 2)
    XCTAssertEqual(a.classifier, b.classifier)
    XCTAssertEqual(a.metadata.multiLabel, b.metadata.multiLabel)
    XCTAssertTrue(try ModelFile.encode(a) == ModelFile.encode(b), "model bytes differ")
    let other = try Self.model.get()
    XCTAssertNotEqual(a.classifier.dense, other.classifier.dense, "seed 5 vs seed 1")
  }

  /// `--multi-label` on a corpus of one label a row still gives a sigmoid model; a
  /// validation row of several labels needs it.
  func testForcedMultiLabelAndValidationRowsOfSeveralLabels() throws {
    let single = try TrainingFixtures.keywordCorpus(count: 60, seed: 2)
    var config = TrainingFixtures.keywordConfig(epochs: 2, crossFit: 0)
    config.mine = false
    let forced = try Finetune.run(
      train: single, valid: nil, pretrained: nil, config: config, multiLabel: true)
    XCTAssertEqual(forced.classifier.output, .sigmoid)
    // Without cross-fit scores the thresholds are ½.
    XCTAssertEqual(forced.thresholds, [0.5, 0.5, 0.5])
    let plain = try Finetune.run(train: single, valid: nil, pretrained: nil, config: config)
    XCTAssertEqual(plain.classifier.output, .softmax)
    XCTAssertNil(plain.thresholds)

    let valid = try CorpusReader.parse(
      bytes: Array("food\tbread soup\nfood,money\tbread bank\n".utf8), path: "v.tsv")
    let e = expectInputError("multi-label validation, single-label training") {
      _ = try Finetune.run(train: single, valid: valid, pretrained: nil, config: config)
    }
    XCTAssertEqual(e?.path, "v.tsv")
    XCTAssertEqual(e?.line, 2)
  }

  // MARK: Model file

  func testModelFileRoundTripKeepsSigmoidOutputAndThresholds() throws {
    let model = try Self.model.get()
    let back = try ModelFile.decode(try ModelFile.encode(model), path: "m.qmodel")
    XCTAssertEqual(back.classifier.output, .sigmoid)
    XCTAssertTrue(back.isMultiLabel)
    XCTAssertEqual(back.metadata.multiLabel, model.metadata.multiLabel)
    XCTAssertEqual(back.thresholds, model.thresholds)
    let held = Self.rows(count: 10, seed: 7)
    XCTAssertEqual(
      try predictions(back, held).probabilities, try predictions(model, held).probabilities)
    // And through a real file.
    try withTemporaryDirectory { dir in
      try ModelFile.write(model, to: dir + "/m.qmodel")
      let read = try ModelFile.read(dir + "/m.qmodel")
      XCTAssertEqual(read.classifier.output, .sigmoid)
      XCTAssertEqual(read.thresholds, model.thresholds)
    }
    // A single-label model reads back as softmax.
    let single = try ModelFile.decode(
      try ModelFile.encode(try TrainingFixtures.tinyModel.get()), path: "s.qmodel")
    XCTAssertEqual(single.classifier.output, .softmax)
    XCTAssertFalse(single.isMultiLabel)
  }

  /// Thresholds of the wrong count, or outside (0, 1), make the file unreadable.
  func testModelFileRefusesBadThresholds() throws {
    let model = try Self.model.get()
    let t = try XCTUnwrap(model.thresholds)
    for bad in [
      Array(t.dropLast()), t + [0.5], [0] + t.dropFirst(), [1] + t.dropFirst(),
      [-0.5] + t.dropFirst(),
    ] {
      var m = model
      m.metadata.multiLabel?.thresholds = bad
      let bytes = try ModelFile.encode(m)
      let e = expectInputError("thresholds \(bad)") {
        _ = try ModelFile.decode(bytes, path: "bad.qmodel")
      }
      XCTAssertEqual(e?.path, "bad.qmodel")
      XCTAssertTrue(e?.description.contains("threshold") ?? false, "\(String(describing: e))")
    }
  }

  /// A single-label model scores a corpus of several labels a row as an error at that row.
  func testSingleLabelModelRefusesRowsOfSeveralLabels() throws {
    let model = try TrainingFixtures.tinyModel.get()
    let corpus = try CorpusReader.parse(
      bytes: Array("food\tbread\nsports\tgoal\nfood,money\tbread bank\n".utf8), path: "t.tsv")
    for (what, call) in [
      ("goldLabels", { _ = try model.goldLabels(of: corpus) }),
      ("goldLabelSets", { _ = try model.goldLabelSets(of: corpus) }),
    ] as [(String, () throws -> Void)] {
      let e = expectInputError(what, call)
      XCTAssertEqual(e?.path, "t.tsv", what)
      XCTAssertEqual(e?.line, 3, what)
    }
    // A multi-label model reads every label of every row, and names an unknown one.
    let multi = try Self.model.get()
    let ok = try CorpusReader.parse(
      bytes: Array("food,money\tx\nmusic\ty\n".utf8), path: "ok.tsv")
    let i = { (l: String) in Int32(multi.labels.firstIndex(of: l)!) }
    XCTAssertEqual(try multi.goldLabelSets(of: ok), [[i("food"), i("money")], [i("music")]])
    let unknown = try CorpusReader.parse(
      bytes: Array("food\tx\nfood,jazz\ty\n".utf8), path: "u.tsv")
    let e = expectInputError("unknown label") { _ = try multi.goldLabelSets(of: unknown) }
    XCTAssertEqual(e?.line, 2)
    XCTAssertTrue(e?.description.contains("jazz") ?? false)
  }

  // MARK: Miner

  /// Per label: the rows whose set lacks the class with p ≥ `perLabelFloor`, highest first
  /// (ties: the lower row), the top ⌈fraction · candidates⌉, at most ⌈maxRows / C⌉; a row
  /// already kept for an earlier class is not kept again. Against that, written naively,
  /// on random sets and probabilities in sixteenths.
  func testSelectPerLabelMatchesTheNaiveRule() {
    var rng = SplitMix64(seed: 14)
    for trial in 0..<12 {
      let c = 2 + trial % 4
      let n = 5 + Int(rng.next() % 30)
      let sets: [[Int32]] = (0..<n).map { _ in
        let s = (0..<Int32(c)).filter { _ in rng.next() % 3 == 0 }
        return s.isEmpty ? [Int32(rng.next() % UInt64(c))] : s
      }
      let p = (0..<(n * c)).map { _ in Float(rng.next() % 17) / 16 }
      var config = TrainingConfig()
      config.mineFraction = [1, 0.5, 0.25][trial % 3]
      let maxRows: Int? = trial % 2 == 0 ? nil : 1 + Int(rng.next() % 10)
      let got = Miner(config: config, classes: c).selectPerLabel(
        probabilities: p, labelSets: sets, maxRows: maxRows)

      var rows: [Int] = []
      var perClass = [Int](repeating: 0, count: c)
      for k in 0..<c {
        let ranked = (0..<n).filter {
          !sets[$0].contains(Int32(k)) && p[$0 * c + k] >= Miner.perLabelFloor
        }.sorted { p[$0 * c + k] != p[$1 * c + k] ? p[$0 * c + k] > p[$1 * c + k] : $0 < $1 }
        var keep = Int((Double(config.mineFraction) * Double(ranked.count)).rounded(.up))  // exact: ¼ steps
        if let maxRows { keep = min(keep, (maxRows + c - 1) / c) }
        for r in ranked.prefix(keep) where !rows.contains(r) {
          rows.append(r)
          perClass[k] += 1
        }
      }
      XCTAssertEqual(got.rows, rows, "trial \(trial)")
      XCTAssertEqual(got.perClass, perClass, "trial \(trial)")
    }
  }

  /// Hand-made: 6 rows, 3 classes (p per row: class 0, 1, 2). Class 0 is lacked by
  /// rows 0 (0.9), 1 (0.1: on the floor, in), 2 (0.09: under it, out) and 5 (0.5); class
  /// 1 by rows 3 (0.95) and 4 (0.3); class 2 by rows 0 (0.7), 1 (0.05: out) and 4 (0.2),
  /// both already kept for an earlier class.
  func testSelectPerLabelByHand() {
    let sets: [[Int32]] = [[1], [1], [1, 2], [0, 2], [0], [1, 2]]
    let p: [Float] = [
      0.9, 0.2, 0.7,
      0.1, 0.9, 0.05,
      0.09, 0.8, 0.6,
      0.99, 0.95, 0.9,
      0.8, 0.3, 0.2,
      0.5, 0.99, 0.9,
    ]
    var config = TrainingConfig()
    config.mineFraction = 1
    let all = Miner(config: config, classes: 3).selectPerLabel(probabilities: p, labelSets: sets)
    XCTAssertEqual(all.rows, [0, 5, 1, 3, 4])
    XCTAssertEqual(all.perClass, [3, 2, 0])
    // Half of each class's candidates, rounded up: 2 of 3, 1 of 2, and 1 of 2 for class 2,
    // whose best (row 0) is taken.
    config.mineFraction = 0.5
    let half = Miner(config: config, classes: 3).selectPerLabel(probabilities: p, labelSets: sets)
    XCTAssertEqual(half.rows, [0, 5, 3])
    XCTAssertEqual(half.perClass, [2, 1, 0])
    // At most ⌈4 / 3⌉ = 2 a class.
    let capped = Miner(config: config, classes: 3).selectPerLabel(
      probabilities: p, labelSets: sets, maxRows: 4)
    XCTAssertEqual(capped.rows, [0, 5, 3])
    config.mineFraction = 1
    let cappedAll = Miner(config: config, classes: 3).selectPerLabel(
      probabilities: p, labelSets: sets, maxRows: 4)
    XCTAssertEqual(cappedAll.rows, [0, 5, 3, 4])
    XCTAssertEqual(cappedAll.perClass, [2, 2, 0])
  }
}
