import Foundation
import XCTest

/// Bad input, bad models and bad flags: a clear message on stderr that names the file
/// (and line), exit status 1 (64 for usage errors), never a crash, and nothing left at
/// `--output`.
final class ErrorCLITests: CLITestCase {
  /// The tiny training corpus with `bad` bytes inserted as line `line` (1-based).
  func trainWithBadLine(_ name: String, at line: Int, _ bad: [UInt8]) throws -> String {
    let lines = try corpusLines("train.tsv")
    var bytes: [UInt8] = []
    for (i, l) in lines.enumerated() {
      if i == line - 1 { bytes += bad + [0x0A] }
      bytes += Array(l.utf8) + [0x0A]
    }
    return try write(name, bytes: bytes)
  }

  /// Runs finetune on `train` and checks the failure and that no model was left.
  func assertFinetuneFails(
    train: String, mentions: [String], extra: [String] = [], file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let out = path("out.qmodel")
    let r = try quarry(finetuneArgs(output: out, train: train, extra: extra))
    assertFailure(r, mentions: ["Error:"] + mentions, file: file, line: line)
    assertNoModelLeft(at: out, file: file, line: line)
  }

  // MARK: Training corpus

  func testMissingTrainFile() throws {
    try assertFinetuneFails(
      train: "no-such-train.tsv", mentions: ["no-such-train.tsv", "no such file"])
  }

  func testEmptyTrainFile() throws {
    let p = try write("empty.tsv", "")
    try assertFinetuneFails(train: p, mentions: ["empty.tsv", "empty"])
  }

  func testBlankOnlyTrainFile() throws {
    let p = try write("blank.tsv", "\n  \n\n")
    try assertFinetuneFails(train: p, mentions: ["blank.tsv", "no labelled rows"])
  }

  func testOneClassCorpus() throws {
    let p = try write("one-class.tsv", "weather\train today\nweather\tsnow tonight\nweather\tfog\n")
    try assertFinetuneFails(train: p, mentions: ["one-class.tsv", "only one class", "weather"])
  }

  func testRowWithoutTabNamesItsLine() throws {
    let p = try trainWithBadLine("notab.tsv", at: 17, Array("weather rain all day".utf8))
    try assertFinetuneFails(train: p, mentions: ["notab.tsv:17:", "tab"])
  }

