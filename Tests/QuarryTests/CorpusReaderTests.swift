import Foundation
import XCTest

@testable import Quarry

final class CorpusReaderTests: XCTestCase {
  func parse(
    _ text: String, path: String = "c.txt", format: CorpusFormat? = nil, skip: Bool = false
  ) throws -> Corpus {
    try CorpusReader.parse(bytes: Array(text.utf8), path: path, format: format, skipBadRows: skip)
  }

  func rows(_ c: Corpus) -> [[String]] {
    c.examples.map { [String($0.line), $0.label, $0.text] }
  }

  /// Expects a parse error at `line`, whose description names `path:line`.
  func expectError(
    _ bytes: [UInt8], path: String = "data/c.txt", format: CorpusFormat? = nil, line: Int,
    containing: String? = nil, file: StaticString = #filePath, at: UInt = #line
  ) {
    let e = expectInputError("parse", file: file, line: at) {
      _ = try CorpusReader.parse(bytes: bytes, path: path, format: format)
    }
    guard let e else { return }
    XCTAssertEqual(e.path, path, file: file, line: at)
    XCTAssertEqual(e.line, line, "\(e)", file: file, line: at)
    XCTAssertTrue(e.description.contains("\(path):\(line)"), e.description, file: file, line: at)
    if let containing {
      XCTAssertTrue(e.description.contains(containing), e.description, file: file, line: at)
    }
  }

  // MARK: Formats

  func testTSV() throws {
    let c = try parse("pos\tgood movie\n neg \tbad\tfilm\n")
    XCTAssertEqual(c.format, .tsv)
    XCTAssertEqual(rows(c), [["1", "pos", "good movie"], ["2", "neg", "bad\tfilm"]])
    XCTAssertEqual(c.labelsInOrder, ["pos", "neg"])
    XCTAssertEqual(c.contentHash, Checksum.of(Array("pos\tgood movie\n neg \tbad\tfilm\n".utf8)))
  }

  func testFastText() throws {
    let c = try parse("__label__pos good movie\n__label__neg  __label__other bad film\n")
    XCTAssertEqual(c.format, .fasttext)
    XCTAssertEqual(rows(c), [["1", "pos", "good movie"], ["2", "neg", "bad film"]])
  }

  func testCSVAnyColumnOrderQuotingAndMultilineRecords() throws {
    let text =
      "id,Text,LABEL\n"
      + "1,\"hello, world\",pos\n"
      + "2,\"she said \"\"hi\"\"\",neg\n"
      + "3,\"line one\nline two\",pos\n"
      + "\n"
      + "4,plain,neg\n"
    let c = try parse(text, path: "x.csv")
    XCTAssertEqual(c.format, .csv)
    XCTAssertEqual(
      rows(c),
      [
        ["2", "pos", "hello, world"], ["3", "neg", "she said \"hi\""],
        ["4", "pos", "line one\nline two"], ["7", "neg", "plain"],
      ])
    let swapped = try parse("label,text\nneg,\"a,b\"\n", path: "y.csv")
    XCTAssertEqual(rows(swapped), [["2", "neg", "a,b"]])
  }

  func testCSVWithCRLF() throws {
    let c = try parse("text,label\r\n\"x\r\ny\",a\r\nz,b\r\n", path: "w.csv")
    XCTAssertEqual(rows(c), [["2", "a", "x\ny"], ["4", "b", "z"]])
  }

  func testJSONLinesWithNumericLabel() throws {
    let c = try parse(
      "{\"text\": \"good \\\"movie\\\"\", \"label\": 1}\n{\"label\": \"neg\", \"text\": \"bad\"}\n",
      path: "d.jsonl")
    XCTAssertEqual(c.format, .jsonl)
    XCTAssertEqual(rows(c), [["1", "1", "good \"movie\""], ["2", "neg", "bad"]])
  }

