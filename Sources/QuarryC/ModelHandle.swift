import Foundation
import Quarry

/// A loaded model behind the C ABI's opaque pointer. It owns the model and its labels as
/// NUL-terminated UTF-8 strings, which stay valid until `quarry_model_free`. Immutable
/// after `init`, so several threads may predict with one handle at the same time.
final class ModelHandle {
  let model: Model
  let labels: [UnsafeMutablePointer<CChar>]

  /// Reads, checks (header, checksum) and decodes the model file at `path`. Errors name the
  /// file and what is wrong with it, as `quarry predict` says them.
  init(path: String) throws {
    let model = try ModelFile.read(path)
    guard model.classifier.encoderDim == 0 else {
      throw InputError(
        path: path,
        "this model reads an encoder's vectors, which the C library does not run yet: use quarry predict"
      )
    }
    self.model = model
    labels = model.labels.map { strdup($0)! }
  }

  deinit { labels.forEach { free($0) } }

  var classes: Int { model.classifier.classes }

  /// Calls `body` with each block of texts and the index of its first text. Text i is the
  /// UTF-8 bytes `bytes[offsets[i] ..< offsets[i + 1]]`; bytes that are not UTF-8 become
  /// U+FFFD, as Swift decodes them.
  func forEachBlock(
    bytes: UnsafePointer<UInt8>?, offsets: UnsafePointer<Int64>, count: Int,
    _ body: ([String], Int) throws -> Void
  ) throws {
    guard offsets[0] >= 0 else { throw CallError("offsets[0] is \(offsets[0]), not ≥ 0") }
    for i in 0..<count where offsets[i + 1] < offsets[i] {
      throw CallError("offsets must not decrease: offsets[\(i + 1)] < offsets[\(i)]")
    }
    guard bytes != nil || offsets[count] == 0 else {
      throw CallError("texts is NULL but offsets say \(offsets[count]) bytes")
    }
    for start in stride(from: 0, to: count, by: Predictor.blockSize) {
      let end = min(count, start + Predictor.blockSize)
      let texts = (start..<end).map { i -> String in
        let from = Int(offsets[i])
        let n = Int(offsets[i + 1]) - from
        guard n > 0, let bytes else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes + from, count: n), as: UTF8.self)
      }
      try body(texts, start)
    }
  }
}

/// A misuse of the C ABI (a NULL pointer, bad offsets, k out of range).
struct CallError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
