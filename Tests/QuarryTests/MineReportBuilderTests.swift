import Foundation
import XCTest

@testable import Quarry

/// `MineReportBuilder` on a model trained (a few epochs, cross-fitted) on a small corpus
/// written to a temporary file, with a few labels flipped on purpose. Expected lists are
/// recomputed here from the model's probabilities by the documented rules.
final class MineReportBuilderTests: XCTestCase {
  static let labelNames = ["food", "money", "sport"]

  /// Rows (0-based) whose label is flipped to the next class; their lines are these + 1.
  static let flipped = [7, 25, 47]

  static func config(crossFit: Int) -> TrainingConfig {
    var c = TrainingFixtures.keywordConfig(
      epochs: 4, wordNgrams: 1, threads: 2, crossFit: crossFit, crossFitEpochs: 16)
    // The rate set as it is: scaled for rows of a few keywords, four epochs would not fit
    // them.
    c.scaleLearningRate = false
    return c
  }

  struct Fixture {
    var train: Corpus
    var other: Corpus
    var truth: [String]
    var model: Model
    var modelWithoutCrossFit: Model
  }

  /// Written to a temporary file, read back, trained on; built once for the class.
  static let fixture = Result<Fixture, Error> {
    try withTemporaryDirectory { dir in
      var rows = KeywordCorpus.named(count: 60, seed: 100)
      let truth = rows.map(\.label)
      for i in flipped {
        let y = labelNames.firstIndex(of: rows[i].label)!
        rows[i].label = labelNames[(y + 1) % 3]
      }
      try writeFile(dir + "/train.tsv", TrainingFixtures.tsv(rows))
      try writeFile(
        dir + "/other.tsv", TrainingFixtures.tsv(KeywordCorpus.named(count: 30, seed: 7)))
      let train = try CorpusReader.read(path: dir + "/train.tsv")
      let other = try CorpusReader.read(path: dir + "/other.tsv")
      let model = try Finetune.run(
        train: train, valid: nil, pretrained: nil, config: config(crossFit: 3))
      let plain = try Finetune.run(
        train: train, valid: nil, pretrained: nil, config: config(crossFit: 0))
      return Fixture(
        train: train, other: other, truth: truth, model: model, modelWithoutCrossFit: plain)
    }
  }

  var f: Fixture!

  override func setUpWithError() throws {
    f = try MineReportBuilderTests.fixture.get()
  }

  func build(_ model: Model, _ corpus: Corpus, band: Float = 0.5) throws -> MineReport {
    try MineReportBuilder(band: band).build(
      model: model, modelPath: "m.qmodel", corpus: corpus, threads: 2)
  }

  /// Gold classes, probabilities, margins p(gold) − max p(other) and rivals, by hand. The
  /// probabilities of the training corpus's rows are the stored out-of-fold ones, when
  /// the model has them.
  func byHand(_ model: Model, _ corpus: Corpus) -> (
    gold: [Int], p: [Float], margin: [Float], rival: [Int]
  ) {
    let c = model.labels.count
    let gold = corpus.examples.map { model.labels.firstIndex(of: $0.label)! }
    var p = try! Predictor(model: model, threads: 1).probabilities(corpus.examples.map(\.text))
    if corpus.contentHashHex == model.metadata.corpus.contentHash, let held = model.heldOut,
      let lines = model.trainLines
    {
      for (i, e) in corpus.examples.enumerated() {
        let r = lines.firstIndex(of: Int32(e.line))!
        for k in 0..<c { p[i * c + k] = held[r * c + k] }
      }
    }
    var margin: [Float] = []
    var rival: [Int] = []
    for (i, y) in gold.enumerated() {
      let others = (0..<c).filter { $0 != y }
      let best = others.max { p[i * c + $0] < p[i * c + $1] }!
      margin.append(p[i * c + y] - p[i * c + best])
      rival.append(best)
    }
    return (gold, p, margin, rival)
  }

  // MARK: source