  func testFormatDetection() {
    XCTAssertEqual(CorpusFormat.detect(path: "A.CSV", firstLine: "{"), .csv)
    XCTAssertEqual(CorpusFormat.detect(path: "a.jsonl", firstLine: nil), .jsonl)
    XCTAssertEqual(CorpusFormat.detect(path: "a.ndjson", firstLine: nil), .jsonl)
    XCTAssertEqual(CorpusFormat.detect(path: "a.json", firstLine: nil), .jsonl)
    XCTAssertEqual(CorpusFormat.detect(path: "a.txt", firstLine: "  {\"text\":1}"), .jsonl)
    XCTAssertEqual(CorpusFormat.detect(path: "a.txt", firstLine: "__label__x y"), .fasttext)
    XCTAssertEqual(CorpusFormat.detect(path: "a.txt", firstLine: "\u{FEFF}__label__x y"), .fasttext)
    XCTAssertEqual(CorpusFormat.detect(path: "a.txt", firstLine: "x\ty"), .tsv)
    XCTAssertEqual(CorpusFormat.detect(path: "a", firstLine: nil), .tsv)
  }

  func testDetectionUsesFirstNonBlankLineAndExplicitFormatWins() throws {
    let c = try parse("\n   \n__label__a text here\n")
    XCTAssertEqual(c.format, .fasttext)
    XCTAssertEqual(rows(c), [["3", "a", "text here"]])
    // Forced TSV: the same line has no tab.
    expectError(Array("__label__a text\n".utf8), format: .tsv, line: 1)
  }

  func testBlankLinesSkippedButCounted() throws {
    let c = try parse("\npos\ta\n\n  \t \nneg\tb\n\n")
    XCTAssertEqual(rows(c), [["2", "pos", "a"], ["5", "neg", "b"]])
  }

  func testCRLFAndNoFinalNewline() throws {
    let c = try parse("pos\ta b\r\nneg\tc")
    XCTAssertEqual(rows(c), [["1", "pos", "a b"], ["2", "neg", "c"]])
  }

  // MARK: Errors

  func testMissingTab() {
    expectError(Array("pos\tok\nno tab here\n".utf8), line: 2, containing: "tab")
  }

  func testEmptyLabel() {
    expectError(Array("pos\tok\n\nneg\tfine\n\tno label\n".utf8), line: 4, containing: "label")
    expectError(Array("__label__a ok\n__label__ text\n".utf8), line: 2, containing: "label")
    expectError(Array("__label__a ok\njust text\n".utf8), line: 2, containing: "label")
    expectError(
      Array("{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\"}\n".utf8), path: "j.jsonl", line: 2)
    expectError(Array("text,label\nfine,a\nsome text,\n".utf8), path: "c.csv", line: 3)
  }

  func testEmptyText() {
    expectError(Array("pos\tok\nneg\t   \n".utf8), line: 2, containing: "text")
    expectError(Array("__label__a ok\n__label__b\n".utf8), line: 2, containing: "text")
    expectError(Array("text,label\n\"\",a\n".utf8), path: "c.csv", line: 2)
  }

  func testInvalidUTF8() {
    let bytes = Array("pos\tok\nneg\tfine\n".utf8) + [0x6E, 0x09, 0xC3, 0x28] + Array("\n".utf8)
    expectError(bytes, line: 3, containing: "UTF-8")
  }

  func testNULByte() {
    let bytes = Array("pos\tok\nneg\tfi".utf8) + [0] + Array("ne\npos\tx\n".utf8)
    expectError(bytes, line: 2, containing: "NUL")
  }

  func testJSONLinesNotAnObject() {
    expectError(Array("{\"text\":\"a\",\"label\":\"x\"}\n[1, 2]\n".utf8), path: "j.jsonl", line: 2)
    expectError(Array("{\"text\":\"a\",\"label\":\"x\"}\n{broken\n".utf8), path: "j.jsonl", line: 2)
  }

  func testCSVErrors() {
    expectError(Array("text,category\na,b\n".utf8), path: "h.csv", line: 1, containing: "label")
    expectError(Array("text,label\nonly-one-field\n".utf8), path: "f.csv", line: 2)
    expectError(
      Array("text,label\nok,a\n\"open quote,b\nstill open\n".utf8), path: "q.csv", line: 3)
  }

