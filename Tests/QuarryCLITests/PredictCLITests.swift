import Foundation
import XCTest

/// `quarry predict`: input from a file or stdin, TSV and JSON Lines output.
final class PredictCLITests: CLITestCase {
  let labels: Set<String> = ["cooking", "sports", "weather"]

  /// The tiny test set's labels and texts.
  func testRows() throws -> [(label: String, text: String)] {
    try corpusLines("test.tsv").map {
      let parts = $0.split(separator: "\t", maxSplits: 1)
      return (String(parts[0]), String(parts[1]))
    }
  }

  /// Texts with an empty line and a blank line among them.
  func inputWithBlankLines() throws -> (text: String, lines: Int) {
    var texts = try testRows().prefix(10).map(\.text)
    texts.insert("", at: 3)
    texts.insert("   ", at: 7)
    texts.insert("", at: 0)
    return (texts.joined(separator: "\n") + "\n", texts.count)
  }

  func testInputFileAndStdinGiveTheSameOutput() throws {
    let model = try trainModel()
    let (text, count) = try inputWithBlankLines()
    let file = try write("texts.txt", text)
    for extra in [[], ["--k", "2"], ["--format", "jsonl", "--k", "3"]] {
      let fromFile = try quarry(["predict", "--model", model, "--input", file] + extra)
      let fromStdin = try quarry(["predict", "--model", model] + extra, stdin: Data(text.utf8))
      XCTAssertTrue(fromFile.succeeded, fromFile.summary)
      XCTAssertTrue(fromStdin.succeeded, fromStdin.summary)
      XCTAssertEqual(fromFile.stdoutLines.count, count, "\(extra)")
      XCTAssertEqual(fromFile.stdout, fromStdin.stdout, "\(extra)")
    }
  }

