import Foundation
import XCTest

@testable import Quarry

/// The BERT encoder: WordPiece, the kernels against naive references, the weights reader's
/// errors, a tiny random model against a naive padded-and-masked forward pass, and the real
/// all-MiniLM-L6-v2 against the Hugging Face fixture.
///
/// The last needs the weights (`Scripts/lib/fetch_minilm.sh`, under `$QUARRY_CACHE` or
/// `~/.cache/quarry`) and the fixture `Corpora/fixtures/minilm-reference.json`; without
/// the weights those tests skip, or fail when `QUARRY_REQUIRE_DATA=1`.
final class EncoderTests: XCTestCase {

  // MARK: WordPiece

  static let tinyVocab = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "un", "##aff", "##able", "hello", ",", "!",
    "world", "cafe", "深", "a", "##b", "##bc", "ab", ".", "'", "s", "x",
  ]

  func tiny() throws -> WordPiece { try WordPiece(tokens: EncoderTests.tinyVocab) }

  func words(_ t: WordPiece, _ text: String) -> [String] {
    t.basicTokens(text).map { String(String.UnicodeScalarView($0)) }
  }

  func pieces(_ t: WordPiece, _ text: String) -> [String] {
    t.pieces(text).map { t.tokens[Int($0)] }
  }

  func testBasicTokenizerNormalisesAndSplits() throws {
    let t = try tiny()
    XCTAssertEqual(words(t, "Hello, World!"), ["hello", ",", "world", "!"])
    // Accents stripped after NFD, case folded, É included.
    XCTAssertEqual(words(t, "Déjà vu: ÉCOLE naïve"), ["deja", "vu", ":", "ecole", "naive"])
    // Control characters dropped, tabs/newlines/NBSP are white space, NUL and U+FFFD dropped.
    XCTAssertEqual(
      words(t, "a\u{0}b\u{FFFD}c\u{200B}d\te\nf\u{00A0}g\u{0007}"), ["abcd", "e", "f", "g"])
    // CJK ideographs become words of their own, even inside other text.
    XCTAssertEqual(words(t, "深度learning学"), ["深", "度", "learning", "学"])
    // Unicode punctuation (P*) splits; symbols such as £ (Sc) do not, ASCII $ does.
    XCTAssertEqual(words(t, "«hi»—£5 $5"), ["«", "hi", "»", "—", "£5", "$", "5"])
    XCTAssertEqual(words(t, "   "), [])
    XCTAssertEqual(words(t, ""), [])
  }

  func testWordPieceGreedyLongestMatch() throws {
    let t = try tiny()
    XCTAssertEqual(pieces(t, "unaffable"), ["un", "##aff", "##able"])
    // Longest first: "ab" beats "a" + "##b", and "abbc" is "ab" + "##bc".
    XCTAssertEqual(pieces(t, "ab"), ["ab"])
    XCTAssertEqual(pieces(t, "abbc"), ["ab", "##bc"])
    // Greedy, no backtracking: "abc" takes "ab", then "##c" is missing, so the word is
    // [UNK] although "a" + "##bc" would have matched (as BERT does it).
    XCTAssertEqual(pieces(t, "abc"), ["[UNK]"])
    // A word with an unmatched remainder is one [UNK], not a partial match.
    XCTAssertEqual(pieces(t, "unaffablez the"), ["[UNK]", "the"])
    XCTAssertEqual(pieces(t, "Café!"), ["cafe", "!"])
    XCTAssertEqual(pieces(t, "深 度"), ["深", "[UNK]"])
    XCTAssertEqual(pieces(t, "x's"), ["x", "'", "s"])
    // More than 100 characters is [UNK] without matching; the limit is a setting.
    XCTAssertEqual(pieces(t, String(repeating: "a", count: 101)), ["[UNK]"])
    var t2 = t
    t2.maxCharsPerWord = 3
    XCTAssertEqual(pieces(t2, "abc the"), ["[UNK]", "the"])
  }

  func testEncodeAddsSpecialTokensAndTruncates() throws {
    let t = try tiny()
    XCTAssertEqual(t.encode("hello world"), [2, 8, 11, 3])
    XCTAssertEqual(t.encode(""), [2, 3])
    XCTAssertEqual(t.encode("the the the the", maxLength: 4), [2, 4, 4, 3])
    // Truncation cuts word pieces, not only whole words.
    XCTAssertEqual(t.encode("unaffable", maxLength: 4), [2, 5, 6, 3])
    XCTAssertEqual(t.encode("hello", maxLength: 2), [2, 3])
  }

  func testVocabularyWithoutSpecialTokensIsAnError() {
    let e = expectInputError("no [UNK]") { _ = try WordPiece(tokens: ["[CLS]", "[SEP]", "a"]) }
    XCTAssertTrue(e?.message.contains("[UNK]") ?? false, "\(String(describing: e))")
  }

  func testFixtureTokenIds() throws {
    let fixture = try Fixture.load()
    let t = try WordPiece.load(path: try MiniLM.directory() + "/vocab.txt")
    for s in fixture.sentences {
      XCTAssertEqual(t.encode(s.text, maxLength: fixture.maxLength), s.ids, s.text)
    }
  }

  // MARK: Config

  func testConfigParsesAndReportsErrors() throws {
    let good = """
      {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
       "intermediate_size": 1536, "hidden_act": "gelu", "max_position_embeddings": 512,
       "vocab_size": 30522, "type_vocab_size": 2, "layer_norm_eps": 1e-12}
      """
    let c = try BertConfig.parse(bytes: Array(good.utf8), path: "config.json")
    XCTAssertEqual(c.layers, 6)
    XCTAssertEqual(c.headSize, 32)
    XCTAssertEqual(c.layerNormEps, 1e-12)
    func bad(_ text: String, _ fragment: String) {
      let e = expectInputError(fragment) {
        _ = try BertConfig.parse(bytes: Array(text.utf8), path: "dir/config.json")
      }
      XCTAssertTrue(e?.description.hasPrefix("dir/config.json: ") ?? false)
      XCTAssertTrue(e?.message.contains(fragment) ?? false, "\(String(describing: e))")
    }
    bad(good.replacingOccurrences(of: #""num_hidden_layers": 6,"#, with: ""), "num_hidden_layers")
    bad(good.replacingOccurrences(of: "384", with: "385"), "not a multiple")
    bad(good.replacingOccurrences(of: #""gelu""#, with: #""relu""#), "hidden_act")
    bad(good.replacingOccurrences(of: "1536", with: "\"big\""), "intermediate_size")
    bad("[1]", "not a JSON object")
    bad(good.replacingOccurrences(of: "1536", with: "true"), "intermediate_size")
    // 1 is a number, not JSON's true (Foundation on Linux bridges both to Bool).
    let one = try BertConfig.parse(
      bytes: Array(
        good.replacingOccurrences(of: "\"num_hidden_layers\": 6", with: "\"num_hidden_layers\": 1")
          .utf8),
      path: "config.json")
    XCTAssertEqual(one.layers, 1)
  }

  // MARK: Kernels against naive references

  func testLayerNormMatchesNaive() {
    var rng = SplitMix64(seed: 1)
    let (rows, n) = (5, 37)
    let x = randomFloats(rows * n, &rng, scale: 3).map { $0 + 2 }
    let g = randomFloats(n, &rng)
    let b = randomFloats(n, &rng)
    var fast = x
    fast.withUnsafeMutableBufferPointer {
      layerNormForward($0.base, scale: g, shift: b, rows: rows, n: n, eps: 1e-5, threads: 2)
    }
    let slow = naiveLayerNorm(x, g, b, rows: rows, n: n, eps: 1e-5)
    assertClose(fast, slow, tol: 1e-5, "layernorm")
  }

  func testGELUMatchesErfForm() {
    var xs: [Float] = stride(from: -8, through: 8, by: 0.01).map { Float($0) }
    xs += [0, -0, .leastNonzeroMagnitude, 1e-20, 50, -50]
    var fast = xs
    fast.withUnsafeMutableBufferPointer { geluForward($0.base, count: xs.count, threads: 2) }
    for (x, y) in zip(xs, fast) {
      let ref = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
      XCTAssertEqual(Double(y), ref, accuracy: 2e-6 * max(1, abs(ref)), "gelu(\(x))")
    }
  }

  func testLinearMatchesNaive() {
    var rng = SplitMix64(seed: 2)
    let (rows, n, m) = (130, 9, 7)
    let x = randomFloats(rows * n, &rng)
    let w = randomFloats(m * n, &rng)
    let b = randomFloats(m, &rng)
    let start = randomFloats(rows * m, &rng)
    for accumulate in [false, true] {
      var fast = start
      fast.withUnsafeMutableBufferPointer {
        sgemmLinearForward(
          $0.base, x, weight: w, bias: b, rows: rows, n: n, m: m, accumulate: accumulate,
          threads: 2)
      }
      var slow = [Float](repeating: 0, count: rows * m)
      for r in 0..<rows {
        for j in 0..<m {
          var s = Double(b[j]) + (accumulate ? Double(start[r * m + j]) : 0)
          for k in 0..<n { s += Double(x[r * n + k]) * Double(w[j * n + k]) }
          slow[r * m + j] = Float(s)
        }
      }
      assertClose(fast, slow, tol: 1e-5, "linear accumulate=\(accumulate)")
    }
  }

  /// Packed attention against the textbook form: every sequence padded to the longest,
  /// scores QKᵀ/√d, an additive −∞ mask on padding keys, softmax, times V.
  func testAttentionMatchesMaskedNaive() {
    var rng = SplitMix64(seed: 3)
    let (h, heads) = (12, 3)
    let lengths = [5, 1, 3, 5]
    let rows = lengths.reduce(0, +)
    let qkv = randomFloats(rows * 3 * h, &rng, scale: 2)
    var fast = [Float](repeating: .nan, count: rows * h)
    fast.withUnsafeMutableBufferPointer {
      attentionForward($0.base, qkv: qkv, lengths: lengths, hidden: h, heads: heads, threads: 2)
    }
    let slow = naiveAttention(qkv, lengths: lengths, hidden: h, heads: heads)
    assertClose(fast, slow, tol: 1e-5, "attention")
  }

  func testSoftmaxRows() {
    var s: [Float] = [1, 2, 3, 1000, 1000, -1000]
    s.withUnsafeMutableBufferPointer { attentionSoftmax($0.base, rows: 2, cols: 3) }
    let e = [exp(-2.0), exp(-1.0), 1.0]
    let z = e.reduce(0, +)
    assertClose(Array(s[0..<3]), e.map { Float($0 / z) }, tol: 1e-6, "row 0")
    assertClose(Array(s[3..<6]), [0.5, 0.5, 0], tol: 1e-6, "row 1 (large values)")
  }

  // MARK: A tiny random model against a naive forward pass

  func testTinyModelMatchesNaiveForwardInAnyOrderAndBatching() throws {
    try withTemporaryDirectory { dir in
      let config = BertConfig(
        layers: 2, hidden: 8, heads: 2, intermediate: 16, maxPositions: 12, vocabSize: 22,
        layerNormEps: 1e-6)
      let tensors = TinyBert.tensors(config, seed: 7)
      try writeFile(dir + "/model.safetensors", TinyBert.safetensors(tensors))
      try writeFile(dir + "/vocab.txt", EncoderTests.tinyVocab.joined(separator: "\n") + "\n")
      try writeFile(dir + "/config.json", TinyBert.configJSON(config))
      let encoder = try BertEncoder.load(directory: dir)
      XCTAssertEqual(encoder.config, config)
      let texts = [
        "hello world", "", "the unaffable cafe", "a ab abc hello, world! the the the the the",
        "x's", "深",
      ]
      let ids = encoder.tokenize(texts, maxLength: 12)
      XCTAssertEqual(ids[3].count, 12, "truncated to the positions")
      let reference = TinyBert.naiveForward(ids, tensors: tensors, config: config)
      for (batch, threads) in [(1, 1), (2, 2), (32, 2), (4, 1)] {
        let got = try encoder.encode(
          texts, options: EncodeOptions(maxLength: 12, batchSize: batch, threads: threads))
        XCTAssertEqual(got.rows, texts.count)
        XCTAssertEqual(got.lengths, ids.map(\.count))
        assertClose(got.mean, reference.mean, tol: 1e-4, "mean batch=\(batch)")
        assertClose(got.cls, reference.cls, tol: 1e-4, "cls batch=\(batch)")
      }
      let empty = try encoder.encode([String]())
      XCTAssertEqual(empty.rows, 0)
      XCTAssertEqual(empty.mean, [])
      expectInputError("id out of range") { _ = try encoder.encode(ids: [[2, 99, 3]]) }
    }
  }

  // MARK: Weight errors

  func testMissingTensorIsNamed() throws {
    let config = BertConfig(
      layers: 1, hidden: 4, heads: 2, intermediate: 8, maxPositions: 6, vocabSize: 22)
    var tensors = TinyBert.tensors(config, seed: 1)
    tensors.removeAll { $0.name == "encoder.layer.0.attention.self.key.bias" }
    let e = try weightsError(tensors, config)
    XCTAssertTrue(
      e?.message.contains("no tensor 'encoder.layer.0.attention.self.key.bias'") ?? false,
      "\(String(describing: e))")
    XCTAssertTrue(e?.message.contains("[4]") ?? false, "expected shape: \(String(describing: e))")
  }

  func testMisShapedTensorIsNamedWithBothShapes() throws {
    let config = BertConfig(
      layers: 1, hidden: 4, heads: 2, intermediate: 8, maxPositions: 6, vocabSize: 22)
    var tensors = TinyBert.tensors(config, seed: 1)
    let i = try XCTUnwrap(
      tensors.firstIndex { $0.name == "encoder.layer.0.intermediate.dense.weight" })
    tensors[i].shape = [4, 8]  // transposed: same size, wrong shape
    let e = try weightsError(tensors, config)
    XCTAssertEqual(
      e?.message,
      "tensor 'encoder.layer.0.intermediate.dense.weight' has shape [4, 8], expected [8, 4]")
  }

  func testPrefixedNamesAndOldLayerNormNamesAreRead() throws {
    let config = BertConfig(
      layers: 1, hidden: 4, heads: 2, intermediate: 8, maxPositions: 6, vocabSize: 22)
    let plain = TinyBert.tensors(config, seed: 4)
    let renamed = plain.map { t -> TinyBert.Tensor in
      var t = t
      t.name =
        "bert." + t.name.replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma")
      return t
    }
    let a = try loadWeights(plain, config)
    let b = try loadWeights(renamed, config)
    XCTAssertEqual(a.wordEmbeddings, b.wordEmbeddings)
    XCTAssertEqual(a.layers[0].outputNormScale, b.layers[0].outputNormScale)
    XCTAssertEqual(a.layers[0].qkv.count, 3 * 4 * 4)
  }

  func testF16WeightsAndI64BuffersAreAccepted() throws {
    let config = BertConfig(
      layers: 1, hidden: 4, heads: 2, intermediate: 8, maxPositions: 6, vocabSize: 22)
    var tensors = TinyBert.tensors(config, seed: 5)
    // Values exactly representable in half precision, so the widening is exact.
    for i in tensors.indices {
      tensors[i].values = tensors[i].values.map { ($0 * 64).rounded() / 64 }
    }
    let f32 = try loadWeights(tensors, config)
    var half = tensors
    for i in half.indices { half[i].dtype = "F16" }
    half.append(
      TinyBert.Tensor(
        name: "embeddings.position_ids", shape: [1, 6], dtype: "I64", values: [0, 1, 2, 3, 4, 5]))
    let f16 = try loadWeights(half, config)
    XCTAssertEqual(f32.wordEmbeddings, f16.wordEmbeddings)
    XCTAssertEqual(f32.layers[0].ffnOut, f16.layers[0].ffnOut)
    // An integer tensor cannot be read as floats.
    let st = try withTemporaryDirectory { dir -> Safetensors in
      try writeFile(dir + "/m.safetensors", TinyBert.safetensors(half))
      return try Safetensors.open(dir + "/m.safetensors")
    }
    expectInputError("I64 as floats") {
      _ = try st.floats("embeddings.position_ids", shape: [1, 6])
    }
  }

  private func loadWeights(_ tensors: [TinyBert.Tensor], _ config: BertConfig) throws -> BertWeights
  {
    try withTemporaryDirectory { dir in
      try writeFile(dir + "/model.safetensors", TinyBert.safetensors(tensors))
      return try BertWeights.load(path: dir + "/model.safetensors", config: config)
    }
  }

  private func weightsError(_ tensors: [TinyBert.Tensor], _ config: BertConfig) throws
    -> InputError?
  {
    try withTemporaryDirectory { dir in
      let path = dir + "/model.safetensors"
      try writeFile(path, TinyBert.safetensors(tensors))
      let e = expectInputError("weights") { _ = try BertWeights.load(path: path, config: config) }
      XCTAssertEqual(e?.path, path)
      return e
    }
  }

  // MARK: The real model against the fixture

  func testMiniLMMatchesFixture() throws {
    let fixture = try Fixture.load()
    let encoder = try MiniLM.encoder()
    XCTAssertEqual(encoder.config.layers, 6)
    XCTAssertEqual(encoder.config.hidden, 384)
    let texts = fixture.sentences.map(\.text)
    let got = try encoder.encode(
      texts, options: EncodeOptions(maxLength: fixture.maxLength, batchSize: 3, threads: 2))
    let h = encoder.config.hidden
    for (i, s) in fixture.sentences.enumerated() {
      XCTAssertEqual(got.lengths[i], s.ids.count, s.text)
      let mean = Array(got.mean[(i * h)..<((i + 1) * h)])
      let cls = Array(got.cls[(i * h)..<((i + 1) * h)])
      assertClose(mean, s.mean, tol: 1e-4, "mean pooled: \(s.text.prefix(30))")
      assertClose(cls, s.cls, tol: 1e-4, "cls: \(s.text.prefix(30))")
    }
  }

  /// The linear layer's row ranges do not depend on the thread count, so neither do its
  /// results, bit for bit (and with them the encoder's, for a given batch size).
  func testLinearGivesTheSameBytesOnAnyThreadCount() {
    var rng = SplitMix64(seed: 9)
    let (rows, n, m) = (2000, 24, 20)
    let x = randomFloats(rows * n, &rng)
    let w = randomFloats(m * n, &rng)
    let b = randomFloats(m, &rng)
    var outputs: [[Float]] = []
    for threads in [1, 2, 3] {
      var out = [Float](repeating: 0, count: rows * m)
      out.withUnsafeMutableBufferPointer {
        sgemmLinearForward($0.base, x, weight: w, bias: b, rows: rows, n: n, m: m, threads: threads)
      }
      outputs.append(out)
    }
    XCTAssertEqual(outputs[0], outputs[1])
    XCTAssertEqual(outputs[0], outputs[2])
  }

  // MARK: Helpers

  func assertClose(
    _ a: [Float], _ b: [Float], tol: Float, _ what: String, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    var worst: Float = 0
    var at = 0
    for (i, (x, y)) in zip(a, b).enumerated() where !(abs(x - y) <= worst) {
      worst = abs(x - y)
      at = i
      if worst.isNaN { break }
    }
    XCTAssertTrue(
      worst <= tol, "\(what): |Δ| = \(worst) at \(at) (\(a[at]) vs \(b[at])) > \(tol)",
      file: file, line: line)
  }
}

// MARK: - Naive references

/// LayerNorm of each row in Double.
private func naiveLayerNorm(_ x: [Float], _ g: [Float], _ b: [Float], rows: Int, n: Int, eps: Float)
  -> [Float]
{
  var out = x
  for r in 0..<rows {
    let row = x[(r * n)..<((r + 1) * n)].map(Double.init)
    let mean = row.reduce(0, +) / Double(n)
    let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
    for j in 0..<n {
      out[r * n + j] = Float(
        (row[j] - mean) / (variance + Double(eps)).squareRoot() * Double(g[j]) + Double(b[j]))
    }
  }
  return out
}

/// Attention with every sequence padded to the longest and an additive −∞ mask on the
/// padding keys, in Double; only the real rows are returned (packed).
private func naiveAttention(_ qkv: [Float], lengths: [Int], hidden h: Int, heads: Int) -> [Float] {
  let d = h / heads
  let longest = lengths.max() ?? 0
  var out: [Float] = []
  var offset = 0
  for len in lengths {
    // Padded Q, K, V: longest × 3H, zero rows past len.
    func at(_ r: Int, _ c: Int) -> Double { r < len ? Double(qkv[(offset + r) * 3 * h + c]) : 0 }
    var rows = [[Float]](repeating: [Float](repeating: 0, count: h), count: longest)
    for j in 0..<heads {
      for qi in 0..<longest {
        var scores = [Double](repeating: 0, count: longest)
        for ki in 0..<longest {
          var s = 0.0
          for t in 0..<d { s += at(qi, j * d + t) * at(ki, h + j * d + t) }
          scores[ki] = s / Double(d).squareRoot() + (ki < len ? 0 : -Double.infinity)
        }
        let top = scores.max() ?? 0
        let e = scores.map { exp($0 - top) }
        let z = e.reduce(0, +)
        for t in 0..<d {
          var s = 0.0
          for ki in 0..<longest { s += e[ki] / z * at(ki, 2 * h + j * d + t) }
          rows[qi][j * d + t] = Float(s)
        }
      }
    }
    out += rows.prefix(len).flatMap { $0 }
    offset += len
  }
  return out
}

/// A tiny BERT with random weights, written as safetensors, and its naive forward pass.
enum TinyBert {
  struct Tensor {
    var name: String
    var shape: [Int]
    var dtype = "F32"
    var values: [Float]
  }

  static func tensors(_ c: BertConfig, seed: UInt64) -> [Tensor] {
    var rng = SplitMix64(seed: seed)
    let (h, i) = (c.hidden, c.intermediate)
    func t(_ name: String, _ shape: [Int], scale: Float = 0.5, offset: Float = 0) -> Tensor {
      Tensor(
        name: name, shape: shape,
        values: randomFloats(shape.reduce(1, *), &rng, scale: scale).map { $0 + offset })
    }
    var out = [
      t("embeddings.word_embeddings.weight", [c.vocabSize, h]),
      t("embeddings.position_embeddings.weight", [c.maxPositions, h]),
      t("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h]),
      t("embeddings.LayerNorm.weight", [h], scale: 0.2, offset: 1),
      t("embeddings.LayerNorm.bias", [h], scale: 0.1),
      t("pooler.dense.weight", [h, h]),
    ]
    for l in 0..<c.layers {
      let p = "encoder.layer.\(l)."
      out += [
        t(p + "attention.self.query.weight", [h, h]), t(p + "attention.self.query.bias", [h]),
        t(p + "attention.self.key.weight", [h, h]), t(p + "attention.self.key.bias", [h]),
        t(p + "attention.self.value.weight", [h, h]), t(p + "attention.self.value.bias", [h]),
        t(p + "attention.output.dense.weight", [h, h]), t(p + "attention.output.dense.bias", [h]),
        t(p + "attention.output.LayerNorm.weight", [h], scale: 0.2, offset: 1),
        t(p + "attention.output.LayerNorm.bias", [h], scale: 0.1),
        t(p + "intermediate.dense.weight", [i, h]), t(p + "intermediate.dense.bias", [i]),
        t(p + "output.dense.weight", [h, i]), t(p + "output.dense.bias", [h]),
        t(p + "output.LayerNorm.weight", [h], scale: 0.2, offset: 1),
        t(p + "output.LayerNorm.bias", [h], scale: 0.1),
      ]
    }
    return out
  }

  /// u64 LE header length, the JSON header, the data (F32, F16 or I64 as each tensor says).
  static func safetensors(_ tensors: [Tensor]) -> [UInt8] {
    var data: [UInt8] = []
    var entries: [String] = []
    for t in tensors {
      let begin = data.count
      for v in t.values {
        switch t.dtype {
        case "F16":
          let bits = halfBits(v)
          data += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        case "I64":
          let bits = UInt64(bitPattern: Int64(v))
          data += (0..<8).map { UInt8((bits >> (8 * $0)) & 0xFF) }
        default:
          let bits = v.bitPattern
          data += (0..<4).map { UInt8((bits >> (8 * $0)) & 0xFF) }
        }
      }
      entries.append(
        "\"\(t.name)\":{\"dtype\":\"\(t.dtype)\",\"shape\":\(t.shape),\"data_offsets\":[\(begin),\(data.count)]}"
      )
    }
    let header = Array(
      ("{\"__metadata__\":{\"format\":\"pt\"}," + entries.joined(separator: ",") + "}").utf8)
    let n = UInt64(header.count)
    return (0..<8).map { UInt8((n >> (8 * $0)) & 0xFF) } + header + data
  }

  /// Half-precision bits of a value that half precision holds exactly (normal range).
  static func halfBits(_ v: Float) -> UInt16 {
    if v == 0 { return v.sign == .minus ? 0x8000 : 0 }
    let b = v.bitPattern
    let sign = UInt16(b >> 31) << 15
    let exp = Int((b >> 23) & 0xFF) - 127 + 15
    let mant = UInt16((b >> 13) & 0x3FF)
    return sign | UInt16(exp) << 10 | mant
  }

  static func configJSON(_ c: BertConfig) -> String {
    """
    {"architectures": ["BertModel"], "hidden_size": \(c.hidden), "num_hidden_layers": \(c.layers),
     "num_attention_heads": \(c.heads), "intermediate_size": \(c.intermediate),
     "hidden_act": "gelu", "max_position_embeddings": \(c.maxPositions),
     "vocab_size": \(c.vocabSize), "type_vocab_size": \(c.typeVocabSize),
     "layer_norm_eps": \(c.layerNormEps), "position_embedding_type": "absolute"}
    """
  }

  /// The textbook forward pass, in Double, one padded batch with an attention mask.
  static func naiveForward(_ ids: [[Int32]], tensors: [Tensor], config c: BertConfig)
    -> (mean: [Float], cls: [Float])
  {
    let w = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.values.map(Double.init)) })
    let (h, inter, heads) = (c.hidden, c.intermediate, c.heads)
    let d = h / heads
    let eps = Double(c.layerNormEps)
    func linear(_ x: [[Double]], _ name: String, _ n: Int, _ m: Int) -> [[Double]] {
      let wt = w[name + ".weight"]!
      let b = w[name + ".bias"]!
      var out: [[Double]] = []
      for row in x {
        var y = [Double](repeating: 0, count: m)
        for j in 0..<m {
          var s = b[j]
          for t in 0..<n { s += row[t] * wt[j * n + t] }
          y[j] = s
        }
        out.append(y)
      }
      return out
    }
    func norm(_ x: [[Double]], _ name: String) -> [[Double]] {
      let g = w[name + ".weight"]!
      let b = w[name + ".bias"]!
      var out: [[Double]] = []
      for row in x {
        let mean: Double = row.reduce(0, +) / Double(h)
        var v = 0.0
        for t in row { v += (t - mean) * (t - mean) }
        v /= Double(h)
        var y = [Double](repeating: 0, count: h)
        for j in 0..<h { y[j] = (row[j] - mean) / (v + eps).squareRoot() * g[j] + b[j] }
        out.append(y)
      }
      return out
    }
    func add(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
      var out = a
      for r in a.indices { for j in a[r].indices { out[r][j] += b[r][j] } }
      return out
    }
    let longest = ids.map(\.count).max() ?? 0
    var mean: [Float] = []
    var cls: [Float] = []
    for seq in ids {
      // Pad with [PAD] (id 0) to the longest, mask those keys.
      let padded = seq + [Int32](repeating: 0, count: longest - seq.count)
      let word = w["embeddings.word_embeddings.weight"]!
      let pos = w["embeddings.position_embeddings.weight"]!
      let type = w["embeddings.token_type_embeddings.weight"]!
      var x: [[Double]] = []
      for (p, id) in padded.enumerated() {
        var row = [Double](repeating: 0, count: h)
        for j in 0..<h { row[j] = word[Int(id) * h + j] + pos[p * h + j] + type[j] }
        x.append(row)
      }
      x = norm(x, "embeddings.LayerNorm")
      for l in 0..<c.layers {
        let p = "encoder.layer.\(l)."
        let q = linear(x, p + "attention.self.query", h, h)
        let k = linear(x, p + "attention.self.key", h, h)
        let v = linear(x, p + "attention.self.value", h, h)
        var ctx = [[Double]](repeating: [Double](repeating: 0, count: h), count: longest)
        for j in 0..<heads {
          for qi in 0..<longest {
            var s = [Double](repeating: 0, count: longest)
            for ki in 0..<longest {
              var dot = 0.0
              for t in 0..<d { dot += q[qi][j * d + t] * k[ki][j * d + t] }
              s[ki] = dot / Double(d).squareRoot() + (ki < seq.count ? 0 : -1e9)
            }
            let top = s.max()!
            let e = s.map { exp($0 - top) }
            let z: Double = e.reduce(0, +)
            for t in 0..<d {
              var sum = 0.0
              for ki in 0..<longest { sum += e[ki] / z * v[ki][j * d + t] }
              ctx[qi][j * d + t] = sum
            }
          }
        }
        let a = linear(ctx, p + "attention.output.dense", h, h)
        x = norm(add(x, a), p + "attention.output.LayerNorm")
        var f = linear(x, p + "intermediate.dense", h, inter)
        for r in f.indices {
          for j in f[r].indices { f[r][j] = 0.5 * f[r][j] * (1 + erf(f[r][j] / 2.0.squareRoot())) }
        }
        let o = linear(f, p + "output.dense", inter, h)
        x = norm(add(x, o), p + "output.LayerNorm")
      }
      for j in 0..<h {
        var sum = 0.0
        for r in 0..<seq.count { sum += x[r][j] }
        mean.append(Float(sum / Double(seq.count)))
      }
      cls += x[0].map(Float.init)
    }
    return (mean, cls)
  }
}

// MARK: - Fixture and downloaded weights

/// `QUARRY_REQUIRE_DATA=1` turns a missing file into a failure instead of a skip.
private func skipOrFail(_ message: String) throws -> Never {
  if ProcessInfo.processInfo.environment["QUARRY_REQUIRE_DATA"] == "1" {
    throw InputError(path: "QUARRY_REQUIRE_DATA=1", message)
  }
  throw XCTSkip(message)
}

/// Corpora/fixtures/minilm-reference.json: Hugging Face's ids and pooled vectors for a few texts.
private struct Fixture {
  struct Sentence {
    var text: String
    var ids: [Int32]
    var mean: [Float]
    var cls: [Float]
  }
  var maxLength: Int
  var sentences: [Sentence]

  static var path: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Corpora/fixtures/minilm-reference.json").path
  }

  static func load() throws -> Fixture {
    guard let data = FileManager.default.contents(atPath: path) else {
      try skipOrFail("no fixture at \(path)")
    }
    guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let maxLength = json["max_length"] as? Int,
      let sentences = json["sentences"] as? [[String: Any]]
    else { throw InputError(path: path, "unexpected layout") }
    return Fixture(
      maxLength: maxLength,
      sentences: try sentences.map { s in
        guard let text = s["text"] as? String, let ids = s["ids"] as? [Int],
          let mean = s["mean_pooled"] as? [Double], let cls = s["cls"] as? [Double]
        else { throw InputError(path: path, "unexpected sentence layout") }
        return Sentence(
          text: text, ids: ids.map(Int32.init), mean: mean.map(Float.init), cls: cls.map(Float.init)
        )
      })
  }
}

/// all-MiniLM-L6-v2 as `Scripts/lib/fetch_minilm.sh` unpacks it, loaded once.
private enum MiniLM {
  static func directory() throws -> String {
    let env = ProcessInfo.processInfo.environment
    let cache =
      env["QUARRY_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
      ?? (NSHomeDirectory() + "/.cache/quarry")
    let dir = cache + "/encoder/all-minilm-l6-v2"
    guard FileManager.default.fileExists(atPath: dir + "/model.safetensors") else {
      try skipOrFail("no MiniLM weights at \(dir) (run Scripts/lib/fetch_minilm.sh \(cache))")
    }
    return dir
  }

  nonisolated(unsafe) static var loaded: BertEncoder?

  static func encoder() throws -> BertEncoder {
    if let loaded { return loaded }
    let e = try BertEncoder.load(directory: directory())
    loaded = e
    return e
  }
}
