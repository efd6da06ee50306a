import Foundation
import XCTest

@testable import Quarry

final class PretrainedVectorsTests: XCTestCase {
  /// Vocabulary rows: hello 0, world 1, école 2, foo 3.
  let vocab = Vocabulary.build(
    texts: ["hello world", "école foo hello"], config: TrainingFixtures.features(wordNgrams: 1)
  ).0

  func row(_ word: String) -> Int { Int(vocab.index.row(FNV1a.hash(Array(word.utf8)))) }

  let dim = 3
  var initial: [Float] { [Float](repeating: -7, count: vocab.wordCount * dim) }

  func values(_ r: PretrainedVectors.Result, _ word: String) -> [Float] {
    let i = row(word)
    return Array(r.embedding[(i * dim)..<((i + 1) * dim)])
  }

  func load(_ text: String, name: String = "vec.txt") throws -> PretrainedVectors.Result {
    try withTemporaryDirectory { dir in
      let path = dir + "/" + name
      try writeFile(path, text)
      return try PretrainedVectors.load(path: path, vocabulary: vocab, into: initial, dim: dim)
    }
  }

  /// Expects a load error at `line` naming the file.
  func expectLoadError(
    _ text: String, line: Int?, file: StaticString = #filePath, at: UInt = #line
  ) {
    do {
      try withTemporaryDirectory { dir in
        let path = dir + "/bad.vec"
        try writeFile(path, text)
        let e = expectInputError("load", file: file, line: at) {
          _ = try PretrainedVectors.load(path: path, vocabulary: vocab, into: initial, dim: dim)
        }
        guard let e else { return }
        XCTAssertEqual(e.path, path, file: file, line: at)
        XCTAssertEqual(e.line, line, e.description, file: file, line: at)
        if let line {
          XCTAssertTrue(
            e.description.contains("bad.vec:\(line):"), e.description, file: file, line: at)
        }
      }
    } catch {
      XCTFail("\(error)", file: file, line: at)
    }
  }

  func testVocabularyRows() {
    XCTAssertEqual([row("hello"), row("world"), row("école"), row("foo")], [0, 1, 2, 3])
  }

  func testTextFormatWithHeader() throws {
    let r = try load("4 3\nhello 1 2 3\nbar 4 5 6\nworld -0.5 1e-3 7.25\nÉcole 0 0 1\n")
    XCTAssertEqual(r.dim, 3)
    XCTAssertEqual(r.fileWords, 4)
    XCTAssertEqual(r.duplicates, 0)
    XCTAssertEqual(values(r, "hello"), [1, 2, 3])
    XCTAssertEqual(values(r, "world"), [-0.5, 1e-3, 7.25])
    XCTAssertEqual(values(r, "école"), [0, 0, 1])
    XCTAssertEqual(values(r, "foo"), [-7, -7, -7], "rows without a vector are left as they were")
    XCTAssertEqual(r.found, [true, true, true, false])
  }

  func testTextFormatWithoutHeaderAndCRLF() throws {
    let r = try load("world 7 8 9\r\nfoo 1 1 1 \r\n\r\nhello 4 5 6")
    XCTAssertEqual(r.fileWords, 3)
    XCTAssertEqual(values(r, "world"), [7, 8, 9])
    XCTAssertEqual(values(r, "foo"), [1, 1, 1])
    XCTAssertEqual(values(r, "hello"), [4, 5, 6])
    XCTAssertEqual(r.found, [true, true, false, true])
  }

  func testLowercasedMatchAndDuplicatesKeepTheFirst() throws {
    let r = try load("Hello 1 2 3\nHELLO 4 5 6\nhello 7 8 9\nWORLD 3 3 3\n")
    XCTAssertEqual(values(r, "hello"), [1, 2, 3])
    XCTAssertEqual(values(r, "world"), [3, 3, 3])
    XCTAssertEqual(r.duplicates, 2)
    XCTAssertEqual(r.fileWords, 4)
  }

  func testDimension() throws {
    try withTemporaryDirectory { dir in
      let a = dir + "/a.vec"
      try writeFile(a, "2 5\nx 1 2 3 4 5\ny 1 2 3 4 5\n")
      XCTAssertEqual(try PretrainedVectors.dimension(path: a), 5)
      let b = dir + "/b.txt"
      try writeFile(b, "x 1 2 3 4\n")
      XCTAssertEqual(try PretrainedVectors.dimension(path: b), 4)
    }
  }

  func testNonFiniteValuesAreErrors() {
    expectLoadError("hello 1 2 3\nworld 1 nan 3\n", line: 2)
    expectLoadError("hello 1 2 3\n\nworld inf 2 3\n", line: 3)
    expectLoadError("hello 1 2 -Infinity\n", line: 1)
    expectLoadError("hello 1 1e39 2\n", line: 1)
  }

  func testWrongValueCountsAreErrors() {
    expectLoadError("hello 1 2 3\nworld 1 2\n", line: 2)
    expectLoadError("hello 1 2 3\nworld 1 2 3 4\n", line: 2)
    expectLoadError("world 1 2 \r\n", line: 1)
    expectLoadError("hello 1 x 3\n", line: 1)
    expectLoadError("hello 1 2 3\nworld\n", line: 2)
  }

