import Foundation

extension Finetune {
  /// The trainer's control for `checkpointing`: the state to resume from (checked against
  /// `fingerprint`), and a checkpoint writer that keeps the state after every epoch and
  /// writes it every `interval` seconds, and when the run stops early.
  static func trainerControl(
    _ checkpointing: Checkpointing, shouldStop: @escaping () -> Bool, progress: (Event) -> Void,
    fingerprint: String
  ) throws -> Trainer.Control {
    var out = Trainer.Control(shouldStop: shouldStop)
    guard let path = checkpointing.path else { return out }
    if checkpointing.resume {
      if FileManager.default.fileExists(atPath: path) {
        let (state, saved) = try CheckpointFile.read(path)
        guard saved == fingerprint else {
          throw InputError(
            path: path,
            "this checkpoint was saved by a run with other data, settings or initial weights; "
              + "run the same command as before, or run without --resume and with --force "
              + "to start afresh over it")
        }
        out.resume = state
        progress(.note("resuming from \(path) after epoch \(state.epoch)"))
      } else {
        progress(.note("no checkpoint at \(path): starting from the first epoch"))
      }
    }
    let writer = CheckpointFile.Writer(
      path: path, fingerprint: fingerprint, interval: checkpointing.interval)
    out.checkpoint = { try writer.save($0) }
    out.finish = { try writer.finish() }
    out.stopped = { try writer.flush() }
    return out
  }

  /// A digest of everything a run starts from: the settings (thread count excepted, which
  /// does not change the result), the training and validation corpora and their formats,
  /// the synonyms that joined the vocabulary, the encoder's weights, maximum length and
  /// tuned layers, and
  /// the initial weights (which hold the pretrained vectors).
  static func runFingerprint(
    config: TrainingConfig, corpus: Corpus, valid: Corpus?, initial: Classifier,
    extraWords: [String], encoder: ModelMetadata.EncoderInfo?
  ) -> String {
    let json = JSONEncoder()
    json.outputFormatting = [.sortedKeys]
    var bytes = [UInt8]((try? json.encode(config)) ?? Data())
    bytes += Array("|\(corpus.contentHashHex)|\(valid?.contentHashHex ?? "-")|".utf8)
    bytes += Array("\(corpus.format.rawValue)|\(valid?.format.rawValue ?? "-")|".utf8)
    if let encoder {
      bytes += Array(
        "\(encoder.weightsSHA256)|\(encoder.maxLength)|\(encoder.pooling.rawValue)|".utf8)
      bytes += Array("tuned \(encoder.tunedLayers) \(encoder.tunedChecksum)|".utf8)
    }
    bytes += Array(extraWords.joined(separator: "\n").utf8)
    let weights = initial.embedding.withUnsafeBytes { Checksum.of($0) }
    return String(format: "%016llx-%016llx", Checksum.of(bytes), weights)
  }
}