  func testSourceFollowsTheCorpusAndWhatTheModelCarries() throws {
    XCTAssertNotNil(f.model.heldOut)
    XCTAssertNotNil(f.model.dynamics)
    XCTAssertNil(f.modelWithoutCrossFit.heldOut)
    XCTAssertNotNil(f.model.heldOutDynamics)
    let same = try build(f.model, f.train)
    XCTAssertEqual(same.source, .crossFit)
    XCTAssertEqual(same.data, f.train.path)
    XCTAssertEqual(same.model, "m.qmodel")
    XCTAssertEqual(same.rows, 60)
    XCTAssertEqual(same.labels, MineReportBuilderTests.labelNames)
    XCTAssertEqual(try build(f.modelWithoutCrossFit, f.train).source, .dynamics)
    XCTAssertEqual(try build(f.model, f.other).source, .model)
    XCTAssertEqual(try build(f.modelWithoutCrossFit, f.other).source, .model)
    // The same bytes under another name are still the training corpus.
    let copy = try TrainingFixtures.corpus(
      f.train.examples.map { ($0.label, $0.text) }, path: "elsewhere.tsv")
    XCTAssertEqual(try build(f.model, copy).source, .crossFit)
    // A model file that keeps the folds' probabilities but not their dynamics.
    var older = f.model
    older.heldOutDynamics = nil
    XCTAssertEqual(try build(older, f.train).source, .dynamicsCrossFit)
    // One row changed: another corpus.
    var changed = f.train.examples.map { (label: $0.label, text: $0.text) }
    changed[0].text += " extra"
    let edited = try TrainingFixtures.corpus(changed, path: "edited.tsv")
    XCTAssertEqual(try build(f.model, edited).source, .model)
  }

  // MARK: boundary

  func testBoundaryRowsAreTheBandSortedByMargin() throws {
    for (corpus, band) in [(f.train, Float(0.5)), (f.other, 0.5), (f.train, 0.9)] {
      let report = try build(f.model, corpus, band: band)
      let h = byHand(f.model, corpus)
      let ex = corpus.examples
      let want = ex.indices.filter { abs(h.margin[$0]) <= band }
        .sorted { h.margin[$0] < h.margin[$1] || (h.margin[$0] == h.margin[$1] && $0 < $1) }
      XCTAssertEqual(report.boundary.map(\.line), want.map { ex[$0].line }, "band \(band)")
      XCTAssertTrue(report.boundary.allSatisfy { abs($0.margin) <= band })
      XCTAssertTrue(
        zip(report.boundary, report.boundary.dropFirst()).allSatisfy { $0.margin <= $1.margin })
      for (b, i) in zip(report.boundary, want) {
        XCTAssertEqual(b.margin, h.margin[i], accuracy: 1e-5)
        XCTAssertEqual(b.label, ex[i].label)
        XCTAssertEqual(b.text, ex[i].text)
        XCTAssertEqual(b.confused_with, f.model.labels[h.rival[i]])
        XCTAssertNotEqual(b.confused_with, b.label)
      }
    }
  }

  // MARK: confusions

  func testConfusionsCountWrongRowsAndSortByCount() throws {
    for corpus in [f.train, f.other] {
      let report = try build(f.model, corpus)
      let h = byHand(f.model, corpus)
      let c = 3
      var wrong: [String: Int] = [:]
      var near: [String: Int] = [:]
      for i in h.gold.indices {
        let pred = (0..<c).max { h.p[i * c + $0] < h.p[i * c + $1] }!
        if pred != h.gold[i] { wrong["\(h.gold[i])>\(pred)", default: 0] += 1 }
        if abs(h.margin[i]) <= 0.5 { near["\(h.gold[i])>\(h.rival[i])", default: 0] += 1 }
      }
      let names = f.model.labels
      for pair in report.confusions {
        let key =
          "\(names.firstIndex(of: pair.label)!)>\(names.firstIndex(of: pair.confused_with)!)"
        XCTAssertEqual(pair.count, wrong[key] ?? 0, "\(pair)")
        XCTAssertEqual(pair.near, near[key] ?? 0, "\(pair)")
        XCTAssertNotEqual(pair.label, pair.confused_with)
      }
      // Every pair with a wrong or a near row is listed, and none other.
      XCTAssertEqual(
        Set(
          report.confusions.map {
            "\(names.firstIndex(of: $0.label)!)>\(names.firstIndex(of: $0.confused_with)!)"
          }),
        Set(wrong.keys).union(near.keys))
      let counts = report.confusions.map(\.count)
      XCTAssertEqual(counts, counts.sorted(by: >), "sorted by count, most first")
      XCTAssertEqual(counts.reduce(0, +), wrong.values.reduce(0, +))
    }
    // On the training corpus the flipped rows are predicted as their true class.
    XCTAssertGreaterThan(try build(f.model, f.train).confusions.first?.count ?? 0, 0)
  }