  func testHeaderCountMismatchIsAnError() {
    expectLoadError("3 3\nhello 1 2 3\nworld 1 2 3\n", line: 1)
    expectLoadError("1 3\nhello 1 2 3\nworld 1 2 3\n", line: 1)
  }

  // MARK: Safetensors

  /// A safetensors file: u64 LE header length, the JSON header, the data.
  func safetensors(_ header: String, _ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    appendLE(&out, [UInt64(header.utf8.count)])
    return out + Array(header.utf8) + data
  }

  func f32(_ v: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    appendLE(&out, v.map(\.bitPattern))
    return out
  }

  func u16(_ v: [UInt16]) -> [UInt8] {
    var out: [UInt8] = []
    appendLE(&out, v)
    return out
  }

  func loadSafetensors(
    _ bytes: [UInt8], vocab words: String, dim: Int = 3, checkDimension: Bool = true
  ) throws -> PretrainedVectors.Result {
    try withTemporaryDirectory { dir in
      let path = dir + "/model.safetensors"
      try writeFile(path, bytes)
      try writeFile(dir + "/vocab.txt", words)
      if checkDimension { XCTAssertEqual(try PretrainedVectors.dimension(path: path), dim) }
      return try PretrainedVectors.load(
        path: path, vocabulary: vocab, into: [Float](repeating: -7, count: vocab.wordCount * dim),
        dim: dim)
    }
  }

  func testSafetensorsF32() throws {
    // Rows: bar, HELLO, world, hello (a duplicate after lowercasing).
    let table: [Float] = [9, 9, 9, 1.5, -2, 3, 0.25, 0, -1e-3, 8, 8, 8]
    let header =
      #"{"__metadata__":{"format":"pt"},"emb":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[48,56]}}"#
    let r = try loadSafetensors(
      safetensors(header, f32(table) + f32([5, 6])), vocab: "bar\nHELLO\nworld\nhello\n")
    XCTAssertEqual(values(r, "hello"), [1.5, -2, 3])
    XCTAssertEqual(values(r, "world"), [0.25, 0, -1e-3])
    XCTAssertEqual(values(r, "foo"), [-7, -7, -7])
    XCTAssertEqual(r.found, [true, true, false, false])
    XCTAssertEqual(r.fileWords, 4)
    XCTAssertEqual(r.duplicates, 1)
  }

