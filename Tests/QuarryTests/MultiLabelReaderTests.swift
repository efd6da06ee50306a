import Foundation
import XCTest

@testable import Quarry

/// `CorpusReader.parse` on rows of several labels, in each of the four formats, and the
/// bad label lists that must be errors naming their line.
final class MultiLabelReaderTests: XCTestCase {
  func parse(
    _ text: String, path: String = "m.txt", separator: String = CorpusReader.defaultLabelSeparator,
    skip: Bool = false
  ) throws -> Corpus {
    try CorpusReader.parse(
      bytes: Array(text.utf8), path: path, skipBadRows: skip, labelSeparator: separator)
  }

  /// Each row as its line, its labels and its text.
  func rows(_ c: Corpus) -> [(Int, [String], String)] {
    c.examples.map { ($0.line, $0.labels, $0.text) }
  }

  func assertRows(
    _ c: Corpus, _ expected: [(Int, [String], String)], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    let got = rows(c)
    XCTAssertEqual(got.count, expected.count, "\(got)", file: file, line: line)
    for (g, e) in zip(got, expected) {
      XCTAssertEqual(g.0, e.0, "line of \(g)", file: file, line: line)
      XCTAssertEqual(g.1, e.1, "labels of line \(g.0)", file: file, line: line)
      XCTAssertEqual(g.2, e.2, "text of line \(g.0)", file: file, line: line)
    }
  }

  /// Expects an `InputError` at `line` of `path`, whose description names `path:line`.
  func expectError(
    _ text: String, path: String, line: Int, separator: String = ",", containing: String? = nil,
    file: StaticString = #filePath, at: UInt = #line
  ) {
    let e = expectInputError("\(path): \(text.debugDescription)", file: file, line: at) {
      _ = try self.parse(text, path: path, separator: separator)
    }
    guard let e else { return }
    XCTAssertEqual(e.path, path, file: file, line: at)
    XCTAssertEqual(e.line, line, "\(e)", file: file, line: at)
    XCTAssertTrue(e.description.contains("\(path):\(line):"), e.description, file: file, line: at)
    if let containing {
      XCTAssertTrue(e.description.contains(containing), e.description, file: file, line: at)
    }
  }

  // MARK: Formats

  /// fastText: every leading `__label__` is a label, in the order written, a repeat
  /// dropped; one after the text starts is text.
  func testFastTextRepeatedPrefixesKeepOrderAndDropRepeats() throws {
    let c = try parse(
      "__label__b __label__a\t__label__b  some text\n__label__c other text __label__d\n")
    XCTAssertEqual(c.format, .fasttext)
    assertRows(c, [(1, ["b", "a"], "some text"), (2, ["c"], "other text __label__d")])
    XCTAssertEqual(c.labelsInOrder, ["b", "a", "c"])
    XCTAssertEqual(c.firstMultiLabelRow?.line, 1)
    // The first label is the row's `label`; setting `label` replaces them all.
    var e = c.examples[0]
    XCTAssertEqual(e.label, "b")
    e.label = "z"
    XCTAssertEqual(e.labels, ["z"])
  }

  /// TSV: the label column split at ",", each piece trimmed of spaces.
  func testTSVSplitsTheLabelColumnOnTheDefaultSeparator() throws {
    let c = try parse("a,b\ttext one\nc\ttext, two\n b , a ,c \ttext three\n", path: "m.tsv")
    XCTAssertEqual(c.format, .tsv)
    assertRows(
      c,
      [(1, ["a", "b"], "text one"), (2, ["c"], "text, two"), (3, ["b", "a", "c"], "text three")])
  }

  /// Another separator splits at it alone: "," is then part of a label.
  func testTSVWithACustomSeparator() throws {
    let c = try parse("a|b\tx y\nc,d\tz\n a | c,d \tw\n", path: "m.tsv", separator: "|")
    assertRows(c, [(1, ["a", "b"], "x y"), (2, ["c,d"], "z"), (3, ["a", "c,d"], "w")])
    XCTAssertEqual(c.labelsInOrder, ["a", "b", "c,d"])
  }

  /// An empty separator reads the label column whole: the corpus is single-label.
  func testTSVWithAnEmptySeparatorReadsTheFieldWhole() throws {
    let c = try parse("a,b\tx y\nc\tz\na,,b\tw\n", path: "m.tsv", separator: "")
    assertRows(c, [(1, ["a,b"], "x y"), (2, ["c"], "z"), (3, ["a,,b"], "w")])
    XCTAssertNil(c.firstMultiLabelRow)
    // The default separator reads the same first two rows as multi-label.
    let split = try parse("a,b\tx y\nc\tz\n", path: "m.tsv")
    XCTAssertEqual(split.firstMultiLabelRow?.labels, ["a", "b"])
  }

  /// CSV: a `labels` column is split (its quoted field may hold the commas); a `label`
  /// column is read whole.
  func testCSVLabelsColumnIsSplitAndLabelColumnIsNot() throws {
    let c = try parse(
      "id,Labels,text\n1,\"a,b\",\"hello, world\"\n2,c,plain\n3,\" c , a \",more\n", path: "m.csv")
    XCTAssertEqual(c.format, .csv)
    assertRows(
      c, [(2, ["a", "b"], "hello, world"), (3, ["c"], "plain"), (4, ["c", "a"], "more")])
    let pipe = try parse("text,labels\nx,a|b\ny,\"c,d\"\n", path: "p.csv", separator: "|")
    assertRows(pipe, [(2, ["a", "b"], "x"), (3, ["c,d"], "y")])
    let whole = try parse("text,label\nx,\"a,b\"\ny,c\n", path: "w.csv")
    assertRows(whole, [(2, ["a,b"], "x"), (3, ["c"], "y")])
    XCTAssertNil(whole.firstMultiLabelRow)
  }

