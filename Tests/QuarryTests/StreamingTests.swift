import Foundation
import XCTest

@testable import Quarry

final class StreamingTests: XCTestCase {
  func testChecksumStreamEqualsChecksumOfTheWhole() {
    var rng = SplitMix64(seed: 1)
    for n in [0, 1, 7, 8, 9, 63, 64, 65, 1000] {
      let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      for _ in 0..<5 {
        var s = Checksum.Stream()
        var at = 0
        while at < n {
          let k = min(n - at, Int(rng.next() % 13))
          bytes[at..<(at + k)].withUnsafeBytes { s.update($0) }
          at += k
        }
        XCTAssertEqual(s.finish(), Checksum.of(bytes), "n = \(n)")
      }
    }
  }

  /// A TSV corpus of `count` keyword rows, with a blank line and CRLF ends here and there.
  func corpusText(count: Int) -> String {
    var text = ""
    for (i, (label, t)) in KeywordCorpus.named(count: count, seed: 2).enumerated() {
      text += "\(label)\t\(t) row \(i)" + (i % 7 == 0 ? "\r\n" : "\n")
      if i % 50 == 0 { text += "\n" }
    }
    return text
  }

  func testBlocksGiveTheRowsLinesAndHashOfTheWholeFile() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/c.tsv"
      let text = corpusText(count: 600)
      try writeFile(path, text)
      let whole = try CorpusReader.read(path: path)
      var streamed: [Example] = []
      let stream = try CorpusStream.scan(path: path, blockBytes: 1000) { streamed += $0 }
      XCTAssertGreaterThan(stream.blocks.count, 10)
      XCTAssertEqual(streamed, whole.examples)
      XCTAssertEqual(stream.rows, whole.examples.count)
      XCTAssertEqual(stream.contentHash, whole.contentHash)
      var again: [Example] = []
      for b in stream.blocks { again += try stream.read(b) }
      XCTAssertEqual(again, whole.examples)
    }
  }

  /// A label column holding the default separator: one label with `''`, as the in-memory
  /// reader reads it, in the scan and when a block is read again; two labels without.
  func testLabelSeparatorReachesTheBlocks() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/c.tsv"
      var text = corpusText(count: 200)
      text += "Arts, Culture\tan exhibition opened\n"
      try writeFile(path, text)
      let whole = try CorpusReader.read(path: path, labelSeparator: "")
      var streamed: [Example] = []
      let stream = try CorpusStream.scan(path: path, labelSeparator: "", blockBytes: 1000) {
        streamed += $0
      }
      XCTAssertEqual(streamed, whole.examples)
      XCTAssertEqual(streamed.last?.labels, ["Arts, Culture"])
      var again: [Example] = []
      for b in stream.blocks { again += try stream.read(b) }
      XCTAssertEqual(again, whole.examples)
      var split: [Example] = []
      _ = try CorpusStream.scan(path: path, blockBytes: 1000) { split += $0 }
      XCTAssertEqual(split.last?.labels, ["Arts", "Culture"])
    }
  }

  func testABadRowInALaterBlockIsNamedByItsLine() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/c.tsv"
      // Split on the byte: a Swift Character holds "\r\n" whole.
      var lines = corpusText(count: 300).utf8.split(
        separator: 0x0A, omittingEmptySubsequences: false
      )
      .map { String(decoding: $0, as: UTF8.self) }
      lines[250] = "no tab on this line"
      try writeFile(path, lines.joined(separator: "\n"))
      let e = expectInputError("bad row") {
        _ = try CorpusStream.scan(path: path, blockBytes: 500) { _ in }
      }
      XCTAssertEqual(e?.line, 251)
      var rows = 0
      let s = try CorpusStream.scan(path: path, skipBadRows: true, blockBytes: 500) {
        rows += $0.count
      }
      XCTAssertEqual(s.skippedCount, 1)
      XCTAssertEqual(s.firstSkipped.first?.line, 251)
      XCTAssertEqual(rows, s.rows)
    }
  }

  func testALineLongerThanTheLimitIsNamed() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/c.tsv"
      try writeFile(path, "a\tshort\nb\t" + String(repeating: "x", count: 5000) + "\n")
      let e = expectInputError("long line") {
        _ = try CorpusStream.scan(path: path, blockBytes: 100, maxLineBytes: 1000) { _ in }
      }
      XCTAssertEqual(e?.line, 2)
      XCTAssertTrue(e?.message.contains("longer than") ?? false, "\(String(describing: e))")
    }
  }

  func testCSVAndEmptyFilesAreRefused() throws {
    try withTemporaryDirectory { dir in
      try writeFile(dir + "/c.csv", "text,label\nhello,a\n")
      expectInputError("csv") { _ = try CorpusStream.scan(path: dir + "/c.csv") { _ in } }
      try writeFile(dir + "/e.tsv", "")
      expectInputError("empty") { _ = try CorpusStream.scan(path: dir + "/e.tsv") { _ in } }
    }
  }

  func testPrunedVocabularyStaysUnderItsCapAndKeepsFrequentKeys() {
    let config = TrainingFixtures.features(wordNgrams: 2)
    var builder = Vocabulary.Builder(config: config, maxKeys: 400)
    var rng = SplitMix64(seed: 5)
    var peak = 0
    for i in 0..<3000 {
      // "common" in every row, then a rare word of its own.
      builder.add("common words here rare\(i) \(rng.next() % 1000)")
      peak = max(peak, builder.words.keys.count + builder.others.keys.count)
    }
    XCTAssertLessThan(peak, 400)
    XCTAssertGreaterThan(builder.pruneThreshold, 1)
    let (vocab, _) = builder.finish()
    XCTAssertGreaterThanOrEqual(vocab.index.row(FeatureExtractor.wordKey("common".utf8)), 0)
    XCTAssertEqual(vocab.index.row(FeatureExtractor.wordKey("rare5".utf8)), -1)
    // Without a cap, the builder gives what `build` gives.
    let texts = (0..<50).map { "text \($0 % 7) and \($0 % 3)" }
    var unbounded = Vocabulary.Builder(config: config)
    for t in texts { unbounded.add(t) }
    XCTAssertEqual(unbounded.finish().0, Vocabulary.build(texts: texts, config: config).0)
  }

  func testStreamingTrainsAcrossBlocksAndIsDeterministic() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/train.tsv"
      try writeFile(path, corpusText(count: 900))
      let config = TrainingFixtures.config(epochs: 4, dim: 8, threads: 2)
      var epochs = 0
      let a = try StreamingFinetune.run(
        train: path, valid: nil, pretrained: nil, config: config, blockBytes: 2000,
        progress: { if case .training(.epoch) = $0 { epochs += 1 } })
      XCTAssertEqual(epochs, 4)
      XCTAssertNotNil(a.metadata.epochs.last?.minedPerClass)
      let b = try StreamingFinetune.run(
        train: path, valid: nil, pretrained: nil, config: config, blockBytes: 2000)
      XCTAssertTrue(try ModelFile.encode(a) == ModelFile.encode(b))
      // It learns: the keyword rows of another seed are classified.
      let test = KeywordCorpus.named(count: 300, seed: 77)
      let m = FeatureMatrix(
        texts: test.map(\.text), vocabulary: a.vocabulary, config: config.features)
      let probs = a.classifier.probabilities(m, threads: 1)
      let gold = try test.map { t in try XCTUnwrap(a.labels.firstIndex(of: t.label)) }
      let metrics = Metrics(
        probabilities: probs, gold: gold.map(Int32.init), classes: a.labels.count)
      XCTAssertGreaterThan(metrics.accuracy, 0.95)
      XCTAssertEqual(
        a.metadata.corpus.contentHash, try CorpusReader.read(path: path).contentHashHex)
    }
  }
}
