import Foundation
import XCTest

@testable import Quarry

final class CheckpointTests: XCTestCase {
  func testResumeAfterStopGivesTheSameModelBytes() throws {
    let corpus = try TrainingFixtures.noisyKeywordCorpus()
    let config = TrainingFixtures.fullRunConfig()
    let uninterrupted = try ModelFile.encode(
      try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config))
    try withTemporaryDirectory { dir in
      let ckpt = dir + "/run.checkpoint"
      // Stop in the middle of epoch 4: five batches after epoch 3 ended.
      var epochsDone = 0
      var batchesAfter = 0
      let stop = {
        if epochsDone >= 3 { batchesAfter += 1 }
        return batchesAfter > 5
      }
      XCTAssertThrowsError(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt), shouldStop: stop
        ) { if case .training(.epoch) = $0 { epochsDone += 1 } }
      ) { error in
        XCTAssertEqual(error as? Stopped, Stopped(.epoch(4)), "\(error)")
      }
      let (state, _) = try CheckpointFile.read(ckpt)
      XCTAssertEqual(state.epoch, 3)
      XCTAssertEqual(state.summaries.count, 3)
      XCTAssertEqual(state.dynamics.epochs, 3)
      XCTAssertNotNil(state.best)

      var notes: [String] = []
      let resumed = try ModelFile.encode(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt, resume: true)
        ) { if case .note(let s) = $0 { notes.append(s) } })
      XCTAssertTrue(notes.contains { $0.contains("after epoch 3") }, "\(notes)")
      XCTAssertEqual(resumed.count, uninterrupted.count)
      XCTAssertTrue(resumed == uninterrupted, "the resumed run's model differs")
      // The last checkpoint is the final epoch's.
      XCTAssertEqual(try CheckpointFile.read(ckpt).state.epoch, 6)
    }
  }

  /// With a long interval between writes, a run writes no checkpoint while it trains, but a
  /// stop still leaves the state after its last whole epoch, and resuming from it gives
  /// the bytes of a run that never stopped.
  func testLongIntervalWritesNothingUntilAStop() throws {
    let corpus = try TrainingFixtures.noisyKeywordCorpus()
    let config = TrainingFixtures.fullRunConfig()
    let uninterrupted = try ModelFile.encode(
      try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config))
    try withTemporaryDirectory { dir in
      let ckpt = dir + "/run.checkpoint"
      var epochsDone = 0
      var batchesAfter = 0
      var seenOnDisk = false
      let stop = {
        if epochsDone >= 4 { batchesAfter += 1 }  // in epoch 5
        seenOnDisk = seenOnDisk || FileManager.default.fileExists(atPath: ckpt)
        return batchesAfter > 2
      }
      XCTAssertThrowsError(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt, interval: 3600), shouldStop: stop
        ) { if case .training(.epoch) = $0 { epochsDone += 1 } })
      XCTAssertFalse(seenOnDisk, "a checkpoint was written before the interval passed")
      XCTAssertEqual(try CheckpointFile.read(ckpt).state.epoch, 4)
      let resumed = try ModelFile.encode(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt, interval: 3600, resume: true)))
      XCTAssertTrue(resumed == uninterrupted, "the resumed run's model differs")
      // The resumed run was not stopped: it left the stopped run's checkpoint as it was.
      XCTAssertEqual(try CheckpointFile.read(ckpt).state.epoch, 4)
    }
  }

  /// Resuming from the final epoch's state (a run stopped while cross-fitting) trains no
  /// more and gives the same model.
  func testResumeFromTheLastEpochTrainsNoMore() throws {
    let corpus = try TrainingFixtures.noisyKeywordCorpus()
    var config = TrainingFixtures.fullRunConfig()
    config.epochs = 3
    try withTemporaryDirectory { dir in
      let ckpt = dir + "/run.checkpoint"
      let first = try ModelFile.encode(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt)))
      var epochs = 0
      let again = try ModelFile.encode(
        try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt, resume: true)
        ) { if case .training(.epoch) = $0 { epochs += 1 } })
      XCTAssertEqual(epochs, 0)
      XCTAssertTrue(first == again)
    }
  }

  func testResumeRefusesACheckpointOfOtherSettings() throws {
    let corpus = try TrainingFixtures.noisyKeywordCorpus()
    var config = TrainingFixtures.fullRunConfig()
    config.epochs = 2
    config.crossFit = 0
    try withTemporaryDirectory { dir in
      let ckpt = dir + "/run.checkpoint"
      _ = try Finetune.run(
        train: corpus, valid: nil, pretrained: nil, config: config,
        checkpointing: .init(path: ckpt))
      config.learningRate *= 2
      let e = expectInputError("other settings") {
        _ = try Finetune.run(
          train: corpus, valid: nil, pretrained: nil, config: config,
          checkpointing: .init(path: ckpt, resume: true))
      }
      XCTAssertEqual(e?.path, ckpt)
      XCTAssertTrue(
        e?.description.contains("other data, settings") ?? false, "\(String(describing: e))")
    }
  }

  func testCheckpointRoundTripsAndRefusesDamage() throws {
    var rng = SplitMix64(seed: 3)
    var model = Classifier(
      classes: 3, featureCount: 10, wordCount: 4, dim: 2, embedding: randomFloats(8, &rng))
    model.wide = randomFloats(30, &rng)
    model.dense = randomFloats(6, &rng)
    var dynamics = Dynamics(rows: 5)
    dynamics.record(
      probabilities: randomFloats(15, &rng).map { abs($0) }, labels: [0, 1, 2, 0, 1], classes: 3)
    let state = TrainerState(
      epoch: 1, model: model, rngState: 0xFEDC_BA98_7654_3210, order: [3, 1, 4, 0, 2], step: 7,
      summaries: [EpochSummary(epoch: 1, loss: 0.5, isBest: true)],
      best: .init(model: model, epoch: 1, loss: 0.25), dynamics: dynamics, learningRate: 0.25)
    let bytes = try CheckpointFile.encode(state, fingerprint: "abc")
    let (back, fingerprint) = try CheckpointFile.decode(bytes, path: "c")
    XCTAssertEqual(back, state)
    XCTAssertEqual(back.learningRate, 0.25)
    XCTAssertEqual(fingerprint, "abc")

    var flipped = bytes
    flipped[bytes.count / 2] ^= 0x10
    XCTAssertTrue(
      expectInputError("bit flip") { _ = try CheckpointFile.decode(flipped, path: "c") }?
        .description.contains("checksum") ?? false)
    expectInputError("truncated") {
      _ = try CheckpointFile.decode(Array(bytes.prefix(bytes.count - 9)), path: "c")
    }
    expectInputError("a model file is not a checkpoint") {
      _ = try CheckpointFile.decode(Array("QUARRYMF".utf8) + bytes.dropFirst(8), path: "c")
    }
    var newer = bytes
    newer[8] = 9
    XCTAssertTrue(
      expectInputError("newer version") { _ = try CheckpointFile.decode(newer, path: "c") }?
        .description.contains("upgrade quarry") ?? false)
  }
}
