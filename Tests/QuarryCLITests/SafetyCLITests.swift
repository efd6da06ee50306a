import Foundation
import XCTest

/// Quarry never overwrites or deletes a file it did not write, and never writes a useless
/// or silently wrong model: each case runs the real binary, checks the message, the exit
/// status and that every input is byte for byte as it was.
final class SafetyCLITests: CLITestCase {
  /// A copy of the tiny training corpus in the working directory.
  func trainCopy(_ name: String = "v5.tsv") throws -> String {
    try write(
      name, bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: CLI.tiny("train.tsv")))))
  }

  /// The file's sha256, by `sha256sum` ("missing" when there is no file).
  func sha(_ path: String) -> String {
    guard FileManager.default.fileExists(atPath: path),
      let r = try? run("/usr/bin/sha256sum", [path]), r.succeeded
    else { return "missing" }
    return String(r.stdout.prefix(64))
  }

  /// Runs `args`, expects a failure with `status` naming `mentions`, and every file of
  /// `unchanged` as it was before.
  func assertRefused(
    _ args: [String], status: Int32 = 1, mentions: [String], unchanged: [String],
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let before = unchanged.map(sha)
    let r = try quarry(args)
    assertFailure(r, status: status, mentions: mentions, file: file, line: line)
    XCTAssertEqual(unchanged.map(sha), before, "an input changed: \(args)", file: file, line: line)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []
    XCTAssertEqual(names.filter { $0.contains(".tmp") }, [], file: file, line: line)
  }

  func quick(_ train: String, output: String, _ extra: [String] = []) -> [String] {
    [
      "finetune", "--train", train, "--output", output, "--epochs", "2", "--cross-fit", "0",
      "--seed", "1",
    ] + extra
  }

  // MARK: 1, 2, 7: what finetune writes and removes

  func testCheckpointAtAForeignFileIsRefusedAndTheFileKept() throws {
    let train = try trainCopy()
    let notes = try write("notes.txt", "my notes\n")
    try assertRefused(
      quick(train, output: path("m.qmodel"), ["--checkpoint", "notes.txt"]),
      mentions: ["notes.txt", "not a Quarry checkpoint"], unchanged: [train, notes])
    assertNoModelLeft(at: path("m.qmodel"))
  }

  func testOutputOrCheckpointNamingAnInputByAnyPathIsRefused() throws {
    let train = try trainCopy()
    let valid = try write("valid.tsv", try corpusLines("test.tsv").joined(separator: "\n") + "\n")
    let vectors = try write(
      "vectors.vec", try String(contentsOfFile: CLI.tiny("vectors.vec"), encoding: .utf8))
    XCTAssertEqual(symlink("v5.tsv", path("link.tsv")), 0)
    XCTAssertEqual(link(path("v5.tsv"), path("hard.tsv")), 0)
    let dirName = work.lastPathComponent
    let names = ["v5.tsv", "./v5.tsv", "../\(dirName)/v5.tsv", "link.tsv", "hard.tsv"]
    let inputs = [train, valid, vectors]
    let base = ["--valid", "valid.tsv", "--pretrained", "vectors.vec"]
    for name in names {
      try assertRefused(
        quick("v5.tsv", output: name, base), mentions: ["--output", "--train", "same file"],
        unchanged: inputs)
      try assertRefused(
        quick("v5.tsv", output: "m.qmodel", base + ["--checkpoint", name]),
        mentions: ["--checkpoint", "--train", "same file"], unchanged: inputs)
    }
    for (flag, name) in [("--valid", "./valid.tsv"), ("--pretrained", "../\(dirName)/vectors.vec")]
    {
      try assertRefused(
        quick("v5.tsv", output: name, base), mentions: ["--output", flag, "same file"],
        unchanged: inputs)
    }
    try assertRefused(
      quick("v5.tsv", output: "m.qmodel", ["--checkpoint", "./m.qmodel"]),
      mentions: ["--output and --checkpoint"], unchanged: inputs)
    assertNoModelLeft(at: path("m.qmodel"))
  }

  func testOutputReplacesAModelButAnyOtherFileOnlyWithForce() throws {
    let train = try trainCopy()
    let out = path("m.qmodel")
    XCTAssertTrue(try quarry(quick(train, output: out)).succeeded)
    let first = sha(out)
    XCTAssertTrue(try quarry(quick(train, output: out, ["--seed", "2"])).succeeded)
    XCTAssertNotEqual(sha(out), first, "a model at --output is replaced")

    let essay = try write("essay.txt", "not a model\n")
    try assertRefused(
      quick(train, output: essay), mentions: ["essay.txt", "not a Quarry model", "--force"],
      unchanged: [essay, train])
    let forced = try quarry(quick(train, output: essay, ["--force"]))
    XCTAssertTrue(forced.succeeded, forced.summary)
    XCTAssertTrue(
      try Data(contentsOf: URL(fileURLWithPath: essay)).starts(with: Array("QUARRYMF".utf8)))
  }

  func testAStoppedRunsCheckpointIsNeitherOverwrittenNorIgnored() throws {
    let train = try trainCopy()
    let out = path("m.qmodel")
    // A checkpoint's magic is what marks it as one of Quarry's.
    let saved = try write("m.qmodel.checkpoint", bytes: Array("QUARRYCK".utf8) + [1, 0, 0, 0])
    try assertRefused(
      quick(train, output: out), mentions: ["m.qmodel.checkpoint", "--resume", "--force"],
      unchanged: [saved, train])
    let forced = try quarry(quick(train, output: out, ["--force"]))
    XCTAssertTrue(forced.succeeded, forced.summary)
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: saved),
      "the discarded checkpoint is removed at the end"
    )
  }

  func testTheRunsOwnCheckpointIsRemovedAtTheEnd() throws {
    let train = try trainCopy()
    let out = path("m.qmodel")
    let cp = path("m.qmodel.checkpoint")
    let r = try quarry(quick(train, output: out, ["--checkpoint-every", "0"]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: cp), "the run's own checkpoint is removed")
  }

  // MARK: 3, 4: labels are printable text

  func testLabelsWithControlCharactersAreRefusedWithTheirLine() throws {
    let cases: [(String, String, String)] = [
      ("tab.jsonl", "{\"text\":\"rain today\",\"label\":\"a\\tb\"}", "a tab"),
      ("newline.jsonl", "{\"text\":\"rain today\",\"label\":\"a\\nb\"}", "a line feed"),
      ("nul.jsonl", "{\"text\":\"rain today\",\"label\":\"a\\u0000\"}", "a NUL"),
      ("bell.jsonl", "{\"text\":\"rain today\",\"label\":\"a\\u0007\"}", "U+0007"),
    ]
    for (name, row, what) in cases {
      let p = try write(name, "{\"text\":\"sun all day\",\"label\":\"x\"}\n\(row)\n")
      try assertRefused(
        quick(p, output: path("m.qmodel")), mentions: ["\(name):2:", "label", what],
        unchanged: [p])
    }
    let csv = try write("q.csv", "label,text\nx,sun all day\n\"y\nz\",rain today\n")
    try assertRefused(
      quick(csv, output: path("m.qmodel")), mentions: ["q.csv:3:", "a line feed"],
      unchanged: [csv])
    assertNoModelLeft(at: path("m.qmodel"))
  }

  func testJSONLabelsOfTheWrongTypeAreRefusedWithWhatWasFound() throws {
    let cases: [(String, String)] = [
      ("true", "boolean"), ("false", "boolean"), ("null", "null"), ("[1]", "array"),
      ("{\"a\":1}", "object"),
    ]
    for (value, what) in cases {
      let p = try write(
        "t.jsonl", "{\"text\":\"sun\",\"label\":1}\n{\"text\":\"rain\",\"label\":\(value)}\n")
      try assertRefused(
        quick(p, output: path("m.qmodel")), mentions: ["t.jsonl:2:", "label is", what],
        unchanged: [p])
    }
  }

  // MARK: 5: useless models

  func testTrainingWithNothingToLearnFromIsRefused() throws {
    let train = try trainCopy()
    try assertRefused(
      quick(train, output: path("m.qmodel"), ["--min-count", "100000"]),
      mentions: ["v5.tsv", "--min-count"], unchanged: [train])
    let punct = try write("punct.tsv", "a\t!!! ...\nb\t??? ,,,\na\t... !!\nb\t?? ,\n")
    try assertRefused(
      quick(punct, output: path("m.qmodel"), ["--no-punctuation"]),
      mentions: ["punct.tsv", "only punctuation"], unchanged: [punct])
    let empty = try write("empty.vec", "0 8\n")
    try assertRefused(
      quick(train, output: path("m.qmodel"), ["--pretrained", empty]),
      mentions: ["empty.vec", "no word vectors"], unchanged: [empty])
    let foreign = try write("foreign.vec", "zzqq 1 2 3\nxxyy 4 5 6\n")
    try assertRefused(
      quick(train, output: path("m.qmodel"), ["--pretrained", foreign]),
      mentions: ["foreign.vec", "none of the training words"], unchanged: [foreign])
    let perRow = try write(
      "per-row.tsv",
      (0..<300).map { "tag\($0)\tword\($0) other\($0) thing" }.joined(separator: "\n"))
    try assertRefused(
      quick(perRow, output: path("m.qmodel")),
      mentions: ["per-row.tsv", "300 labels for 300 rows"],
      unchanged: [perRow])
    assertNoModelLeft(at: path("m.qmodel"))
  }

  func testAModelOverTheSizeLimitIsRefusedWithTheFigure() throws {
    // 100 classes of 4 rows, each row 30 words of its own: about 24,000 features × 100
    // classes × 4 bytes = 9 MB of wide part.
    let rows = (0..<400).map { r in
      "c\(r / 4)\t" + (0..<30).map { "w\(r)x\($0)" }.joined(separator: " ")
    }
    let big = try write("big.tsv", rows.joined(separator: "\n") + "\n")
    try assertRefused(
      quick(big, output: path("m.qmodel"), ["--max-model-mb", "1"]),
      mentions: ["big.tsv", "the model would take", "MB", "--max-model-mb 1"], unchanged: [big])
    assertNoModelLeft(at: path("m.qmodel"))
  }

  // MARK: 6: no silent row loss

  /// A CSV of 400 rows whose line 5 leaves a quote open: the quote runs on over line 6.
  func testCSVQuoteLeftOpenIsAnErrorAndSkipBadRowsKeepsTheRowsAfterIt() throws {
    var lines = ["label,text"]
    for i in 0..<400 {
      lines.append(i % 2 == 0 ? "ham,\"hello there \(i)\"" : "spam,win a prize \(i)")
    }
    lines[4] = "spam,\"free entry now"  // line 5
    let csv = try write("open.csv", lines.joined(separator: "\n") + "\n")
    try assertRefused(
      quick(csv, output: path("m.qmodel")), mentions: ["open.csv:5:", "line 6", "quote"],
      unchanged: [csv])
    let r = try quarry(quick(csv, output: path("m.qmodel"), ["--skip-bad-rows"]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("open.csv:5:"), r.summary)
    XCTAssertTrue(
      r.stderr.contains("399 rows"), "the rows after the open quote are read: \(r.summary)")
  }

  func testCSVWithRealMultiLineTextsStillReads() throws {
    let csv = try write(
      "multi.csv",
      "label,text\nham,\"first line\nsecond line, with a comma\"\nspam,win now\nham,\"a\nb\"\nspam,prize\n"
    )
    let r = try quarry(quick(csv, output: path("m.qmodel")))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("4 rows"), r.summary)
  }

  // MARK: 9: smaller things

  func testFlagsThatCannotMeanAnythingAreUsageErrors() throws {
    let model = try trainModel()
    let train = CLI.tiny("train.tsv")
    let cases: [([String], String)] = [
      (["predict", "--model", model, "--k", "-1"], "--k must be at least 1"),
      (["mine-report", "--model", model, "--data", train, "--json", "--format", "html"], "--json"),
      (["evaluate", "--model", model, "--data", train, "--json", "--format", "text"], "--json"),
      (["predict", "--model", model, "--json", "--format", "tsv"], "--json"),
      (["mine-report", "--model", model, "--data", train, "--top", "-3"], "--top"),
      (
        [
          "finetune", "--train", train, "--output", path("x.qmodel"), "--dim", "300",
          "--pretrained", CLI.tiny("vectors.vec"),
        ], "--dim"
      ),
    ]
    for (args, mention) in cases {
      let r = try quarry(args, stdin: Data("rain\n".utf8))
      assertFailure(r, status: 64, mentions: [mention])
    }
  }

  func testEveryCommandTakesFormatAndJSON() throws {
    let model = try trainModel()
    let data = CLI.tiny("test.tsv")
    let e1 = try quarry(["evaluate", "--model", model, "--data", data, "--format", "json"])
    let e2 = try quarry(["evaluate", "--model", model, "--data", data, "--json"])
    XCTAssertTrue(e1.succeeded && e1.stdout.hasPrefix("{"), e1.summary)
    XCTAssertEqual(e1.stdout, e2.stdout)
    let p1 = try quarry(["predict", "--model", model, "--json"], stdin: Data("rain\n".utf8))
    let p2 = try quarry(
      ["predict", "--model", model, "--format", "jsonl"], stdin: Data("rain\n".utf8))
    XCTAssertTrue(p1.succeeded && p1.stdout.hasPrefix("{\"line\":1"), p1.summary)
    XCTAssertEqual(p1.stdout, p2.stdout)
  }

  func testHelpFitsEightyColumnsAndHasNoStrayBackslashes() throws {
    for command in ["finetune", "evaluate", "predict", "mine-report"] {
      let r = try runWithColumns(80, [command, "--help"])
      XCTAssertTrue(r.succeeded, r.summary)
      let discussion = r.stdout.components(separatedBy: "USAGE:")[0]
      for line in discussion.split(separator: "\n") {
        XCTAssertLessThanOrEqual(line.count, 80, "\(command) --help: \(line)")
        // A backslash ends only a shell example's line, to be continued on the next.
        if line.hasSuffix("\\") {
          XCTAssertTrue(
            line.trimmingCharacters(in: .whitespaces).hasPrefix("quarry "),
            "\(command) --help: \(line)")
        }
      }
    }
  }

  func runWithColumns(_ columns: Int, _ args: [String]) throws -> RunResult {
    setenv("COLUMNS", "\(columns)", 1)
    defer { unsetenv("COLUMNS") }
    return try quarry(args)
  }

  func testVectorWordWithATabNamesItsLine() throws {
    let train = try trainCopy()
    var lines = try String(contentsOfFile: CLI.tiny("vectors.vec"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    lines[3] = lines[3].replacingFirst(" ", with: "\t")  // "word\tv1 v2 …": the word holds a tab
    let vec = try write("tabbed.vec", lines.joined(separator: "\n") + "\n")
    try assertRefused(
      quick(train, output: path("m.qmodel"), ["--pretrained", vec]),
      mentions: ["tabbed.vec:4:", "tab"], unchanged: [vec])
  }

  // MARK: mine-report --output

  func testMineReportOutputReplacesOnlyAReport() throws {
    let model = try trainModel()
    let data = try trainCopy("data.tsv")
    for format in ["text", "json", "html"] {
      let out = path("report.\(format)")
      let a = try quarry([
        "mine-report", "--model", model, "--data", data, "--format", format, "--output", out,
      ])
      XCTAssertTrue(a.succeeded, a.summary)
      let b = try quarry([
        "mine-report", "--model", model, "--data", data, "--format", format, "--output", out,
      ])
      XCTAssertTrue(b.succeeded, "a report is replaced by a report (\(format)): \(b.summary)")
    }
    let essay = try write("essay.html", "<!DOCTYPE html><p>mine</p>\n")
    try assertRefused(
      ["mine-report", "--model", model, "--data", data, "--format", "html", "--output", essay],
      mentions: ["essay.html", "not a Quarry mine-report", "--force"], unchanged: [essay, data])
    try assertRefused(
      ["mine-report", "--model", model, "--data", data, "--output", "./data.tsv"],
      mentions: ["--output", "--data", "same file"], unchanged: [data, model])
    let forced = try quarry(
      ["mine-report", "--model", model, "--data", data, "--output", essay, "--force"])
    XCTAssertTrue(forced.succeeded, forced.summary)
  }

  func testLabelIssuesSayWhichModelSuggests() throws {
    // The tiny corpus with its first six labels moved to the next class: label issues.
    var lines = try corpusLines("train.tsv")
    let labels = Array(Set(lines.map { String($0.split(separator: "\t")[0]) })).sorted()
    for i in 0..<6 {
      let parts = lines[i].split(separator: "\t", maxSplits: 1).map(String.init)
      let next = labels[((labels.firstIndex(of: parts[0]) ?? 0) + 1) % labels.count]
      lines[i] = next + "\t" + parts[1]
    }
    let noisy = try write("noisy.tsv", lines.joined(separator: "\n") + "\n")
    let model = path("noisy.qmodel")
    XCTAssertTrue(try quarry(finetuneArgs(output: model, train: noisy)).succeeded)
    let r = try quarry(["mine-report", "--model", model, "--data", noisy, "--json"])
    XCTAssertTrue(r.succeeded, r.summary)
    let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
    let issues = try XCTUnwrap(obj["label_issues"] as? [[String: Any]])
    XCTAssertFalse(issues.isEmpty, "six flipped labels, no label issue: \(r.stdout.prefix(500))")
    let text = try quarry(["mine-report", "--model", model, "--data", noisy])
    XCTAssertTrue(text.stdout.contains("suggested (by the out-of-fold models)"), text.summary)
    for issue in issues { XCTAssertEqual(issue["suggested_by"] as? String, "out-of-fold") }
    let other = try quarry([
      "mine-report", "--model", model, "--data", CLI.tiny("test.tsv"), "--json",
    ])
    let o = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: other.stdoutData) as? [String: Any])
    for issue in (o["label_issues"] as? [[String: Any]]) ?? [] {
      XCTAssertEqual(issue["suggested_by"] as? String, "model")
    }
  }
}

extension String {
  /// The string with its first `target` replaced.
  func replacingFirst(_ target: String, with replacement: String) -> String {
    guard let r = range(of: target) else { return self }
    return replacingCharacters(in: r, with: replacement)
  }
}