  func testSafetensorsF16() throws {
    // Half precision bit patterns: 1 = 0x3C00, −2 = 0xC000, 0.5 = 0x3800, 65504 = 0x7BFF,
    // 2⁻²⁴ (smallest subnormal) = 0x0001, −0 = 0x8000.
    let bits: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000]
    let header = #"{"word_embeddings":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]}}"#
    let r = try loadSafetensors(safetensors(header, u16(bits)), vocab: "world\nhello")
    XCTAssertEqual(values(r, "world"), [1, -2, 0.5])
    XCTAssertEqual(values(r, "hello"), [65504, Float(1) / 16_777_216, 0])
    XCTAssertEqual(values(r, "hello")[2].sign, .minus)
  }

  func testSafetensorsBF16() throws {
    // bfloat16 is the top half of a float32: 1 = 0x3F80, −2.5 = 0xC020, 0.15625 = 0x3E20.
    let bits: [UInt16] = [0x3F80, 0xC020, 0x3E20]
    let header = #"{"emb":{"dtype":"BF16","shape":[1,3],"data_offsets":[0,6]}}"#
    let r = try loadSafetensors(safetensors(header, u16(bits)), vocab: "école\n")
    XCTAssertEqual(values(r, "école"), [1, -2.5, 0.15625])
  }

  func testFloat16Conversion() {
    XCTAssertEqual(Float16Bits(0x3555), 0.333251953125)  // 1365/4096
    XCTAssertEqual(Float16Bits(0x0400), 1.0 / 16384)  // smallest normal, 2⁻¹⁴
    XCTAssertEqual(Float16Bits(0x03FF), 1023.0 / 16_777_216)  // largest subnormal
    XCTAssertEqual(Float16Bits(0x7C00), .infinity)
    XCTAssertEqual(Float16Bits(0xFC00), -.infinity)
    XCTAssertTrue(Float16Bits(0x7E00).isNaN)
  }

  func testSafetensorsErrors() throws {
    let ok = f32([1, 2, 3, 4, 5, 6])
    func expectError(_ bytes: [UInt8], vocab: String = "hello\nworld\n", _ what: String) {
      XCTAssertThrowsError(try loadSafetensors(bytes, vocab: vocab, checkDimension: false), what) {
        e in
        XCTAssertTrue(e is InputError, "\(what): \(e)")
      }
    }
    let good = #"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}"#
    XCTAssertNoThrow(try loadSafetensors(safetensors(good, ok), vocab: "hello\nworld\n"))
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[0,100]}}"#, ok),
      "end beyond the data")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[4,28]}}"#, ok),
      "shifted past the end")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, ok),
      "length does not fit the shape")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}}"#, ok),
      "reversed")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[-4,20]}}"#, ok),
      "negative")
    expectError(
      safetensors(#"{"emb":{"dtype":"I64","shape":[2,3],"data_offsets":[0,24]}}"#, ok),
      "dtype")
    expectError(
      safetensors(
        #"{"a":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[1,3],"data_offsets":[12,24]}}"#,
        ok),
      "two 2-D tensors, neither named word_embeddings")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}}"#, ok),
      vocab: "hello\nworld\nfoo\n", "width 2, expected 3")
    expectError(safetensors(good, ok), vocab: "hello\n", "vocab.txt has fewer lines than rows")
    expectError(safetensors(good, f32([1, 2, .nan, 4, 5, 6])), "NaN in a known word's row")
    expectError(safetensors("[1, 2]", ok), "header not an object")
    // Header length larger than the file.
    var huge: [UInt8] = []
    appendLE(&huge, [UInt64(1 << 40)])
    expectError(huge + Array(good.utf8) + ok, "header length")
    expectError([1, 2, 3], "shorter than the length field")
    // A shape whose element count overflows.
    expectError(
      safetensors(
        #"{"emb":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}}"#, ok),
      "overflowing shape")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[-2,-3],"data_offsets":[0,24]}}"#, ok),
      "negative shape")
    expectError(
      safetensors(#"{"emb":{"dtype":"F32","shape":[2,3],"data_offsets":[0]}}"#, ok),
      "one offset")
  }

  func testSafetensorsWithoutVocabFileIsAnError() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/e.safetensors"
      try writeFile(
        path,
        safetensors(
          #"{"emb":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]}}"#, f32([1, 2, 3])))
      XCTAssertThrowsError(
        try PretrainedVectors.load(path: path, vocabulary: vocab, into: initial, dim: dim)
      ) { XCTAssertTrue($0 is InputError) }
    }
  }

  // MARK: The binary cache of a text file

  func testCachedLoadEqualsTheTextLoadAndFollowsTheSource() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/v.vec"
      let cache = dir + "/cache"
      // HELLO and hello are the same word: the first stays, the second is a duplicate.
      try writeFile(
        path, "5 3\nHELLO 1 2 3\nworld 4 5 6\nhello 9 9 9\nzebra 0 0 0\nécole 7 8 9\n")
      let text = try PretrainedVectors.load(path: path, vocabulary: vocab, into: initial, dim: dim)
      // The first load with a cache parses the text and writes the copy.
      let first = try PretrainedVectors.load(
        path: path, vocabulary: vocab, into: initial, dim: dim, cacheDirectory: cache)
      let copy = try XCTUnwrap(VectorCache.file(for: path, in: cache))
      XCTAssertTrue(FileManager.default.fileExists(atPath: copy))
      let cached = try XCTUnwrap(
        VectorCache.load(source: path, directory: cache, vocabulary: vocab, into: initial, dim: dim)
      )
      for r in [first, cached] {
        XCTAssertEqual(r.embedding, text.embedding)
        XCTAssertEqual(r.found, text.found)
        XCTAssertEqual(r.fileWords, text.fileWords)
        XCTAssertEqual(r.duplicates, text.duplicates)
      }
      XCTAssertEqual(values(cached, "hello"), [1, 2, 3])
      XCTAssertEqual(cached.duplicates, 1)

      // Another width, a changed source, or a damaged copy: no cache hit.
      XCTAssertNil(
        VectorCache.load(source: path, directory: cache, vocabulary: vocab, into: initial, dim: 2))
      var bytes = try FileBytes.read(copy)
      bytes[bytes.count / 2] ^= 1
      try writeFile(copy, bytes)
      XCTAssertNil(
        VectorCache.load(source: path, directory: cache, vocabulary: vocab, into: initial, dim: dim)
      )
      try writeFile(path, "2 3\nhello 3 2 1\nworld 6 5 4\n")
      XCTAssertNil(
        VectorCache.load(source: path, directory: cache, vocabulary: vocab, into: initial, dim: dim)
      )
      let changed = try PretrainedVectors.load(
        path: path, vocabulary: vocab, into: initial, dim: dim, cacheDirectory: cache)
      XCTAssertEqual(values(changed, "hello"), [3, 2, 1])
    }
  }

  /// A bad line of a word the corpus lacks is not checked by the text path; such a file is
  /// never cached, so the cache cannot turn it into an error or hide it.
  func testAFileWithABadLineIsNotCached() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/v.vec"
      let cache = dir + "/cache"
      try writeFile(path, "hello 1 2 3\nzebra 1 nan 3\n")
      let r = try PretrainedVectors.load(
        path: path, vocabulary: vocab, into: initial, dim: dim, cacheDirectory: cache)
      XCTAssertEqual(values(r, "hello"), [1, 2, 3])
      let copy = try XCTUnwrap(VectorCache.file(for: path, in: cache))
      XCTAssertFalse(FileManager.default.fileExists(atPath: copy))
    }
  }
}
