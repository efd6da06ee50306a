import Foundation
import Quarry
import Synchronization

/// A model as the server answers from it: the decoded model (with the encoder it reads,
/// if any), the sha256 of its file's bytes, and the `GET /v1/model` body. Immutable: a
/// reload makes a new one.
final class ServedModel: Sendable {
  let model: Model
  let encoder: FrozenEncoder?
  let sha256: String
  let infoJSON: String

  /// Reads and checks `path` (magic, version, checksum) as `predict` does. A model that
  /// reads an encoder's vectors loads it, from `encoderDirectory` or the folder the model
  /// names, checked against the weights it was trained with; encoded texts are not cached
  /// (a server's texts are not a corpus that comes back).
  init(path: String, encoderDirectory: String?, threads: Int) throws {
    let bytes = try FileBytes.read(path)
    let model = try ModelFile.decode(bytes, path: path)
    self.model = model
    if let info = model.metadata.encoder {
      // One thread: the server runs up to --threads batches at once, one thread each.
      encoder = try FrozenEncoder.load(
        for: info, directory: encoderDirectory, threads: 1, cacheDirectory: nil
      ).tuned(model.tunedLayers)
    } else {
      encoder = nil
    }
    sha256 = SHA256.hex(bytes)
    let meta = model.metadata
    let labels = model.labels.map(jsonString).joined(separator: ",")
    infoJSON =
      "{\"labels\":[\(labels)],\"classes\":\(model.labels.count),"
      + "\"sha256\":\(jsonString(sha256)),"
      + "\"quarry_version\":\(jsonString(meta.quarryVersion)),"
      + "\"trained_on\":{\"path\":\(jsonString(meta.corpus.path)),\"rows\":\(meta.corpus.rows)},"
      + "\"epochs\":\(meta.epochs.count),\"best_epoch\":\(meta.bestEpoch)}"
  }
}

/// The model now being served. A request takes the current one once, at its start, and
/// answers from it to the end, so a reload never mixes two models in one answer.
final class ModelSlot: Sendable {
  let path: String
  let encoderDirectory: String?
  let threads: Int
  private let current: Mutex<ServedModel>

  init(path: String, encoderDirectory: String?, threads: Int) throws {
    self.path = path
    self.encoderDirectory = encoderDirectory
    self.threads = threads
    current = Mutex(
      try ServedModel(path: path, encoderDirectory: encoderDirectory, threads: threads))
  }

  var model: ServedModel { current.withLock { $0 } }

  /// Reads the file again and, if it is a model the server can run, serves it from the
  /// next request on. A file that fails to load leaves the old model serving; the error
  /// names the file and what is wrong.
  func reload() throws -> ServedModel {
    let fresh = try ServedModel(path: path, encoderDirectory: encoderDirectory, threads: threads)
    current.withLock { $0 = fresh }
    return fresh
  }
}