  func testOneOutputLinePerInputLineIncludingEmptyLines() throws {
    let model = try trainModel()
    let (text, count) = try inputWithBlankLines()
    let r = try quarry(["predict", "--model", model], stdin: Data(text.utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertEqual(r.stdoutLines.count, count, r.stdout)
    XCTAssertTrue(r.stdout.hasSuffix("\n"))
    for line in r.stdoutLines {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false)
      XCTAssertEqual(f.count, 2, line)
      XCTAssertTrue(labels.contains(String(f[0])), line)
    }
    // No final newline, and CRLF line ends, change nothing.
    let crlf = text.dropLast().replacingOccurrences(of: "\n", with: "\r\n")
    let r2 = try quarry(["predict", "--model", model], stdin: Data(crlf.utf8))
    XCTAssertTrue(r2.succeeded, r2.summary)
    XCTAssertEqual(r2.stdout, r.stdout)
  }

  func testKTwoGivesTwoLabelProbabilityPairsPerLine() throws {
    let model = try trainModel()
    let texts = try testRows().map(\.text)
    let r = try quarry(
      ["predict", "--model", model, "--k", "2"],
      stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertEqual(r.stdoutLines.count, texts.count)
    for line in r.stdoutLines {
      let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      XCTAssertEqual(f.count, 4, line)
      guard f.count == 4 else { continue }
      XCTAssertTrue(labels.contains(f[0]) && labels.contains(f[2]), line)
      XCTAssertNotEqual(f[0], f[2], line)
      let p = try [f[1], f[3]].map { try XCTUnwrap(Double($0), line) }
      checkProbabilities(p, line: line)
      XCTAssertGreaterThanOrEqual(p[0], p[1], "best first: \(line)")
    }
  }

  /// `--k` beyond the number of classes gives every class once.
  func testKLargerThanClassCountGivesEveryClass() throws {
    let model = try trainModel()
    let r = try quarry(
      ["predict", "--model", model, "--k", "10"], stdin: Data("rain and wind\n".utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    let f = r.stdoutLines.first?.split(separator: "\t").map(String.init) ?? []
    XCTAssertEqual(f.count, 6, r.stdout)
    XCTAssertEqual(Set(stride(from: 0, to: f.count, by: 2).map { f[$0] }), labels)
    let p = stride(from: 1, to: f.count, by: 2).compactMap { Double(f[$0]) }
    XCTAssertEqual(p.reduce(0, +), 1, accuracy: 0.001, "all classes' probabilities sum to 1")
  }

  func testJSONLinesOutputParses() throws {
    let model = try trainModel()
    let (text, count) = try inputWithBlankLines()
    let r = try quarry(
      ["predict", "--model", model, "--format", "jsonl", "--k", "2"], stdin: Data(text.utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertEqual(r.stdoutLines.count, count)
    for (i, line) in r.stdoutLines.enumerated() {
      let obj = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
      XCTAssertEqual(obj["line"] as? Int, i + 1, line)
      let ls = try XCTUnwrap(obj["labels"] as? [String], line)
      let ps = try XCTUnwrap(obj["probabilities"] as? [Double], line)
      XCTAssertEqual(ls.count, 2, line)
      XCTAssertEqual(ps.count, 2, line)
      XCTAssertTrue(ls.allSatisfy(labels.contains), line)
      checkProbabilities(ps, line: line)
    }
  }

  /// An input longer than two of predict's blocks (8,192 texts each): every line is
  /// printed once, in order, numbered across blocks, with the output its text gets alone.
  func testInputOfSeveralBlocksMatchesTextByText() throws {
    let model = try trainModel()
    let texts = try testRows().map(\.text)
    let alone = try quarry(
      ["predict", "--model", model, "--format", "jsonl", "--k", "2"],
      stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(alone.succeeded, alone.summary)
    let n = 2 * 8192 + 37
    let many = (0..<n).map { texts[$0 % texts.count] }
    let r = try quarry(
      ["predict", "--model", model, "--format", "jsonl", "--k", "2"],
      stdin: Data((many.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    let lines = r.stdoutLines
    let want = alone.stdoutLines
    XCTAssertEqual(lines.count, n)
    XCTAssertEqual(want.count, texts.count)
    // Without its "line" field, line i is the line of text i mod |texts| predicted alone.
    func body(_ line: String) -> Substring { line.drop { $0 != "," } }
    let wrong = lines.indices.filter {
      !lines[$0].hasPrefix("{\"line\":\($0 + 1),")
        || body(lines[$0]) != body(want[$0 % want.count])
    }
    XCTAssertEqual(wrong.count, 0, "first wrong line: \(wrong.first.map { lines[$0] } ?? "")")
  }

  /// predict's best label agrees with the gold labels as often as `evaluate` says.
  func testTopLabelsAgreeWithEvaluate() throws {
    let model = try trainModel()
    let rows = try testRows()
    let r = try quarry(
      ["predict", "--model", model],
      stdin: Data((rows.map(\.text).joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(r.succeeded, r.summary)
    let predicted = r.stdoutLines.map { String($0.split(separator: "\t")[0]) }
    XCTAssertEqual(predicted.count, rows.count)
    let correct = zip(predicted, rows).filter { $0 == $1.label }.count
    let report = try evaluateJSON(model: model, data: CLI.tiny("test.tsv"))
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double)
    XCTAssertEqual(Double(correct) / Double(rows.count), accuracy, accuracy: 1e-6)
  }

  func testEmptyStdinPrintsNothing() throws {
    let model = try trainModel()
    let r = try quarry(["predict", "--model", model], stdin: Data())
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertEqual(r.stdout, "")
  }

  func testHelpListsAnExample() throws {
    let r = try quarry(["predict", "--help"])
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stdout.contains("Example"), r.stdout)
    XCTAssertTrue(r.stdout.contains("quarry predict --model"), r.stdout)
    for flag in ["--model", "--input", "--k", "--format"] {
      XCTAssertTrue(r.stdout.contains(flag), "help lacks \(flag)")
    }
  }

  /// Each probability in [0, 1], best first, and their sum at most 1 (plus the rounding of
  /// four printed decimals per value).
  func checkProbabilities(
    _ p: [Double], line: String, file: StaticString = #filePath, l: UInt = #line
  ) {
    for v in p {
      XCTAssertTrue((0...1).contains(v), "probability \(v): \(line)", file: file, line: l)
    }
    XCTAssertLessThanOrEqual(
      p.reduce(0, +), 1 + 0.00005 * Double(p.count), line, file: file, line: l)
    XCTAssertEqual(p, p.sorted(by: >), "best first: \(line)", file: file, line: l)
  }
}
