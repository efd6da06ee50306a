import Foundation
import XCTest

@testable import Quarry

/// The rule for every file Quarry writes: never an input, never a file of another kind
/// (unless forced), removed only while it is still of its kind.
final class OutputTargetTests: XCTestCase {
  /// Each binary kind has its own 8-byte magic, so that no kind is taken for another.
  func testEachBinaryKindHasItsOwnMagic() {
    let magics = FileKind.allCases.compactMap(\.magic)
    XCTAssertEqual(magics.count, 5)
    XCTAssertTrue(magics.allSatisfy { $0.count == 8 && $0.starts(with: Array("QUARRY".utf8)) })
    XCTAssertEqual(Set(magics).count, magics.count)
  }

  func testReportsAreRecognizedInEachFormatAndNothingElseIs() throws {
    try withTemporaryDirectory { dir in
      let report = MineReport(
        source: .model, model: "m", data: "d", rows: 0, labels: [], boundary: [],
        label_issues: [], confusions: [], data_map: [])
      let enc = JSONEncoder()
      enc.outputFormatting = [.sortedKeys]
      let multi = MultiLabelMineReport(
        source: .model, model: "m", data: "d", rows: 0, labels: [], thresholds: [], band: 0.5,
        boundary: [], label_issues: [], per_label: [], calibration: .init(ece: 0, log_loss: 0))
      let pages = [
        ("r.txt", report.renderText(top: 5)), ("r.html", report.renderHTML(top: 5)),
        ("r.json", String(decoding: try enc.encode(report), as: UTF8.self)),
        ("m.txt", multi.renderText(top: 5)), ("m.html", multi.renderHTML(top: 5)),
        ("m.json", String(decoding: try enc.encode(multi), as: UTF8.self)),
      ]
      for (name, text) in pages {
        try writeFile(dir + "/" + name, text)
        XCTAssertTrue(FileKind.report.recognizes(dir + "/" + name), name)
        XCTAssertFalse(FileKind.model.recognizes(dir + "/" + name), name)
      }
      for other in ["<!DOCTYPE html><p>mine</p>", "{\"a\":1}", "notes", ""] {
        try writeFile(dir + "/o", other)
        XCTAssertFalse(FileKind.report.recognizes(dir + "/o"), other)
      }
      XCTAssertFalse(FileKind.report.recognizes(dir + "/absent"))
    }
  }

  func testTheSameFileIsFoundThroughAnyPathOrLink() throws {
    try withTemporaryDirectory { dir in
      let input = dir + "/in.tsv"
      try writeFile(input, "a\tb\n")
      XCTAssertEqual(symlink(input, dir + "/sym"), 0)
      XCTAssertEqual(link(input, dir + "/hard"), 0)
      try FileManager.default.createDirectory(
        atPath: dir + "/sub", withIntermediateDirectories: true)
      let name = (dir as NSString).lastPathComponent
      for p in [
        input, dir + "/./in.tsv", dir + "/sub/../in.tsv", dir + "/../\(name)/in.tsv", dir + "/sym",
        dir + "/hard",
      ] {
        let t = OutputTarget(flag: "--output", path: p, kind: .model)
        let e = expectInputError(p) { try t.check(inputs: [("--train", input)], force: true) }
        XCTAssertTrue(
          e?.message.contains("same file as --train") ?? false, "\(p): \(String(describing: e))")
      }
      // A new file beside the input is fine.
      let fresh = OutputTarget(flag: "--output", path: dir + "/new.qmodel", kind: .model)
      XCTAssertNoThrow(try fresh.check(inputs: [("--train", input)], force: false))
      // Two targets that will be one new file.
      let other = OutputTarget(
        flag: "--checkpoint", path: dir + "/sub/../new.qmodel", kind: .checkpoint)
      let e = expectInputError("two targets") {
        try fresh.check(inputs: [], others: [fresh, other], force: false)
      }
      XCTAssertTrue(e?.message.contains("--output and --checkpoint") ?? false)
    }
  }

