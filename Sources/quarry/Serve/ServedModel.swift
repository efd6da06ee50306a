import Foundation
import Quarry
import Synchronization

/// A model as the server answers from it: the decoded model, the sha256 of its file's
/// bytes, and the `GET /v1/model` body. Immutable: a reload makes a new one.
final class ServedModel: Sendable {
  let model: Model
  let sha256: String
  let infoJSON: String

  /// Reads and checks `path` (magic, version, checksum) as `predict` does. A model that
  /// reads an encoder's vectors is refused: the server does not run the encoder.
  init(path: String) throws {
    let bytes = try FileBytes.read(path)
    let model = try ModelFile.decode(bytes, path: path)
    guard model.classifier.encoderDim == 0 else {
      throw InputError(
        path: path,
        "this model reads an encoder's vectors, which serve does not run yet: use quarry predict")
    }
    self.model = model
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
  private let current: Mutex<ServedModel>

  init(path: String) throws {
    self.path = path
    current = Mutex(try ServedModel(path: path))
  }

  var model: ServedModel { current.withLock { $0 } }

  /// Reads the file again and, if it is a model the server can run, serves it from the
  /// next request on. A file that fails to load leaves the old model serving; the error
  /// names the file and what is wrong.
  func reload() throws -> ServedModel {
    let fresh = try ServedModel(path: path)
    current.withLock { $0 = fresh }
    return fresh
  }
}