  // MARK: data map

  /// Cross-fitted: the data map over the fold models' 16 epochs; without cross-fitting,
  /// over the model's own 4.
  func testDataMapFromDynamicsOnTheTrainingCorpus() throws {
    for (model, dynamics, epochs) in [
      (f.model, f.model.heldOutDynamics, 16),
      (f.modelWithoutCrossFit, f.modelWithoutCrossFit.dynamics, 4),
    ] {
      try checkDataMap(model: model, dynamics: try XCTUnwrap(dynamics), epochs: epochs)
    }
  }

  func checkDataMap(model: Model, dynamics dyn: Dynamics, epochs e: Int) throws {
    let report = try build(model, f.train)
    XCTAssertEqual(report.data_map.map(\.line), f.train.examples.map(\.line))
    XCTAssertEqual(report.data_map.map(\.label), f.train.examples.map(\.label))
    let lines = try XCTUnwrap(model.trainLines)
    XCTAssertEqual(dyn.epochs, e)
    let n = dyn.rows
    XCTAssertEqual(n, 60)
    for (k, point) in report.data_map.enumerated() {
      XCTAssertTrue((0...1).contains(point.confidence), "\(point)")
      XCTAssertTrue((0...1).contains(point.correctness), "\(point)")
      XCTAssertGreaterThanOrEqual(point.variability, 0)
      // By hand from the stored arrays: mean and population std of p(gold) over epochs,
      // share of epochs predicted right.
      let r = lines.firstIndex(of: Int32(point.line))!
      let g = Int32(model.labels.firstIndex(of: f.train.examples[k].label)!)
      let ps = (0..<e).map { Double(dyn.pGold[$0 * n + r]) }
      let mean = ps.reduce(0, +) / Double(e)
      let std = (ps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(e)).squareRoot()
      let right = (0..<e).filter { dyn.predicted[$0 * n + r] == g }.count
      XCTAssertEqual(Double(point.confidence), mean, accuracy: 1e-5)
      XCTAssertEqual(Double(point.variability), std, accuracy: 1e-5)
      XCTAssertEqual(point.correctness, Float(right) / Float(e), accuracy: 1e-6)
    }
    // Something varied over the epochs.
    XCTAssertTrue(report.data_map.contains { $0.variability > 0 })
  }

  func testDataMapFromTheModelOnAnotherCorpus() throws {
    let report = try build(f.model, f.other)
    let h = byHand(f.model, f.other)
    XCTAssertEqual(report.data_map.count, 30)
    for (i, point) in report.data_map.enumerated() {
      XCTAssertEqual(point.line, f.other.examples[i].line)
      XCTAssertEqual(point.confidence, h.p[i * 3 + h.gold[i]], accuracy: 1e-6)
      XCTAssertEqual(point.variability, 0)
      let right = h.margin[i] > 0
      XCTAssertEqual(point.correctness, right ? 1 : 0, "line \(point.line)")
    }
  }

  /// The calibration figures are those of the probabilities the report is built from:
  /// the model's on another corpus, the folds' on the training corpus.
  func testCalibrationOfTheReportsProbabilities() throws {
    for corpus in [f.other, f.train] {
      let report = try build(f.model, corpus)
      let h = byHand(f.model, corpus)
      let expected = Calibration(probabilities: h.p, gold: h.gold.map { Int32($0) }, classes: 3)
      let c = try XCTUnwrap(report.calibration)
      XCTAssertEqual(c.ece, expected.expectedCalibrationError, accuracy: 1e-6, corpus.path)
      XCTAssertEqual(c.log_loss, expected.logLoss, accuracy: 1e-6, corpus.path)
      XCTAssertEqual(c.bins.map(\.rows).reduce(0, +), corpus.examples.count)
      XCTAssertEqual(c.bins.first?.lower, 0)
      XCTAssertEqual(c.bins.last?.upper, 1)
    }
    // The two sources differ, so the test can tell them apart.
    let own = try build(f.model, f.train).calibration?.log_loss
    let direct = Calibration(
      probabilities: try Predictor(model: f.model, threads: 1).probabilities(
        f.train.examples.map(\.text)),
      gold: byHand(f.model, f.train).gold.map { Int32($0) }, classes: 3)
    XCTAssertNotEqual(own, direct.logLoss)
  }

