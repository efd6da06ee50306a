// libFuzzer target for the model-file reader (`ModelFile.decode`) and, for inputs that
// start with the checkpoint's magic "QUARRYCK", the checkpoint reader
// (`CheckpointFile.decode`), which shares the model file's container.
//
// The input is a model file, except that its last 8 bytes are replaced by the checksum of
// the bytes before them: without that, nearly every mutation would stop at the checksum
// and the checks behind it would never be reached. A model that decodes is then used
// (`Predictor` on two texts), so that a file which passes the checks but does not hold
// together shows up here too. A thrown error is the right answer to bad input; a crash,
// trap or sanitizer report is a bug. Built and run by Scripts/fuzz (not by SwiftPM).
//
// With QUARRY_FUZZ_WRITE_SEEDS=DIR in the environment, the binary instead trains three
// small models (with and without training dynamics, character n-grams, cross-fitting) and
// a run that leaves a checkpoint, writes them into DIR as seeds, then exits. The corpus and
// settings come from Tests/QuarryTests/TrainingFixtures.swift, which Scripts/fuzz compiles in.
import Foundation
import Quarry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if bytes.count >= 8 {
    let sum = Checksum.of(Array(bytes[..<(bytes.count - 8)]))
    for i in 0..<8 { bytes[bytes.count - 8 + i] = UInt8(truncatingIfNeeded: sum >> (8 * i)) }
  }
  if bytes.starts(with: Array("QUARRYCK".utf8)) {
    if let (state, _) = try? CheckpointFile.decode(bytes, path: "fuzz.checkpoint") {
      // What decoding promises: a permutation, and weights that fit their shapes.
      precondition(state.order.count == Set(state.order).count)
      let m = state.model
      precondition(m.wide.count == m.featureCount * m.classes && m.dense.count == m.classes * m.dim)
    }
    return 0
  }
  do {
    let model = try ModelFile.decode(bytes, path: "fuzz.qmodel")
    let probs = try Predictor(model: model, threads: 1).probabilities([
      "the team won the match", "fresh bread and cheese, the bank raised rates",
    ])
    precondition(probs.count == 2 * model.labels.count)
  } catch {}
  return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
  guard let dir = ProcessInfo.processInfo.environment["QUARRY_FUZZ_WRITE_SEEDS"] else {
    return 0
  }
  do {
    let corpus = try TrainingFixtures.tinyCorpus(repeats: 8)
    var config = TrainingFixtures.config(epochs: 2, dim: 4, batchSize: 8, threads: 1, crossFit: 0)
    config.mine = false
    config.augment = false
    func write(_ name: String, _ config: TrainingConfig) throws {
      let model = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config)
      try Data(try ModelFile.encode(model)).write(to: URL(fileURLWithPath: dir + "/" + name))
    }
    try write("words.qmodel", config)
    config.features.charNgramMin = 3
    config.features.charNgramMax = 4
    config.validFraction = 0.25
    try write("chars-valid.qmodel", config)
    config.features.charNgramMin = 0
    config.features.charNgramMax = 0
    config.crossFit = 2
    config.crossFitEpochs = 1
    try write("crossfit.qmodel", config)
    // A checkpoint, with a validation share (so it holds the best epoch's weights too).
    config.crossFit = 0
    config.validFraction = 0.25
    _ = try Finetune.run(
      train: corpus, valid: nil, pretrained: nil, config: config,
      checkpointing: .init(path: dir + "/run.checkpoint"))
  } catch {
    FileHandle.standardError.write("seed model: \(error)\n".data(using: .utf8)!)
    _exit(1)
  }
  _exit(0)  // not exit: LeakSanitizer would report the globals still alive
}
