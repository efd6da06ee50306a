import Foundation
import XCTest

@testable import Quarry

/// The encoder joined to the classifier: W_u's gradient, dense rows in the feature matrix,
/// the vector cache, the model file, and a finetune that predicts only with the same
/// weights. A tiny random BERT (EncoderTests' TinyBert) stands in for MiniLM.
final class FrozenEncoderTests: XCTestCase {
  func testSHA256KnownDigests() {
    func hex(_ s: String) -> String {
      var h = SHA256()
      h.update(Array(s.utf8))
      return h.finishHex()
    }
    XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // Pieces of any size give the digest of the whole.
    let long = Array(String(repeating: "quarry ", count: 100).utf8)
    var whole = SHA256()
    whole.update(long)
    var pieces = SHA256()
    var at = 0
    for k in [1, 63, 64, 65, 7, 200] where at < long.count {
      let e = min(long.count, at + k)
      pieces.update(Array(long[at..<e]))
      at = e
    }
    pieces.update(Array(long[at...]))
    XCTAssertEqual(pieces.finishHex(), whole.finishHex())
  }

  func testDenseRowsFollowTheirDocuments() {
    var m = FeatureMatrix()
    for i in 0..<4 {
      var f = SparseFeatures()
      f.wideRows = [Int32(i)]
      f.wideValues = [1]
      m.append(f, dense: [Float(i), Float(10 * i)][...])
    }
    XCTAssertEqual(m.denseDim, 2)
    let picked = m.rows([3, 1])
    XCTAssertEqual(picked.dense, [3, 30, 1, 10])
    var joined = picked
    joined.append(contentsOf: m.rows([0]))
    XCTAssertEqual(joined.dense, [3, 30, 1, 10, 0, 0])
    XCTAssertEqual(joined.denseRow(2), [0, 0])
  }

  /// ∂L/∂W_u from one SGD step (ΔW_u = −lr·s/B · ∂L/∂W_u) against central differences of
  /// the batch's summed loss.
  func testEncoderWeightGradientMatchesFiniteDifferences() throws {
    var rng = SplitMix64(seed: 3)
    let (c, h, b) = (3, 5, 4)
    var m = FeatureMatrix()
    for i in 0..<b {
      var f = SparseFeatures()
      f.wideRows = [Int32(i % 2)]
      f.wideValues = [0.5]
      f.bagRows = [Int32(i % 3)]
      f.bagWeights = [1]
      m.append(f, dense: randomFloats(h, &rng)[...])
    }
    var model = Classifier(
      classes: c, featureCount: 4, wordCount: 3, dim: 2, embedding: randomFloats(6, &rng),
      encoderDim: h)
    model.encoderWeights = randomFloats(c * h, &rng)
    model.dense = randomFloats(c * 2, &rng)
    let data = LabeledData(features: m, labels: [0, 1, 2, 1])
    var config = TrainingConfig()
    config.threads = 1
    config.denseLRScale = 1
    let weights = [Float](repeating: 1, count: b)
    let docs = Array(0..<b)

    func loss(_ model: Classifier) -> Double {
      let p = model.probabilities(m, threads: 1)
      return (0..<b).reduce(0.0) { $0 - log(Double(p[$1 * c + Int(data.labels[$1])])) }
    }
    var stepped = model
    let scratch = Trainer.Scratch(batch: b, dim: 2, classes: c, encoderDim: h)
    let lr: Float = 1e-3
    _ = docs.withUnsafeBufferPointer {
      Trainer.sgdStep(
        model: &stepped, data: data, docs: $0, weights: weights, gamma: 0, lr: lr,
        config: config, scratch: scratch)
    }
    for k in 0..<(c * h) {
      let analytic =
        Double(model.encoderWeights[k] - stepped.encoderWeights[k]) * Double(b)
        / Double(lr)
      var plus = model
      var minus = model
      let eps: Float = 1e-2
      plus.encoderWeights[k] += eps
      minus.encoderWeights[k] -= eps
      let numeric = (loss(plus) - loss(minus)) / Double(2 * eps)
      XCTAssertEqual(analytic, numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "W_u[\(k)]")
    }
  }

  /// A tiny random BERT checkpoint in `dir` (seed picks the weights).
  static func writeTinyCheckpoint(_ dir: String, seed: UInt64, layers: Int = 1) throws
    -> BertConfig
  {
    let config = BertConfig(
      layers: layers, hidden: 8, heads: 2, intermediate: 16, maxPositions: 16, vocabSize: 22,
      layerNormEps: 1e-6)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try writeFile(
      dir + "/model.safetensors", TinyBert.safetensors(TinyBert.tensors(config, seed: seed)))
    try writeFile(dir + "/vocab.txt", EncoderTests.tinyVocab.joined(separator: "\n") + "\n")
    try writeFile(dir + "/config.json", TinyBert.configJSON(config))
    return config
  }

