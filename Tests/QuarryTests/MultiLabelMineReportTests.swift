import Foundation
import XCTest

@testable import Quarry

/// `MultiLabelIssues` by hand and against a naive reading of its rule, and
/// `MultiLabelMineReportBuilder` on a multi-label model trained on a keyword corpus with one
/// label added and one removed on purpose; its lists recomputed here by the documented rules.
final class MultiLabelMineReportTests: XCTestCase {
  // MARK: Label issues

  /// Two labels, ten rows. Label 0: rows 0–4 carry it, at p 0.9 except row 4 (p 0.05:
  /// t₀ ≈ 0.79 makes it confidently 0, so wrong); rows 5–9 do not, at p 0.02 except row 9
  /// (p 0.97 ≥ t₁ = 0.73, so missing). Label 1: carried by the even rows at p 0.85, absent
  /// from the odd ones at 0.03 except row 7 at 0.7, which is under t₁ = 0.85 and over
  /// 1 − t₀: confidently neither, so never an issue, whatever the bar.
  func testIssuesByHand() {
    var p = [Float](repeating: 0, count: 20)
    var carries = [Bool](repeating: false, count: 20)
    for i in 0..<10 {
      p[i * 2] = i < 4 ? 0.9 : i == 4 ? 0.05 : i < 9 ? 0.02 : 0.97
      carries[i * 2] = i < 5
      p[i * 2 + 1] = i % 2 == 0 ? 0.85 : 0.03
      carries[i * 2 + 1] = i % 2 == 0
    }
    p[7 * 2 + 1] = 0.7
    let issues = MultiLabelIssues.find(probabilities: p, carries: carries, classes: 2)
    XCTAssertEqual(issues.map(\.pair), [9 * 2, 4 * 2], "\(issues)")
    XCTAssertEqual(issues.map(\.kind), [.missing, .wrong])
    XCTAssertEqual(issues[0].score, 0.97, accuracy: 1e-6)
    XCTAssertEqual(issues[1].score, 0.95, accuracy: 1e-6)
    let lower = MultiLabelIssues.find(
      probabilities: p, carries: carries, classes: 2, minScore: 0.1)
    XCTAssertEqual(lower.map(\.pair), [9 * 2, 4 * 2], "\(lower)")
    // A bar over both scores leaves nothing.
    XCTAssertEqual(
      MultiLabelIssues.find(probabilities: p, carries: carries, classes: 2, minScore: 0.98), [])
  }

  /// Random probabilities and labels: the issues are exactly those of the rule read
  /// literally, label by label, with the thresholds computed by filtering.
  func testIssuesMatchANaiveReadingOfTheRule() {
    var rng = SplitMix64(seed: 7)
    let (n, c) = (300, 6)
    var p = [Float](repeating: 0, count: n * c)
    var carries = [Bool](repeating: false, count: n * c)
    for j in 0..<(n * c) {
      carries[j] = rng.next() % 4 == 0
      let u = Float(rng.next() % 1000) / 1000
      // Mostly agreeing with the labels, sometimes confidently not.
      p[j] = rng.next() % 10 == 0 ? u : (carries[j] ? 0.5 + u / 2 : u / 2)
    }
    for minScore: Float in [0.5, 0.8] {
      var naive: [(pair: Int, kind: MultiLabelMineReport.IssueKind, score: Float)] = []
      for k in 0..<c {
        let pos = (0..<n).filter { carries[$0 * c + k] }.map { p[$0 * c + k] }
        let neg = (0..<n).filter { !carries[$0 * c + k] }.map { 1 - p[$0 * c + k] }
        let t1 = pos.isEmpty ? 1 : pos.reduce(0, +) / Float(pos.count)
        let t0 = neg.isEmpty ? 1 : neg.reduce(0, +) / Float(neg.count)
        for i in 0..<n {
          let q = p[i * c + k]
          var candidates: [(cls: Int, prob: Float)] = []
          if q >= t1 { candidates.append((1, q)) }
          if 1 - q >= t0 { candidates.append((0, 1 - q)) }
          guard let best = candidates.max(by: { $0.prob < $1.prob }) else { continue }
          let given = carries[i * c + k] ? 1 : 0
          if best.cls != given, (given == 1 ? 1 - q : q) >= minScore {
            naive.append((i * c + k, given == 1 ? .wrong : .missing, given == 1 ? 1 - q : q))
          }
        }
      }
      naive.sort { $0.score > $1.score || ($0.score == $1.score && $0.pair < $1.pair) }
      let fast = MultiLabelIssues.find(
        probabilities: p, carries: carries, classes: c, minScore: minScore)
      XCTAssertEqual(fast.map(\.pair), naive.map(\.pair), "minScore \(minScore)")
      XCTAssertEqual(fast.map(\.kind), naive.map(\.kind))
      XCTAssertFalse(fast.isEmpty, "the data must give the rule something to find")
    }
  }

