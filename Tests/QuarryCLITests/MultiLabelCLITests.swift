import Foundation
import XCTest

/// The real `quarry` on multi-label corpora written by the test: finetune, then evaluate
/// and predict with the model's thresholds, and the commands that must refuse.
final class MultiLabelCLITests: CLITestCase {
  static let labels = ["food", "money", "music", "sport", "weather"]
  static let keywords = [
    "food": ["bread", "cheese", "soup", "recipe", "oven"],
    "money": ["bank", "rates", "stock", "market", "loan"],
    "music": ["guitar", "song", "album", "band", "piano"],
    "sport": ["goal", "match", "team", "score", "league"],
    "weather": ["rain", "storm", "sunny", "wind", "snow"],
  ]
  static let noise = ["the", "a", "today", "new", "big", "story", "report", "of"]

  /// `count` rows of one to three labels, each label bringing two of its keywords, with
  /// two noise words; from a seeded linear congruential generator.
  static func rows(count: Int, seed: UInt64) -> [(labels: [String], text: String)] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    func next(_ n: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(n))
    }
    return (0..<count).map { _ in
      var pool = labels
      var chosen: [String] = []
      for _ in 0..<(1 + next(3)) { chosen.append(pool.remove(at: next(pool.count))) }
      var words = [noise[next(8)], noise[next(8)]]
      for l in chosen { words += [keywords[l]![next(5)], keywords[l]![next(5)]] }
      for i in stride(from: words.count - 1, to: 0, by: -1) { words.swapAt(i, next(i + 1)) }
      return (chosen, words.joined(separator: " "))
    }
  }

  /// Rows as TSV, labels joined by `separator`.
  static func tsv(_ rows: [(labels: [String], text: String)], separator: String = ",") -> String {
    rows.map { $0.labels.joined(separator: separator) + "\t" + $0.text + "\n" }.joined()
  }

  /// Trains on 150 rows (seed 3): 10 epochs at a fixed rate, two cross-fit folds of 4
  /// epochs for the thresholds. Returns the model path; asserts the run said multi-label.
  func trainMultiLabel(
    _ name: String = "multi.qmodel", file: StaticString = #filePath, line: UInt = #line
  ) throws -> String {
    let train = try write("train.tsv", Self.tsv(Self.rows(count: 150, seed: 3)))
    let out = path(name)
    let r = try quarry([
      "finetune", "--train", train, "--output", out, "--epochs", "10", "--seed", "1",
      "--threads", "2", "--lr", "0.5", "--dim", "8", "--batch-size", "8", "--cross-fit", "2",
      "--cross-fit-epochs", "4", "--no-checkpoint",
    ])
    XCTAssertTrue(r.succeeded, "finetune failed: \(r.summary)", file: file, line: line)
    XCTAssertTrue(
      r.stderr.contains("multi-label (line "), "no multi-label note: \(r.summary)", file: file,
      line: line)
    return out
  }

  /// predict --format jsonl on `texts`: each line's labels and probabilities.
  func predictJSONL(model: String, texts: [String], extra: [String] = []) throws -> [(
    labels: [String], probabilities: [Double]
  )] {
    let r = try quarry(
      ["predict", "--model", model, "--format", "jsonl"] + extra,
      stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertEqual(r.stdoutLines.count, texts.count, r.stdout)
    return try r.stdoutLines.map { line in
      let obj = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
      return (
        try XCTUnwrap(obj["labels"] as? [String], line),
        try XCTUnwrap(obj["probabilities"] as? [Double], line)
      )
    }
  }

  func testEvaluateReportsMultiLabelFiguresThatAgreeWithPredict() throws {
    let model = try trainMultiLabel()
    let held = Self.rows(count: 60, seed: 77)
    let data = try write("test.tsv", Self.tsv(held))
    let report = try evaluateJSON(model: model, data: data)
    for key in [
      "micro_f1", "macro_f1", "subset_accuracy", "hamming_loss", "per_label", "precision_at_1",
      "log_loss",
    ] {
      XCTAssertNotNil(report[key], "evaluate --json lacks \(key): \(report)")
    }
    XCTAssertNil(report["confusion"], "a single-label key in a multi-label report")
    XCTAssertEqual(report["rows"] as? Int, 60)
    XCTAssertEqual(report["multi_label"] as? Bool, true)
    let micro = try XCTUnwrap(report["micro_f1"] as? Double)
    XCTAssertGreaterThanOrEqual(micro, 0.85, "\(report)")
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(report["subset_accuracy"] as? Double), 0.5)
    let perLabel = try XCTUnwrap(report["per_label"] as? [[String: Any]])
    XCTAssertEqual(perLabel.compactMap { $0["label"] as? String }, Self.labels)
    // Support is the rows that carry each label.
    for entry in perLabel {
      let label = try XCTUnwrap(entry["label"] as? String)
      XCTAssertEqual(entry["support"] as? Int, held.filter { $0.labels.contains(label) }.count)
      let t = try XCTUnwrap(entry["threshold"] as? Double)
      XCTAssertTrue(t > 0 && t < 1, "\(entry)")
    }

    // Recount micro-F1, subset accuracy and Hamming loss from predict's sets.
    let predicted = try predictJSONL(model: model, texts: held.map(\.text))
    var (tp, fp, fn, exact) = (0, 0, 0, 0)
    for (row, p) in zip(held, predicted) {
      let (g, s) = (Set(row.labels), Set(p.labels))
      tp += g.intersection(s).count
      fp += s.subtracting(g).count
      fn += g.subtracting(s).count
      if g == s { exact += 1 }
    }
    XCTAssertEqual(micro, Double(2 * tp) / Double(2 * tp + fp + fn), accuracy: 1e-5)
    XCTAssertEqual(
      try XCTUnwrap(report["subset_accuracy"] as? Double), Double(exact) / 60, accuracy: 1e-5)
    XCTAssertEqual(
      try XCTUnwrap(report["hamming_loss"] as? Double), Double(fp + fn) / (60 * 5),
      accuracy: 1e-5)

    // --threshold 0.99 predicts fewer labels a row.
    let strict = try evaluateJSON(model: model, data: data, extra: ["--threshold", "0.99"])
    XCTAssertLessThan(
      try XCTUnwrap(strict["mean_labels_predicted"] as? Double),
      try XCTUnwrap(report["mean_labels_predicted"] as? Double))
  }

  /// The same rows with labels joined by "|" read the same with --label-separator "|";
  /// with "" the field is one unknown label, an error at line 1.
  func testLabelSeparatorOption() throws {
    let model = try trainMultiLabel()
    let held = Self.rows(count: 30, seed: 78)
    let comma = try evaluateJSON(model: model, data: try write("c.tsv", Self.tsv(held)))
    let pipeFile = try write("p.tsv", Self.tsv(held, separator: "|"))
    let pipe = try evaluateJSON(model: model, data: pipeFile, extra: ["--label-separator", "|"])
    XCTAssertEqual(pipe["micro_f1"] as? Double, comma["micro_f1"] as? Double)
    XCTAssertEqual(pipe["subset_accuracy"] as? Double, comma["subset_accuracy"] as? Double)
    let multiFirst = held.firstIndex { $0.labels.count > 1 }!
    let whole = try quarry([
      "evaluate", "--model", model, "--data", pipeFile, "--label-separator", "",
    ])
    assertFailure(whole, mentions: ["p.tsv:\(multiFirst + 1):", "not one the model knows"])
  }

  /// A multi-label model scored on a CSV whose `label` column (read whole) holds several
  /// of its labels: the error names the line and says to call the column `labels`.
  func testCSVLabelColumnOfSeveralLabelsSuggestsLabels() throws {
    let model = try trainMultiLabel()
    let held = Self.rows(count: 10, seed: 79)
    let multi = held.firstIndex { $0.labels.count > 1 }!
    var csv = "text,label\n"
    for r in held { csv += "\"\(r.text)\",\"\(r.labels.joined(separator: ","))\"\n" }
    let r = try quarry(["evaluate", "--model", model, "--data", try write("l.csv", csv)])
    assertFailure(r, mentions: ["l.csv:\(multi + 2):", "'labels' (not 'label')"])
  }

  func testPredictPrintsEveryLabelAboveItsThresholdAndTheOptionsNarrowIt() throws {
    let model = try trainMultiLabel()
    let texts = [
      "bread cheese bank rates goal match the",  // food, money, sport
      "guitar song rain storm a",  // music, weather
      "soup oven today",  // food
    ]
    let want: [Set<String>] = [["food", "money", "sport"], ["music", "weather"], ["food"]]
    let all = try predictJSONL(model: model, texts: texts)
    for (i, row) in all.enumerated() {
      XCTAssertEqual(Set(row.labels), want[i], "text \(i): \(row)")
      XCTAssertEqual(row.probabilities, row.probabilities.sorted(by: >), "most probable first")
      XCTAssertEqual(row.labels.count, row.probabilities.count)
    }
    // --k 1: the most probable label alone.
    let one = try predictJSONL(model: model, texts: texts, extra: ["--k", "1"])
    for (i, row) in one.enumerated() {
      XCTAssertEqual(row.labels, Array(all[i].labels.prefix(1)), "text \(i)")
    }
    // --threshold between the lowest and the highest probability printed: only the labels
    // at or above it, so fewer in all. (The probabilities are printed to 4 decimals, so the
    // two must differ by more than their rounding.)
    let printed = all.flatMap(\.probabilities)
    let (low, high) = (printed.min() ?? 0, printed.max() ?? 0)
    XCTAssertGreaterThan(high - low, 2e-4, "every printed probability is the same: \(all)")
    let cut = (low + high) / 2
    let strict = try predictJSONL(model: model, texts: texts, extra: ["--threshold", "\(cut)"])
    for (i, row) in strict.enumerated() {
      XCTAssertTrue(Set(row.labels).isSubset(of: Set(all[i].labels)), "text \(i): \(row)")
      XCTAssertTrue(row.probabilities.allSatisfy { $0 >= cut - 1e-4 }, "text \(i): \(row)")
    }
    XCTAssertLessThan(
      strict.map(\.labels.count).reduce(0, +), all.map(\.labels.count).reduce(0, +))
    // TSV: label<TAB>probability pairs, as many as JSON Lines gives.
    let tsv = try quarry(
      ["predict", "--model", model], stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(tsv.succeeded, tsv.summary)
    for (i, line) in tsv.stdoutLines.enumerated() {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false)
      XCTAssertEqual(f.count, 2 * all[i].labels.count, line)
      XCTAssertEqual(stride(from: 0, to: f.count, by: 2).map { String(f[$0]) }, all[i].labels)
    }
  }

  func testSingleLabelModelOnAMultiLabelFileFailsNamingTheLine() throws {
    let model = try trainModel()
    let data = try write(
      "mixed.tsv",
      "cooking\tsoup and bread\nsports\tthe match\ncooking,sports\tbread at the match\n")
    let r = try quarry(["evaluate", "--model", model, "--data", data])
    assertFailure(r, mentions: ["Error:", "mixed.tsv:3:", "single-label"])
    XCTAssertEqual(r.stdout, "")
  }

  /// mine-report on a multi-label model: per (row, label) pair, from the folds on the
  /// training corpus and from the model elsewhere, in JSON, text and HTML; a band in
  /// log-odds may pass 1 there, not for a single-label model.
  func testMineReportOnAMultiLabelModel() throws {
    let model = try trainMultiLabel()
    let train = path("train.tsv")
    let test = try write("test.tsv", Self.tsv(Self.rows(count: 20, seed: 5)))
    for (data, source, rows) in [(train, "cross-fit", 150), (test, "model", 20)] {
      let r = try quarry(["mine-report", "--model", model, "--data", data, "--json"])
      XCTAssertTrue(r.succeeded, r.summary)
      let obj = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any], r.stdout)
      XCTAssertEqual(obj["multi_label"] as? Bool, true)
      XCTAssertEqual(obj["source"] as? String, source)
      XCTAssertEqual(obj["rows"] as? Int, rows)
      XCTAssertEqual((obj["per_label"] as? [Any])?.count, Self.labels.count)
      let boundary = try XCTUnwrap(obj["boundary"] as? [[String: Any]])
      XCTAssertNotNil(obj["label_issues"] as? [Any])
      let perLabel = try XCTUnwrap(obj["per_label"] as? [[String: Any]])
      // Every label's boundary pairs are in the list; the training rows carry labels.
      XCTAssertEqual(perLabel.map { $0["near"] as? Int ?? -1 }.reduce(0, +), boundary.count)
      XCTAssertGreaterThan(perLabel.map { $0["support"] as? Int ?? 0 }.reduce(0, +), rows)
      XCTAssertNotNil((obj["calibration"] as? [String: Any])?["ece"] as? Double)
    }
    let text = try quarry(["mine-report", "--model", model, "--data", train, "--band", "2"])
    XCTAssertTrue(text.succeeded, text.summary)
    XCTAssertTrue(text.stdout.contains("Boundary pairs ("), text.stdout)
    XCTAssertTrue(text.stdout.contains("(multi-label)"), text.stdout)
    let html = path("report.html")
    let h = try quarry([
      "mine-report", "--model", model, "--data", train, "--format", "html", "--output", html,
    ])
    XCTAssertTrue(h.succeeded, h.summary)
    XCTAssertTrue(h.stderr.contains("boundary pairs"), h.summary)
    let page = try String(contentsOfFile: html, encoding: .utf8)
    // Its own reports are replaced without --force, in every format.
    for format in ["json", "text", "html"] {
      for _ in 0..<2 {
        let again = try quarry([
          "mine-report", "--model", model, "--data", train, "--format", format, "--output",
          path("again.\(format)"),
        ])
        XCTAssertTrue(again.succeeded, "\(format): \(again.summary)")
      }
    }
    XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
    for id in ["label-issues", "boundary", "labels"] {
      XCTAssertTrue(page.contains("<section id=\"\(id)\">"), id)
    }
    let single = try trainModel()
    let refused = try quarry([
      "mine-report", "--model", single, "--data", CLI.tiny("test.tsv"), "--band", "2",
    ])
    assertFailure(refused, mentions: [single, "--band", "single-label"])
  }

  func testThresholdOptionOnASingleLabelModelFails() throws {
    let model = try trainModel()
    let p = try quarry(
      ["predict", "--model", model, "--threshold", "0.3"], stdin: Data("rain and wind\n".utf8))
    XCTAssertTrue(p.exited, p.summary)
    XCTAssertNotEqual(p.status, 0, p.summary)
    XCTAssertTrue(p.stderr.contains("--threshold"), p.summary)
    XCTAssertTrue(p.stderr.contains("single-label"), p.summary)
    XCTAssertEqual(p.stdout, "")
    let e = try quarry([
      "evaluate", "--model", model, "--data", CLI.tiny("test.tsv"), "--threshold", "0.3",
    ])
    XCTAssertTrue(e.exited && e.status != 0, e.summary)
    XCTAssertTrue(e.stderr.contains("single-label"), e.summary)
    // A fact about the model file, not a usage error: it names the file, prints no usage.
    for r in [p, e] {
      XCTAssertTrue(r.stderr.contains(model), r.summary)
      XCTAssertFalse(r.stderr.contains("Usage:"), r.summary)
    }
    // Out of (0, 1), refused before any model is read.
    for bad in ["0", "1", "1.5", "-0.1"] {
      let r = try quarry(["predict", "--model", "none.qmodel", "--threshold", bad])
      XCTAssertTrue(r.exited && r.status != 0, r.summary)
      XCTAssertTrue(r.stderr.contains("--threshold"), "\(bad): \(r.summary)")
    }
  }

  /// `quarry serve` answers a multi-label model's texts with every label at or above its
  /// threshold, byte for byte as `predict --format jsonl` prints them, and a request's
  /// `threshold` as `predict --threshold`.
  func testServeAnswersAsPredictDoes() throws {
    let model = try trainMultiLabel()
    let texts = Self.rows(count: 8, seed: 11).map(\.text)
    func expected(_ extra: [String]) throws -> String {
      let cli = try quarry(
        ["predict", "--model", model, "--format", "jsonl"] + extra,
        stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
      XCTAssertTrue(cli.succeeded, cli.summary)
      let rows = cli.stdoutLines.map {
        "{" + $0.replacingOccurrences(of: #"^\{"line":\d+,"#, with: "", options: .regularExpression)
      }
      return "{\"predictions\":[" + rows.joined(separator: ",") + "]}\n"
    }
    let server = try startServer(model: model)
    defer { if server.process.isRunning { server.process.terminate() } }
    func body(_ extra: [String: Any]) throws -> String {
      String(
        decoding: try JSONSerialization.data(
          withJSONObject: extra.merging(["texts": texts]) { a, _ in a }),
        as: UTF8.self)
    }
    let (status, answer) = try request(server.port, "/v1/predict", body: try body([:]))
    XCTAssertEqual(status, 200, answer)
    XCTAssertEqual(answer, try expected([]))
    XCTAssertTrue(answer.contains("\",\""), "no text got several labels: \(answer)")
    let (s2, strict) = try request(
      server.port, "/v1/predict", body: try body(["threshold": 0.9, "k": 2]))
    XCTAssertEqual(s2, 200, strict)
    XCTAssertEqual(strict, try expected(["--threshold", "0.9", "--k", "2"]))
    let (s3, bad) = try request(server.port, "/v1/predict", body: try body(["threshold": 1.5]))
    XCTAssertEqual(s3, 400, bad)
  }
}