  func testSkipBadRowsKeepsGoodOnesAndCountsBadOnes() throws {
    var bytes = Array("pos\tone\nno tab\n\tno label\nneg\t  \n".utf8)
    bytes += [0xFF, 0x09, 0x61, 0x0A]  // line 5: invalid UTF-8
    bytes += Array("a\tb".utf8) + [0] + [0x0A]  // line 6: NUL
    bytes += Array("neg\ttwo\n".utf8)
    let c = try CorpusReader.parse(bytes: bytes, path: "s.tsv", skipBadRows: true)
    XCTAssertEqual(rows(c), [["1", "pos", "one"], ["7", "neg", "two"]])
    XCTAssertEqual(c.skipped.map(\.line), [2, 3, 4, 5, 6])
    XCTAssertTrue(c.skipped.allSatisfy { $0.path == "s.tsv" })

    let csv = try CorpusReader.parse(
      bytes: Array("text,label\ngood,a\nbad\n,b\n\"x\",\nfine,b\n".utf8), path: "s.csv",
      skipBadRows: true)
    XCTAssertEqual(rows(csv), [["2", "a", "good"], ["6", "b", "fine"]])
    XCTAssertEqual(csv.skipped.map(\.line), [3, 4, 5])
  }

  func testNoRowsIsAnError() throws {
    expectInputError("empty bytes") { _ = try CorpusReader.parse(bytes: [], path: "e.tsv") }
    expectInputError("blank lines") { _ = try self.parse("\n \n\t\n") }
    expectInputError("header only") { _ = try self.parse("text,label\n", path: "h.csv") }
    expectInputError("empty csv") { _ = try CorpusReader.parse(bytes: [], path: "e.csv") }
    // All rows bad but skipped: still no rows.
    expectInputError("all skipped") { _ = try self.parse("a\nb\n", skip: true) }
  }

  // MARK: Files

  func testReadFromFile() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/train.csv"
      try writeFile(path, "label,text\nx,\"1, 2\"\ny,three\n")
      let c = try CorpusReader.read(path: path)
      XCTAssertEqual(c.path, path)
      XCTAssertEqual(c.format, .csv)
      XCTAssertEqual(rows(c), [["2", "x", "1, 2"], ["3", "y", "three"]])

      let empty = dir + "/empty.tsv"
      try writeFile(empty, "")
      let e = expectInputError("empty file") { _ = try CorpusReader.read(path: empty) }
      XCTAssertEqual(e?.path, empty)
      let missing = expectInputError("missing") {
        _ = try CorpusReader.read(path: dir + "/nope.tsv")
      }
      XCTAssertEqual(missing?.path, dir + "/nope.tsv")
      expectInputError("directory") { _ = try CorpusReader.read(path: dir) }
    }
  }

  func testTextLinesKeepEveryLine() throws {
    XCTAssertEqual(try TextLines.split(Array("a\n\nb\r\nc".utf8), path: "p"), ["a", "", "b", "c"])
    XCTAssertEqual(try TextLines.split(Array("a\n".utf8), path: "p"), ["a"])
    XCTAssertEqual(try TextLines.split(Array("\n\n".utf8), path: "p"), ["", ""])
    let e = expectInputError("bad line") {
      _ = try TextLines.split(Array("ok\n".utf8) + [0xFE] + Array("\n".utf8), path: "in.txt")
    }
    XCTAssertEqual(e?.line, 2)
  }

  /// A UTF-8 byte-order mark before the first row (as Excel's "CSV UTF-8" and many
  /// Windows editors write): detection already looks past it (`CorpusFormat.detect` drops
  /// U+FEFF), so parsing must too, in every format.
  func testByteOrderMarkBeforeFirstRow() {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let cases: [(String, String, CorpusFormat)] = [
      ("b.txt", "__label__pos good\n__label__neg bad\n", .fasttext),
      ("b.tsv", "pos\tgood\nneg\tbad\n", .tsv),
      ("b.csv", "label,text\npos,good\nneg,bad\n", .csv),
    ]
    for (path, text, format) in cases {
      do {
        let c = try CorpusReader.parse(bytes: bom + Array(text.utf8), path: path)
        XCTAssertEqual(c.format, format, path)
        XCTAssertEqual(
          c.labelsInOrder.map { $0.unicodeScalars.map { String($0.value, radix: 16) } },
          [["70", "6f", "73"], ["6e", "65", "67"]], "\(path): labels \(c.labelsInOrder)")
      } catch {
        XCTFail("\(path): \(error)")
      }
    }
  }
}
