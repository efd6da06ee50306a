import Foundation
import XCTest

/// `quarry evaluate` on the tiny test set in each of the four corpus formats.
final class EvaluateCLITests: CLITestCase {
  func testAllFourFormatsGiveTheSameScores() throws {
    let model = try trainModel()
    let tsv = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"))
    let accuracy = try XCTUnwrap(tsv["accuracy"] as? Double)
    XCTAssertGreaterThanOrEqual(accuracy, FinetuneCLITests.minimumAccuracy)
    let confusion = try XCTUnwrap(tsv["confusion"] as? [[Int]])
    for name in ["test.csv", "test.fasttext.txt", "test.jsonl"] {
      let other = try evaluateJSON(model: model, data: CLI.tiny(name))
      XCTAssertEqual(other["rows"] as? Int, 60, name)
      XCTAssertEqual(other["accuracy"] as? Double, accuracy, name)
      XCTAssertEqual(other["macro_f1"] as? Double, tsv["macro_f1"] as? Double, name)
      XCTAssertEqual(other["confusion"] as? [[Int]], confusion, name)
    }
  }

  /// `--format` names the format when the extension and content would not.
  func testExplicitFormatOverridesDetection() throws {
    let model = try trainModel()
    let csv = try Data(contentsOf: URL(fileURLWithPath: CLI.tiny("test.csv")))
    let renamed = try write("test-data.txt", bytes: [UInt8](csv))
    let auto = try quarry(["evaluate", "--model", model, "--data", renamed])
    // Detected as TSV, the CSV has no tab on its first line.
    assertFailure(auto, mentions: ["test-data.txt:1:"])
    let given = try evaluateJSON(model: model, data: renamed, extra: ["--data-format", "csv"])
    let tsv = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"))
    XCTAssertEqual(given["accuracy"] as? Double, tsv["accuracy"] as? Double)
  }

  func testTextReportHasTablesAndAgreesWithJSON() throws {
    let model = try trainModel()
    let r = try quarry(["evaluate", "--model", model, "--data", CLI.tiny("test.tsv")])
    XCTAssertTrue(r.succeeded, r.summary)
    let json = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"))
    let accuracy = try XCTUnwrap(json["accuracy"] as? Double)
    XCTAssertTrue(r.stdout.hasPrefix("rows 60  accuracy "), r.stdout)
    XCTAssertTrue(r.stdout.contains(String(format: "accuracy %.4f", accuracy)), r.stdout)
    // Log loss and calibration error, in both forms.
    let logLoss = try XCTUnwrap(json["log_loss"] as? Double)
    let ece = try XCTUnwrap(json["ece"] as? Double)
    XCTAssertGreaterThan(logLoss, 0)
    XCTAssertTrue((0...1).contains(ece), "\(ece)")
    XCTAssertTrue(
      r.stdout.contains(String(format: "log loss %.4f  ECE %.4f", logLoss, ece)), r.stdout)
    XCTAssertTrue(r.stdout.contains("precision"), r.stdout)
    XCTAssertTrue(r.stdout.contains("confusion"), r.stdout)
    for label in ["cooking", "sports", "weather"] {
      XCTAssertTrue(r.stdout.contains(label), r.stdout)
    }
  }

  /// Training rows score at least as well as unseen ones (sanity of the report).
  func testTrainingCorpusScoresHigh() throws {
    let model = try trainModel()
    let report = try evaluateJSON(model: model, data: CLI.tiny("train.tsv"))
    XCTAssertEqual(report["rows"] as? Int, 150)
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double)
    XCTAssertGreaterThanOrEqual(accuracy, 0.9)
  }

  func testThreadCountDoesNotChangeScores() throws {
    let model = try trainModel()
    let one = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"), extra: ["--threads", "1"])
    let two = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"), extra: ["--threads", "2"])
    XCTAssertEqual(one["accuracy"] as? Double, two["accuracy"] as? Double)
    XCTAssertEqual(one["confusion"] as? [[Int]], two["confusion"] as? [[Int]])
  }

  func testHelpListsAnExample() throws {
    let r = try quarry(["evaluate", "--help"])
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stdout.contains("Example"), r.stdout)
    XCTAssertTrue(r.stdout.contains("quarry evaluate --model"), r.stdout)
    for flag in ["--model", "--data", "--json", "--data-format", "--skip-bad-rows"] {
      XCTAssertTrue(r.stdout.contains(flag), "help lacks \(flag)")
    }
  }
}