  // MARK: label issues

  func testFlippedRowsAreLabelIssues() throws {
    let report = try build(f.model, f.train)
    let issues = report.label_issues
    XCTAssertTrue(zip(issues, issues.dropFirst()).allSatisfy { $0.score >= $1.score })
    for issue in issues {
      XCTAssertNotEqual(issue.suggested, issue.label)
      XCTAssertGreaterThan(issue.score, 0.5)
      XCTAssertLessThanOrEqual(issue.score, 1)
      XCTAssertEqual(issue.text, f.train.examples[issue.line - 1].text)
      XCTAssertEqual(issue.label, f.train.examples[issue.line - 1].label)
    }
    let flippedLines = Set(MineReportBuilderTests.flipped.map { $0 + 1 })
    let found = issues.filter { flippedLines.contains($0.line) }
    XCTAssertGreaterThanOrEqual(
      found.count, 2,
      "flipped lines \(flippedLines.sorted()), issues \(issues.map(\.line)) \(report.data_map.filter { flippedLines.contains($0.line) })"
    )
    for issue in found {
      XCTAssertEqual(issue.suggested, f.truth[issue.line - 1], "line \(issue.line)")
    }
  }

  /// On the training corpus of a cross-fitted model, the issues are exactly the rows whose
  /// data-map confidence (mean out-of-fold p(label) over the fold epochs) is under 0.13
  /// times its class's mean confidence and whose stored out-of-sample probabilities put
  /// another class ahead of the label, each scored 1 − confidence.
  func testTrainingCorpusIssuesAreTheLowConfidenceRows() throws {
    let report = try build(f.model, f.train)
    let h = byHand(f.model, f.train)
    var byLabel: [String: [Float]] = [:]
    for point in report.data_map { byLabel[point.label, default: []].append(point.confidence) }
    let low = report.data_map.enumerated().filter { i, point in
      let mine = byLabel[point.label]!
      return point.confidence < 0.13 * (mine.reduce(0, +) / Float(mine.count)) && h.margin[i] < 0
    }.map(\.element)
    XCTAssertFalse(low.isEmpty)
    XCTAssertEqual(Set(report.label_issues.map(\.line)), Set(low.map(\.line)))
    for issue in report.label_issues {
      let point = try XCTUnwrap(low.first { $0.line == issue.line })
      XCTAssertEqual(issue.score, 1 - point.confidence, accuracy: 1e-6)
    }
  }

  /// Without the folds' dynamics, and on any other corpus, the issues are confident
  /// learning's on the probabilities the report uses.
  func testOtherSourcesUseConfidentLearning() throws {
    var older = f.model
    older.heldOutDynamics = nil
    for (model, corpus) in [(older, f.train), (f.model, f.other)] {
      let report = try build(model, corpus)
      let h = byHand(model, corpus)
      let expected = LabelIssues.find(
        probabilities: h.p, labels: h.gold.map { Int32($0) }, classes: 3)
      XCTAssertEqual(
        report.label_issues.map(\.line), expected.map { corpus.examples[$0.row].line })
    }
  }

  // MARK: errors

  func testUnknownLabelNamesItsLine() throws {
    let corpus = try CorpusReader.parse(
      bytes: Array("food\tbread soup\nsport\tgoal team\nweather\train today\nfood\toven\n".utf8),
      path: "unknown.tsv")
    let e = expectInputError("unknown label") { _ = try build(f.model, corpus) }
    XCTAssertEqual(e?.path, "unknown.tsv")
    XCTAssertEqual(e?.line, 3)
    XCTAssertTrue(e?.message.contains("weather") ?? false, "\(String(describing: e))")
    XCTAssertTrue(e?.description.hasPrefix("unknown.tsv:3:") ?? false)
  }
}