  func testAFileOfAnotherKindIsReplacedOnlyWhenForcedAndNeverRemoved() throws {
    try withTemporaryDirectory { dir in
      let p = dir + "/x"
      try writeFile(p, "precious\n")
      let t = OutputTarget(flag: "--output", path: p, kind: .model)
      expectInputError("not a model") { try t.check(inputs: [], force: false) }
      expectInputError("no --force here") { try t.check(inputs: [], force: nil) }
      XCTAssertNoThrow(try t.check(inputs: [], force: true))
      expectInputError("write") { try AtomicFile.write([1, 2, 3], to: p, kind: .model) }
      XCTAssertFalse(OutputTarget(flag: "--checkpoint", path: p, kind: .checkpoint).removeIfOwned())
      XCTAssertEqual(try String(contentsOfFile: p, encoding: .utf8), "precious\n")
      // A checkpoint is removed while it is one.
      try writeFile(p, Array("QUARRYCK".utf8) + [0])
      XCTAssertTrue(OutputTarget(flag: "--checkpoint", path: p, kind: .checkpoint).removeIfOwned())
      XCTAssertFalse(FileManager.default.fileExists(atPath: p))
    }
  }

  /// A report's target holding a model says that it is a model.
  func testAnotherQuarryKindIsNamedInTheRefusal() throws {
    try withTemporaryDirectory { dir in
      let p = dir + "/m.qmodel"
      try writeFile(p, Array("QUARRYMF".utf8) + [1, 0, 0, 0])
      let e = expectInputError("a model at a report's target") {
        try OutputTarget(flag: "--output", path: p, kind: .report).check(inputs: [], force: false)
      }
      let message = e.map { String(describing: $0) } ?? ""
      XCTAssertTrue(message.contains("a Quarry model file, not a Quarry mine-report"), message)
    }
  }

  func testATemporaryNameThatIsTakenIsNotTouched() throws {
    try withTemporaryDirectory { dir in
      let p = dir + "/m.qmodel"
      let taken = "\(p).tmp-\(getpid())"
      try writeFile(taken, "someone else's\n")
      try AtomicFile.write(Array("QUARRYMF".utf8), to: p, kind: .model)
      XCTAssertEqual(try String(contentsOfFile: taken, encoding: .utf8), "someone else's\n")
      XCTAssertEqual(FileKind.model.recognizes(p), true)
    }
  }

  func testTrainingThatCannotFitIsRefusedWithItsFigure() throws {
    let (vocab, _) = Vocabulary.build(
      texts: (0..<50).map { "w\($0) v\($0) u\($0)" }, config: FeatureConfig())
    var config = TrainingConfig()
    config.maxModelBytes = 1 << 30
    // 1,000,000 classes × the features: far past the limit.
    let over = expectInputError("limit") {
      try Finetune.checkSize(
        vocab, classes: 1_000_000, rows: 10, dim: 50, encoderDim: 0, config: config, path: "c.tsv")
    }
    XCTAssertTrue(
      over?.message.contains("--max-model-mb 1024") ?? false, "\(String(describing: over))")
    // Within the limit, but not within a small machine's memory.
    let memory = expectInputError("memory") {
      try Finetune.checkSize(
        vocab, classes: 1000, rows: 10, dim: 50, encoderDim: 0, config: config, path: "c.tsv",
        memory: 1 << 20)
    }
    XCTAssertTrue(
      memory?.message.contains("of this machine's 1 MB") ?? false, "\(String(describing: memory))")
    XCTAssertNoThrow(
      try Finetune.checkSize(
        vocab, classes: 10, rows: 10, dim: 50, encoderDim: 0, config: config, path: "c.tsv"))
  }

  func testLabelsThatAreOneRowEachAreRefused() {
    let rows = Dictionary(uniqueKeysWithValues: (0..<10).map { ("t\($0)", 1) })
    expectInputError("one row each") { try Finetune.checkLabelCounts(rows, path: "c.tsv") }
    XCTAssertNoThrow(try Finetune.checkLabelCounts(["a": 1, "b": 1], path: "c.tsv"))
    XCTAssertNoThrow(
      try Finetune.checkLabelCounts(["a": 5, "b": 5, "c": 1, "d": 1], path: "c.tsv"))
  }
}
