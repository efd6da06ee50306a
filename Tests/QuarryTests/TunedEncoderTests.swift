import Foundation
import XCTest

@testable import Quarry

/// finetune with the encoder's top layers tuned: the tuned layers reach the model file and
/// back, the classifier is the n-gram model plus the tuned head, the tuning is cached, and
/// predict runs the tuned layers. A tiny random BERT of two layers stands in for MiniLM.
final class TunedEncoderTests: XCTestCase {
  func testTunedLayersReachTheModelAndPredict() throws {
    try withTemporaryDirectory { dir in
      _ = try FrozenEncoderTests.writeTinyCheckpoint(dir + "/enc", seed: 1, layers: 2)
      let cache = dir + "/cache"
      let encoder = try FrozenEncoder.load(
        directory: dir + "/enc", maxLength: 16, threads: 2, cacheDirectory: cache)
      let corpus = try TrainingFixtures.keywordCorpus(count: 90, seed: 3)
      let config = TrainingFixtures.config(epochs: 4, dim: 8, crossFit: 0)
      let tuning = LayerTuner.Options(
        layers: 1, epochs: 2, learningRate: 1e-3, batchSize: 8, threads: 2)
      var notes: [String] = []
      let model = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config, encoder: encoder,
        tuning: tuning
      ) { if case .note(let s) = $0 { notes.append(s) } }

      // One layer tuned: the top one changed, and the model says which and holds it.
      let info = try XCTUnwrap(model.metadata.encoder)
      XCTAssertEqual(info.tunedLayers, 1)
      XCTAssertEqual(model.tunedLayers.count, 1)
      XCTAssertNotEqual(model.tunedLayers[0].qkv, encoder.encoder.weights.layers[1].qkv)
      XCTAssertEqual(info.tunedChecksum, BertLayerWeights.checksum(model.tunedLayers))
      XCTAssertTrue(notes.contains { $0.contains("tuning epoch 2/2") }, "\(notes)")

      // The model file keeps the tuned layers; a changed one is refused.
      let bytes = try ModelFile.encode(model)
      XCTAssertEqual(bytes[8], 2, "a model with tuned layers is format version 2")
      let plain = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
      XCTAssertEqual(try ModelFile.encode(plain)[8], 1)
      let back = try ModelFile.decode(bytes, path: "m")
      XCTAssertEqual(back.tunedLayers.map(\.ffnOut), model.tunedLayers.map(\.ffnOut))
      XCTAssertEqual(back.metadata.encoder, info)
      var other = model
      other.tunedLayers[0].ffnOutBias[0] += 1
      expectInputError("tuned layers against their checksum") {
        _ = try ModelFile.decode(try ModelFile.encode(other), path: "m")
      }

      // The tuned encoder's vectors differ from the frozen one's.
      let tuned = try FrozenEncoder.load(for: info, threads: 1, cacheDirectory: nil)
        .tuned(back.tunedLayers)
      XCTAssertEqual(tuned.info, info)
      XCTAssertNotEqual(
        try encoder.vectors(corpus.examples.map(\.text)).vectors,
        try tuned.vectors(corpus.examples.map(\.text)).vectors)

      // The classifier is the n-gram model trained alone, plus the tuned head: W_u is the
      // head, and the bias the sum of both.
      let (_, head) = try Finetune.tuneNoting(
        encoder, corpus.examples.map(\.text), labels: try model.goldLabels(of: corpus),
        classes: 3, options: tuning, progress: { _ in })
      XCTAssertEqual(model.classifier.wide, plain.classifier.wide)
      XCTAssertEqual(model.classifier.embedding, plain.classifier.embedding)
      XCTAssertEqual(model.classifier.encoderWeights, head.head)
      XCTAssertEqual(
        model.classifier.bias, zip(plain.classifier.bias, head.headBias).map { $0 + $1 })

      // A second finetune reads the tuning from the cache and writes the same bytes.
      var again: [String] = []
      let second = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config, encoder: encoder,
        tuning: tuning
      ) { if case .note(let s) = $0 { again.append(s) } }
      XCTAssertTrue(again.contains { $0.contains("as tuned before") }, "\(again)")
      XCTAssertTrue(try ModelFile.encode(second) == bytes)