  /// The vectors depend on config.json and vocab.txt as well as on the weights, so both
  /// caches (vectors and tuning) change their key when either file changes.
  func testCacheKeysCoverConfigAndVocabulary() throws {
    try withTemporaryDirectory { dir in
      let config = try Self.writeTinyCheckpoint(dir + "/enc", seed: 1)
      func keys() throws -> (String?, String?) {
        let e = try FrozenEncoder.load(
          directory: dir + "/enc", maxLength: 16, threads: 1, cacheDirectory: dir + "/cache")
        let texts = ["one text", "another"]
        return (
          e.cachePath(texts),
          Finetune.tuningCachePath(
            e, texts, labels: [0, 1], options: LayerTuner.Options(layers: 1))
        )
      }
      let first = try keys()
      XCTAssertNotNil(first.0)
      XCTAssertNotNil(first.1)
      let again = try keys()
      XCTAssertEqual(first.0, again.0, "same files, same key")
      XCTAssertEqual(first.1, again.1)

      var other = config
      other.layerNormEps = 1e-5
      try writeFile(dir + "/enc/config.json", TinyBert.configJSON(other))
      let eps = try keys()
      XCTAssertNotEqual(eps.0, first.0, "config.json changed")
      XCTAssertNotEqual(eps.1, first.1)

      try writeFile(dir + "/enc/config.json", TinyBert.configJSON(config))
      XCTAssertEqual(try keys().0, first.0)
      var vocab = EncoderTests.tinyVocab
      vocab.swapAt(vocab.count - 1, vocab.count - 2)
      try writeFile(dir + "/enc/vocab.txt", vocab.joined(separator: "\n") + "\n")
      let words = try keys()
      XCTAssertNotEqual(words.0, first.0, "vocab.txt changed")
      XCTAssertNotEqual(words.1, first.1)
    }
  }

  func testFinetuneWithAnEncoderPredictsOnlyWithItsWeights() throws {
    try withTemporaryDirectory { dir in
      _ = try Self.writeTinyCheckpoint(dir + "/enc", seed: 1)
      _ = try Self.writeTinyCheckpoint(dir + "/other", seed: 2)
      let cache = dir + "/cache"
      let encoder = try FrozenEncoder.load(
        directory: dir + "/enc", maxLength: 16, threads: 2, cacheDirectory: cache)
      let corpus = try TrainingFixtures.keywordCorpus(count: 120, seed: 3)
      let config = TrainingFixtures.config(epochs: 4, dim: 8, crossFit: 2, crossFitEpochs: 2)
      var notes: [String] = []
      let model = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config, encoder: encoder
      ) { if case .note(let s) = $0 { notes.append(s) } }
      XCTAssertEqual(model.classifier.encoderDim, 8)
      XCTAssertTrue(model.classifier.encoderWeights.contains { $0 != 0 }, "W_u trained")
      XCTAssertEqual(model.metadata.encoder?.weightsSHA256, encoder.weightsSHA256)
      XCTAssertTrue(notes.contains { $0.contains("120 training texts encoded") }, "\(notes)")

      // A second run reads the vectors from the cache and gives the same bytes.
      var again: [String] = []
      let second = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config, encoder: encoder
      ) { if case .note(let s) = $0 { again.append(s) } }
      XCTAssertTrue(again.contains { $0.contains("read from the cache") }, "\(again)")
      XCTAssertTrue(try ModelFile.encode(model) == ModelFile.encode(second))

      // A checkpoint of this run is refused when resumed with other encoder weights.
      let ckpt = dir + "/run.checkpoint"
      _ = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config, encoder: encoder,
        checkpointing: .init(path: ckpt))
      let other = try FrozenEncoder.load(
        directory: dir + "/other", maxLength: 16, threads: 2, cacheDirectory: cache)
      expectInputError("resume with other encoder weights") {
        _ = try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config, encoder: other,
          checkpointing: .init(path: ckpt, resume: true))
      }

      // The model file keeps W_u and the encoder's identity.
      let back = try ModelFile.decode(try ModelFile.encode(model), path: "m")
      XCTAssertEqual(back.classifier, model.classifier)
      XCTAssertEqual(back.metadata.encoder, model.metadata.encoder)

      // Predicting needs the encoder, and only the same weights.
      let texts = KeywordCorpus.named(count: 30, seed: 9)
      expectInputError("no encoder") {
        _ = try Predictor(model: back, threads: 1).probabilities(texts.map(\.text))
      }
      let info = try XCTUnwrap(back.metadata.encoder)
      let e = expectInputError("other weights") {
        _ = try FrozenEncoder.load(
          for: info, directory: dir + "/other", threads: 1, cacheDirectory: nil)
      }
      XCTAssertTrue(e?.description.contains("not the ones the model was trained with") ?? false)
      // The same weights beside another vocab.txt are refused too.
      XCTAssertNotNil(info.setupChecksum)
      try FileManager.default.copyItem(atPath: dir + "/enc", toPath: dir + "/edited")
      var vocab = EncoderTests.tinyVocab
      vocab.swapAt(vocab.count - 1, vocab.count - 2)
      try writeFile(dir + "/edited/vocab.txt", vocab.joined(separator: "\n") + "\n")
      let edited = expectInputError("other vocab.txt") {
        _ = try FrozenEncoder.load(
          for: info, directory: dir + "/edited", threads: 1, cacheDirectory: nil)
      }
      XCTAssertTrue(edited?.description.contains("config.json and vocab.txt") ?? false)
      var old = info
      old.setupChecksum = nil  // a model written before the checksum was recorded
      XCTAssertNoThrow(
        try FrozenEncoder.load(
          for: old, directory: dir + "/edited", threads: 1, cacheDirectory: nil))
      let same = try FrozenEncoder.load(for: info, threads: 1, cacheDirectory: nil)
      let probs = try Predictor(model: back, threads: 1, encoder: same)
        .probabilities(texts.map(\.text))
      let gold = texts.map { Int32(back.labels.firstIndex(of: $0.label)!) }
      let metrics = Metrics(probabilities: probs, gold: gold, classes: back.labels.count)
      XCTAssertGreaterThan(metrics.accuracy, 0.9)
    }
  }
}