  func testSkipBadRowsSucceedsAndWarns() throws {
    let p = try trainWithBadLine("notab.tsv", at: 17, Array("weather rain all day".utf8))
    let out = path("skip.qmodel")
    let r = try quarry(finetuneArgs(output: out, train: p, extra: ["--skip-bad-rows"]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    XCTAssertTrue(r.stderr.contains("warning"), r.summary)
    XCTAssertTrue(r.stderr.contains("notab.tsv:17:"), r.summary)
    XCTAssertTrue(
      r.stderr.contains("1 bad row"), "the summary counts the skipped row: \(r.summary)")
    XCTAssertTrue(r.stderr.contains("150 rows"), "the good rows are all kept: \(r.summary)")
  }

  func testSkipBadRowsInEvaluate() throws {
    let model = try trainModel()
    var lines = try corpusLines("test.tsv")
    lines.insert("this row has no tab", at: 4)
    let p = try write("bad-test.tsv", lines.joined(separator: "\n") + "\n")
    let strict = try quarry(["evaluate", "--model", model, "--data", p])
    assertFailure(strict, mentions: ["bad-test.tsv:5:"])
    let r = try quarry(["evaluate", "--model", model, "--data", p, "--json", "--skip-bad-rows"])
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("warning"), r.summary)
    XCTAssertTrue(r.stderr.contains("bad-test.tsv:5:"), r.summary)
    let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
    XCTAssertEqual(obj["rows"] as? Int, 60)
  }

  func testInvalidUTF8NamesItsLine() throws {
    let p = try trainWithBadLine(
      "utf8.tsv", at: 9, Array("sports\tthe team ".utf8) + [0xFF, 0xFE, 0x41])
    try assertFinetuneFails(train: p, mentions: ["utf8.tsv:9:", "UTF-8"])
  }

  func testNULByteNamesItsLine() throws {
    let p = try trainWithBadLine(
      "nul.tsv", at: 4, Array("sports\tthe ".utf8) + [0x00] + Array(" match".utf8))
    try assertFinetuneFails(train: p, mentions: ["nul.tsv:4:", "NUL"])
  }

  func testInvalidUTF8OnStdinOfPredictNamesItsLine() throws {
    let model = try trainModel()
    let r = try quarry(
      ["predict", "--model", model], stdin: Data([0x6F, 0x6B, 0x0A, 0x62, 0xC3, 0x28, 0x0A]))
    assertFailure(r, mentions: ["<stdin>:2:", "UTF-8"])
    XCTAssertEqual(r.stdout, "", "no partial output")
  }

  func testValidCorpusWithUnknownLabelNamesItsLine() throws {
    var lines = try corpusLines("test.tsv")
    lines.insert("politics\tthe vote was close", at: 11)
    let valid = try write("valid.tsv", lines.joined(separator: "\n") + "\n")
    try assertFinetuneFails(
      train: CLI.tiny("train.tsv"), mentions: ["valid.tsv:12:", "politics"],
      extra: ["--valid", valid])
  }

  // MARK: Output

  func testOutputInMissingDirectory() throws {
    let out = path("missing/dir/model.qmodel")
    let r = try quarry(finetuneArgs(output: out))
    assertFailure(r, mentions: ["Error:", "missing/dir", "does not exist"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: path("missing")))
    let names = try FileManager.default.contentsOfDirectory(atPath: work.path)
    XCTAssertEqual(names.filter { $0.contains(".tmp") }, [])
  }

  func testOutputThatIsADirectory() throws {
    try FileManager.default.createDirectory(
      atPath: path("adir"), withIntermediateDirectories: false)
    let r = try quarry(finetuneArgs(output: path("adir")))
    assertFailure(r, mentions: ["adir", "directory"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("adir")), [])
  }

  // MARK: Pretrained vectors

  func testMissingPretrainedFile() throws {
    try assertFinetuneFails(
      train: CLI.tiny("train.tsv"), mentions: ["nope.vec", "no such file"],
      extra: ["--pretrained", "nope.vec"])
  }

  func testShortVectorLineNamesItsLine() throws {
    var lines = try String(contentsOfFile: CLI.tiny("vectors.vec"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    lines[3] = "snow 0.1 0.2 0.3"
    let p = try write("short.vec", lines.joined(separator: "\n") + "\n")
    try assertFinetuneFails(
      train: CLI.tiny("train.tsv"), mentions: ["short.vec:4:", "expected 8"],
      extra: ["--pretrained", p])
  }

  /// Fails today (SIGILL): Safetensors.swift multiplies the header's shape
  /// (`shape.reduce(1) { $0 * max($1, 0) }`) without an overflow check, so a header
  /// claiming a 2^40 × 2^40 table traps before the offsets are compared with the file.
  func testHugeSafetensorsShapeIsRejectedWithoutCrash() throws {
    let header = Array(
      #"{"emb":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}}"#.utf8)
    let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
    let p = try write("huge.safetensors", bytes: bytes)
    try write("vocab.txt", "rain\n")
    try assertFinetuneFails(
      train: CLI.tiny("train.tsv"), mentions: ["huge.safetensors"], extra: ["--pretrained", p])
  }

  // MARK: Model files

  func testTruncatedModelIsRejected() throws {
    let model = try ModelFileBytes(path: try trainModel()).bytes
    for (name, n) in [("half", model.count / 2), ("short", 20), ("nearly", model.count - 1)] {
      let p = try write("\(name).qmodel", bytes: Array(model.prefix(n)))
      try assertModelRejected(p, mentions: ["not a valid model file"])
    }
  }

  func testBitFlippedModelIsRejected() throws {
    let model = try ModelFileBytes(path: try trainModel()).bytes
    // In the header, the metadata, the middle of the weights, the last weight byte and
    // the checksum itself.
    for at in [12, 40, model.count / 2, model.count - 9, model.count - 1] {
      var b = model
      b[at] ^= 0x10
      let p = try write("flip-\(at).qmodel", bytes: b)
      try assertModelRejected(p, mentions: ["not a valid model file", "checksum"])
    }
  }

  func testNotAModelFileIsRejected() throws {
    try assertModelRejected(
      CLI.tiny("train.tsv"), mentions: ["train.tsv", "not a valid model file"])
    try assertModelRejected(path("no-such.qmodel"), mentions: ["no-such.qmodel", "no such file"])
  }

  /// A model whose metadata is wrong but whose checksum is right (a bug in a writer, not
  /// corruption) is rejected with a message, not a crash.
  func testInconsistentMetadataWithValidChecksumIsRejected() throws {
    let file = ModelFileBytes(try ModelFileBytes(path: try trainModel()).bytes)
    let meta = try file.metadataObject()

    var wrongDim = meta
    wrongDim["dim"] = (meta["dim"] as? Int ?? 0) + 1
    try assertModelRejected(
      try write("dim.qmodel", bytes: try file.replacingMetadata(wrongDim)),
      mentions: ["not a valid model file", "embedding"])

    var farOffset = meta
    farOffset["tensors"] = (meta["tensors"] as? [[String: Any]] ?? []).map { t in
      var t = t
      if t["name"] as? String == "wide" { t["offset"] = 1 << 40 }
      return t
    }
    try assertModelRejected(
      try write("offset.qmodel", bytes: try file.replacingMetadata(farOffset)),
      mentions: ["not a valid model file", "wide"])
  }

  /// Fails today (SIGILL): ModelFile.swift `tensor(_:_:_:)` computes `count * width` for
  /// the index tensors' count taken from the metadata, which overflows for a huge count.
  func testHugeTensorCountIsRejectedWithoutCrash() throws {
    let file = ModelFileBytes(try ModelFileBytes(path: try trainModel()).bytes)
    var meta = try file.metadataObject()
    meta["tensors"] = (meta["tensors"] as? [[String: Any]] ?? []).map { t in
      var t = t
      if t["name"] as? String == "index.keys" { t["count"] = 1 << 62 }
      return t
    }
    try assertModelRejected(
      try write("count.qmodel", bytes: try file.replacingMetadata(meta)),
      mentions: ["not a valid model file"])
  }

  /// Fails today: ModelFile.decode accepts repeated labels; `evaluate` then dies with SIGILL
  /// (EvaluateCommand.swift builds `Dictionary(uniqueKeysWithValues:)` from them) and
  /// `predict` prints labels that cannot be told apart.
  func testRepeatedLabelsInModelAreRejectedWithoutCrash() throws {
    let file = ModelFileBytes(try ModelFileBytes(path: try trainModel()).bytes)
    var meta = try file.metadataObject()
    meta["labels"] = ["sports", "sports", "weather"]
    try assertModelRejected(
      try write("labels.qmodel", bytes: try file.replacingMetadata(meta)),
      mentions: ["not a valid model file"])
  }

  func testEvaluateLabelTheModelNeverSawNamesItsLine() throws {
    let model = try trainModel()
    var lines = try corpusLines("test.tsv")
    lines.insert("politics\tthe vote was close", at: 9)
    let p = try write("unknown.tsv", lines.joined(separator: "\n") + "\n")
    let r = try quarry(["evaluate", "--model", model, "--data", p, "--json"])
    assertFailure(r, mentions: ["unknown.tsv:10:", "politics"])
    XCTAssertEqual(r.stdout, "")
  }

  /// With --skip-bad-rows, evaluate and mine-report skip a row whose label the model never
  /// saw, name it in a warning and score the rest; a file of only such rows is an error.
  func testSkipBadRowsSkipsLabelsTheModelNeverSaw() throws {
    let model = try trainModel()
    var lines = try corpusLines("test.tsv")
    lines.insert("politics\tthe vote was close", at: 9)
    let p = try write("unknown.tsv", lines.joined(separator: "\n") + "\n")
    let r = try quarry(["evaluate", "--model", model, "--data", p, "--json", "--skip-bad-rows"])
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("unknown.tsv:10:"), r.summary)
    let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
    XCTAssertEqual(obj["rows"] as? Int, lines.count - 1)
    let m = try quarry(["mine-report", "--model", model, "--data", p, "--json", "--skip-bad-rows"])
    XCTAssertTrue(m.succeeded, m.summary)
    XCTAssertTrue(m.stderr.contains("unknown.tsv:10:"), m.summary)
    let only = try write("only-unknown.tsv", "politics\tthe vote\nsport\tthe match\n")
    let none = try quarry(["evaluate", "--model", model, "--data", only, "--skip-bad-rows"])
    assertFailure(none, mentions: ["only-unknown.tsv", "no row the model can score"])
    XCTAssertEqual(none.stdout, "")
    // A single-label model skips a row of several labels, known ones included.
    lines.insert("cooking,sports\tboth at once", at: 3)
    let several = try write("several.tsv", lines.joined(separator: "\n") + "\n")
    let strict = try quarry(["evaluate", "--model", model, "--data", several])
    assertFailure(strict, mentions: ["several.tsv:4:", "single-label"])
    let skipped = try quarry([
      "evaluate", "--model", model, "--data", several, "--json", "--skip-bad-rows",
    ])
    XCTAssertTrue(skipped.succeeded, skipped.summary)
    XCTAssertTrue(skipped.stderr.contains("several.tsv:4:"), skipped.summary)
  }

  // MARK: Flags

  func testBadFlagValuesAreUsageErrors() throws {
    let model = try trainModel()
    let train = CLI.tiny("train.tsv")
    let out = path("flags.qmodel")
    let cases: [([String], String)] = [
      (["finetune", "--train", train, "--output", out, "--epochs", "0"], "--epochs"),
      (["finetune", "--train", train, "--output", out, "--epochs", "many"], "--epochs"),
      (["finetune", "--train", train, "--output", out, "--lr", "-1"], "--lr"),
      (["finetune", "--train", train, "--output", out, "--wide-l2", "-0.001"], "--wide-l2"),
      (
        ["finetune", "--train", train, "--output", out, "--lr", "4", "--wide-l2", "0.1"],
        "--wide-l2"
      ),
      (["finetune", "--train", train, "--output", out, "--threads", "0"], "--threads"),
      (
        ["finetune", "--train", train, "--output", out, "--valid-fraction", "0.9"],
        "--valid-fraction"
      ),
      (["finetune", "--train", train, "--output", out, "--char-ngrams", "5-3"], "--char-ngrams"),
      (
        ["finetune", "--train", train, "--output", out, "--class-weights", "heavy"],
        "--class-weights"
      ),
      (["finetune", "--train", train], "--output"),
      (["finetune", "--train", train, "--output", out, "--tune-layers", "2"], "--tune-layers"),
      (
        ["finetune", "--train", train, "--output", out, "--tune-layers", "-1"], "--tune-layers"
      ),
      (
        ["evaluate", "--model", model, "--data", CLI.tiny("test.tsv"), "--format", "xml"],
        "--format"
      ),
      (["predict", "--model", model, "--k", "0"], "--k"),
      (["predict", "--model", model, "--format", "csv"], "--format"),
      (["predict", "--model", model, "--bogus"], "--bogus"),
    ]
    for (args, flag) in cases {
      let r = try quarry(args, stdin: Data("rain\n".utf8))
      XCTAssertTrue(r.exited, "\(args): \(r.summary)")
      XCTAssertEqual(r.status, 64, "\(args) should be a usage error: \(r.summary)")
      XCTAssertTrue(r.stderr.contains(flag), "\(args): stderr lacks \(flag): \(r.summary)")
      XCTAssertTrue(r.stderr.contains("Usage"), "\(args): \(r.summary)")
    }
    assertNoModelLeft(at: out)
  }

  // MARK: Helpers

  /// Both `evaluate` and `predict` refuse `model` with exit status 1 and a message.
  func assertModelRejected(
    _ model: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let name = (model as NSString).lastPathComponent
    let e = try quarry(["evaluate", "--model", model, "--data", CLI.tiny("test.tsv")])
    assertFailure(e, mentions: ["Error:", name] + mentions, file: file, line: line)
    XCTAssertEqual(e.stdout, "", file: file, line: line)
    let p = try quarry(["predict", "--model", model], stdin: Data("rain and wind today\n".utf8))
    assertFailure(p, mentions: ["Error:", name] + mentions, file: file, line: line)
    XCTAssertEqual(p.stdout, "", file: file, line: line)
  }
}