      // predict runs the tuned layers and classifies the keywords.
      let texts = KeywordCorpus.named(count: 30, seed: 9)
      let probs = try Predictor(model: back, threads: 1, encoder: tuned)
        .probabilities(texts.map(\.text))
      let gold = texts.map { Int32(back.labels.firstIndex(of: $0.label)!) }
      XCTAssertGreaterThan(
        Metrics(probabilities: probs, gold: gold, classes: 3).accuracy, 0.9)

      // A stop request ends the tuning (SIGINT in the CLI) before any model exists.
      XCTAssertThrowsError(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          encoder: try FrozenEncoder.load(
            directory: dir + "/enc", maxLength: 16, threads: 2, cacheDirectory: nil),
          tuning: tuning, shouldStop: { true })
      ) { XCTAssertTrue($0 is Stopped, "\($0)") }

      // Layers of another shape do not fit this encoder.
      var wide = back.tunedLayers
      wide[0].ffnIn += [0]
      expectInputError("tuned layers of another shape") {
        _ = try FrozenEncoder.load(for: info, threads: 1, cacheDirectory: nil).tuned(wide)
      }
    }
  }

  /// With a validation corpus, each epoch's validation figures are the whole model's: the
  /// n-gram classifier of that epoch joined to the tuned head, as the model file has it.
  func testValidationScoresTheModelWithItsTunedHead() throws {
    try withTemporaryDirectory { dir in
      _ = try FrozenEncoderTests.writeTinyCheckpoint(dir + "/enc", seed: 1, layers: 2)
      let encoder = try FrozenEncoder.load(
        directory: dir + "/enc", maxLength: 16, threads: 2, cacheDirectory: nil)
      let train = try TrainingFixtures.keywordCorpus(count: 90, seed: 3)
      let valid = try TrainingFixtures.keywordCorpus(count: 30, seed: 4, path: "v.tsv")
      let config = TrainingFixtures.config(epochs: 3, dim: 8, crossFit: 0)
      let model = try Finetune.run(
        train: train, valid: valid, pretrained: nil, config: config, encoder: encoder,
        tuning: LayerTuner.Options(
          layers: 1, epochs: 2, learningRate: 1e-3, batchSize: 8, threads: 2))
      let best = try XCTUnwrap(model.metadata.epochs.first { $0.epoch == model.metadata.bestEpoch })
      let tuned = try FrozenEncoder.load(
        for: try XCTUnwrap(model.metadata.encoder), threads: 2, cacheDirectory: nil
      ).tuned(model.tunedLayers)
      let probs = try Predictor(model: model, threads: 1, encoder: tuned)
        .probabilities(valid.examples.map(\.text))
      let gold = try model.goldLabels(of: valid)
      let loss = Trainer.meanLoss(probabilities: probs, gold: gold, classes: 3)
      XCTAssertEqual(try XCTUnwrap(best.validLoss), loss, accuracy: 1e-6)
      XCTAssertEqual(
        try XCTUnwrap(best.validAccuracy),
        Metrics(probabilities: probs, gold: gold, classes: 3).accuracy, accuracy: 1e-6)
    }
  }

  /// A corrupt directory that points every tuned tensor at the same bytes is refused
  /// before anything the size of the layers is allocated.
  func testTunedLayersLargerThanTheFileAreRefused() throws {
    // Each tensor fits the section on its own (all start at its first byte); together
    // they need four times its size.
    let counts = BertLayerWeights.tensorCounts(hidden: 8, intermediate: 16)
    var t = TensorFile.Builder()
    t.add("blob", [Float](repeating: 0, count: counts.max()!))
    let entries = zip(BertLayerWeights.tensorNames, counts).map { name, count in
      var e = t.entries[0]
      e.name = "encoder.tuned.0.\(name)"
      e.count = count
      return e
    }
    let bytes = TensorFile.encode(
      magic: FileKind.model.magic!, version: 2, metadata: Array("{}".utf8), section: t.section)
    let file = try TensorFile.parse(
      FileContents(bytes), path: "m", magic: FileKind.model.magic!, maxVersion: 2, kind: "model file")
    expectInputError("tuned layers need more bytes than the file has") {
      _ = try BertLayerWeights.read(file, prefix: "encoder.tuned", count: 1, hidden: 8, in: entries)
    }
  }
}