  // MARK: The report

  /// Row 11 (line 12) gains a label it does not have; row 20 (line 21) loses one of its
  /// labels.
  static let added = 11
  static let dropped = 20

  struct Fixture {
    var train: Corpus
    var addedLabel: String
    var droppedLabel: String
    var model: Model
  }

  static let fixture = Result<Fixture, Error> {
    var rows = MultiLabelTrainingTests.rows(count: 400, seed: 3)
    let extra = try XCTUnwrap(
      MultiLabelTrainingTests.labels.first { !rows[added].labels.contains($0) })
    rows[added].labels.append(extra)
    guard rows[dropped].labels.count > 1 else { throw XCTSkip("row 20 has one label") }
    let gone = rows[dropped].labels.removeLast()
    let text = rows.map { $0.labels.joined(separator: ",") + "\t" + $0.text + "\n" }.joined()
    let train = try CorpusReader.parse(bytes: Array(text.utf8), path: "noisy.tsv")
    var config = MultiLabelTrainingTests.config()
    config.crossFitEpochs = 30
    let model = try Finetune.run(train: train, valid: nil, pretrained: nil, config: config)
    return Fixture(train: train, addedLabel: extra, droppedLabel: gone, model: model)
  }

  func testTrainingCorpusIsScoredByTheFoldsAndItsErrorsAreFound() throws {
    let f = try Self.fixture.get()
    let builder = MultiLabelMineReportBuilder()
    let r = try builder.build(model: f.model, modelPath: "m", corpus: f.train, threads: 1)
    XCTAssertEqual(r.source, .crossFit)
    XCTAssertTrue(r.multi_label)
    XCTAssertEqual(r.rows, 400)
    let wrong = r.label_issues.filter { $0.issue == .wrong }.map { "\($0.line) \($0.label)" }
    let missing = r.label_issues.filter { $0.issue == .missing }.map { "\($0.line) \($0.label)" }
    XCTAssertTrue(wrong.contains("\(Self.added + 1) \(f.addedLabel)"), "\(r.label_issues)")
    XCTAssertTrue(missing.contains("\(Self.dropped + 1) \(f.droppedLabel)"), "\(r.label_issues)")
    XCTAssertLessThanOrEqual(r.label_issues.count, 8, "a clean keyword corpus: \(r.label_issues)")

    // The training rows' probabilities are the folds', Platt-mapped, not the model's.
    let (p, _) = try builder.probabilities(f.model, corpus: f.train, threads: 1, encoder: nil)
    let c = f.model.labels.count
    let held = try XCTUnwrap(f.model.heldOut)
    let platt = try XCTUnwrap(f.model.metadata.platt)
    let lines = try XCTUnwrap(f.model.trainLines)
    let mapped = PlattScaling.apply(held, scales: platt.scales, shifts: platt.shifts)
    let own = try Predictor(model: f.model, threads: 1).probabilities(
      f.train.examples.map(\.text))
    for (r, line) in lines.enumerated() {
      let i = f.train.examples.firstIndex { $0.line == Int(line) }!
      XCTAssertEqual(Array(p[(i * c)..<(i * c + c)]), Array(mapped[(r * c)..<(r * c + c)]))
    }
    XCTAssertNotEqual(p, own)
    try checkListsFollowTheRules(r, probabilities: p, corpus: f.train, band: builder.band)
  }

  func testAnotherCorpusIsScoredByTheModelAndAWiderBandKeepsMorePairs() throws {
    let f = try Self.fixture.get()
    let other = try MultiLabelTrainingTests.corpus(count: 60, seed: 99, path: "other.tsv")
    let narrow = try MultiLabelMineReportBuilder(band: 0.5).build(
      model: f.model, modelPath: "m", corpus: other, threads: 1)
    let wide = try MultiLabelMineReportBuilder(band: 3).build(
      model: f.model, modelPath: "m", corpus: other, threads: 1)
    XCTAssertEqual(narrow.source, .model)
    XCTAssertGreaterThan(wide.boundary.count, narrow.boundary.count)
    let p = try Predictor(model: f.model, threads: 1).probabilities(other.examples.map(\.text))
    try checkListsFollowTheRules(wide, probabilities: p, corpus: other, band: 3)
  }