  /// JSON Lines: a `"labels"` array of strings or numbers (as written), repeats dropped;
  /// a row may still give one `"label"`.
  func testJSONLinesLabelsArrayOfStringsAndNumbers() throws {
    let c = try parse(
      """
      {"text": "x y", "labels": ["b", "a", "b"]}
      {"labels": [1, 2.5], "text": "z"}
      {"text": "w", "label": "c"}
      {"text": "v", "labels": ["solo"]}

      """, path: "m.jsonl")
    XCTAssertEqual(c.format, .jsonl)
    assertRows(
      c, [(1, ["b", "a"], "x y"), (2, ["1", "2.5"], "z"), (3, ["c"], "w"), (4, ["solo"], "v")])
    XCTAssertEqual(c.labelsInOrder, ["b", "a", "1", "2.5", "c", "solo"])
  }

  // MARK: Corpus

  /// `labelsInOrder` takes every label of every row at its first appearance, and
  /// `firstMultiLabelRow` is the first row left with more than one label once repeats go.
  func testLabelsInOrderAndFirstMultiLabelRow() throws {
    let c = try parse(
      "__label__d one\n__label__a __label__a two\n__label__b __label__d three\n__label__c __label__e four\n"
    )
    XCTAssertEqual(c.labelsInOrder, ["d", "a", "b", "c", "e"])
    XCTAssertEqual(c.firstMultiLabelRow?.line, 3)
    XCTAssertEqual(c.firstMultiLabelRow?.labels, ["b", "d"])
    let single = try parse("__label__x one\n__label__y __label__y two\n")
    XCTAssertNil(single.firstMultiLabelRow, "a repeated label is one label")
    XCTAssertEqual(single.labelsInOrder, ["x", "y"])
  }

  // MARK: Errors

  func testEmptyLabelListIsAnError() {
    expectError(
      "{\"text\":\"a\",\"labels\":[\"x\"]}\n{\"text\":\"b\",\"labels\":[]}\n", path: "e.jsonl",
      line: 2, containing: "empty")
    expectError(
      "{\"text\":\"a\",\"labels\":[\"x\"]}\n\n{\"text\":\"b\",\"labels\":[\"x\",\"\"]}\n",
      path: "e.jsonl", line: 3, containing: "an empty label among 2 ('x', '')")
  }

  func testEmptyPieceBetweenSeparatorsIsAnError() {
    expectError("a\tok\na,,b\ttext\n", path: "e.tsv", line: 2, containing: "empty label")
    expectError("a\tok\nb\tfine\na,\ttext\n", path: "e.tsv", line: 3, containing: "empty label")
    expectError("a\tok\n ,b\ttext\n", path: "e.tsv", line: 2, containing: "empty label")
    expectError("a\tok\na||b\ttext\n", path: "e.tsv", line: 2, separator: "|", containing: "'|'")
    expectError(
      "text,labels\nok,a\nbad,\"a,,b\"\n", path: "e.csv", line: 3, containing: "empty label")
  }

  func testBothLabelAndLabelsIsAnError() {
    expectError(
      "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"x\",\"labels\":[\"y\"]}\n",
      path: "e.jsonl", line: 2, containing: "both")
  }

  func testLabelsNotAnArrayOfTextOrNumbersIsAnError() {
    for bad in ["\"x\"", "{\"a\":1}", "null", "3", "[true]", "[null]", "[[\"x\"]]", "[{}]"] {
      expectError(
        "{\"text\":\"a\",\"labels\":[\"x\"]}\n{\"text\":\"b\",\"labels\":\(bad)}\n",
        path: "e.jsonl",
        line: 2, containing: "labels")
    }
  }

  func testControlCharacterInOneLabelIsAnError() {
    expectError(
      "{\"text\":\"a\",\"labels\":[\"x\"]}\n{\"text\":\"b\",\"labels\":[\"x\",\"y\\u0007\"]}\n",
      path: "e.jsonl", line: 2, containing: "U+0007")
    expectError(
      "__label__a ok\n__label__a __label__b\u{1} text\n", path: "e.txt", line: 2,
      containing: "U+0001")
    expectError("a\tok\na,b\u{1B}\ttext\n", path: "e.tsv", line: 2, containing: "U+001B")
    expectError(
      "text,labels\nok,a\nbad,\"a,b\u{85}\"\n", path: "e.csv", line: 3, containing: "U+0085")
  }

  /// With `skipBadRows`, a bad label list drops its row alone and is counted.
  func testSkipBadRowsDropsBadLabelListsOnly() throws {
    let c = try parse("a,b\tone\na,,b\ttwo\nc\tthree\n,\tfour\n", path: "s.tsv", skip: true)
    assertRows(c, [(1, ["a", "b"], "one"), (3, ["c"], "three")])
    XCTAssertEqual(c.skipped.map(\.line), [2, 4])
  }
}