  /// ln(q / (1 − q)) with q kept in [1e-7, 1 − 1e-7], as the report clamps it.
  func clampedLogit(_ q: Float) -> Float {
    let x = Double(min(max(q, 1e-7), 1 - 1e-7))
    return Float(log(x / (1 - x)))
  }

  /// The boundary, per-label counts, issues and calibration of `r` recomputed from `p`.
  func checkListsFollowTheRules(
    _ r: MultiLabelMineReport, probabilities p: [Float], corpus: Corpus, band: Float,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let c = r.labels.count
    let t = r.thresholds
    var expected: [(line: Int, label: String, margin: Float)] = []
    var support = [Int](repeating: 0, count: c)
    var missed = support
    var spurious = support
    var near = support
    var carries: [Bool] = []
    for (i, e) in corpus.examples.enumerated() {
      for k in 0..<c {
        let q = p[i * c + k]
        let given = e.labels.contains(r.labels[k])
        let d = clampedLogit(q) - clampedLogit(t[k])
        carries.append(given)
        if abs(d) <= band {
          expected.append((e.line, r.labels[k], given ? d : -d))
          near[k] += 1
        }
        if given { support[k] += 1 }
        if given && q < t[k] { missed[k] += 1 }
        if !given && q >= t[k] { spurious[k] += 1 }
      }
    }
    XCTAssertEqual(r.band, band, file: file, line: line)
    XCTAssertEqual(r.boundary.count, expected.count, file: file, line: line)
    let got = Set(r.boundary.map { "\($0.line) \($0.label)" })
    XCTAssertEqual(got, Set(expected.map { "\($0.line) \($0.label)" }), file: file, line: line)
    for (b, e) in zip(r.boundary, r.boundary.dropFirst()) {
      XCTAssertLessThanOrEqual(
        abs(b.margin), abs(e.margin), "nearest the threshold first", file: file, line: line)
    }
    for b in r.boundary {
      let x = try XCTUnwrap(expected.first { $0.line == b.line && $0.label == b.label })
      XCTAssertEqual(b.margin, x.margin, accuracy: 1e-4, file: file, line: line)
      XCTAssertEqual(
        b.margin < 0, b.given != (b.probability >= b.threshold), file: file, line: line)
    }
    for s in r.per_label {
      let k = try XCTUnwrap(r.labels.firstIndex(of: s.label))
      XCTAssertEqual(
        [s.support, s.missed, s.false_alarms, s.near],
        [support[k], missed[k], spurious[k], near[k]], s.label,
        file: file, line: line)
    }
    for (a, b) in zip(r.per_label, r.per_label.dropFirst()) {
      XCTAssertGreaterThanOrEqual(
        a.missed + a.false_alarms, b.missed + b.false_alarms, "most errors first", file: file,
        line: line)
    }
    let issues = MultiLabelIssues.find(probabilities: p, carries: carries, classes: c)
    XCTAssertEqual(
      r.label_issues.map { "\($0.line) \($0.label) \($0.issue)" },
      issues.map { e in
        let (i, k) = e.pair.quotientAndRemainder(dividingBy: c)
        return "\(corpus.examples[i].line) \(r.labels[k]) \(e.kind)"
      }, file: file, line: line)
    let gold = corpus.examples.map { e in e.labels.map { Int32(r.labels.firstIndex(of: $0)!) } }
    XCTAssertEqual(
      r.calibration.ece, MultiLabelMetrics.meanClassCalibrationError(p, gold: gold, classes: c),
      accuracy: 1e-6, file: file, line: line)
    XCTAssertEqual(
      r.calibration.log_loss, MultiLabelMetrics.logLoss(p, gold: gold, classes: c), accuracy: 1e-4,
      file: file, line: line)
  }

  func testRenderingsShowEverySection() throws {
    let f = try Self.fixture.get()
    let r = try MultiLabelMineReportBuilder().build(
      model: f.model, modelPath: "m.qmodel", corpus: f.train, threads: 1)
    let text = r.renderText(top: 5)
    for s in ["Likely label errors", "Boundary pairs", "Labels by misses and false alarms"] {
      XCTAssertTrue(text.contains(s), text)
    }
    XCTAssertTrue(text.contains("\(Self.added + 1)  \(f.addedLabel)"), text)
    XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= 100 }, text)
    let html = r.renderHTML(top: 5)
    for id in ["label-issues", "boundary", "labels"] {
      XCTAssertTrue(html.contains("<section id=\"\(id)\">"), id)
    }
    XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
    let json = try JSONDecoder().decode(
      MultiLabelMineReport.self, from: try JSONEncoder().encode(r))
    XCTAssertEqual(json, r)
  }
}
