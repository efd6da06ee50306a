import Foundation

/// A pretrained encoder whose weights do not change while the classifier trains (frozen,
/// or with top layers already tuned: `tuned`): its mean-pooled vectors are computed once
/// per text list and cached on disk.
///
/// The weights are known by the sha256 of `model.safetensors`; a model records it and
/// refuses to run against other weights. The cache file of a text list is named by that
/// digest, a checksum of `config.json` and `vocab.txt` (which change the vectors as much as
/// the weights do), a checksum of the texts and the maximum length, so a second finetune of the same
/// corpus (or an evaluate of the same test file) reads vectors instead of encoding them. A
/// cache file that does not read back whole is ignored and rewritten.
public struct FrozenEncoder: Sendable {
  /// The encoder, with its top layers replaced when they were fine-tuned (`tuned`).
  public private(set) var encoder: BertEncoder
  public let directory: String
  public let weightsSHA256: String
  /// Checksum of the bytes of `config.json`, then `vocab.txt`: part of every cache key.
  public let setupChecksum: UInt64
  public var maxLength: Int
  public var threads: Int
  /// Where pooled vectors are cached; nil: no cache.
  public var cacheDirectory: String?
  /// The number of top layers replaced by fine-tuned ones (0: as read), and their checksum.
  public private(set) var tunedLayers = 0
  public private(set) var tunedChecksum = ""

  public static let pooling = Pooling.mean

  public static func load(
    directory: String, maxLength: Int = 256, threads: Int = 2, cacheDirectory: String? = nil
  ) throws -> FrozenEncoder {
    let encoder = try BertEncoder.load(directory: directory)
    let sha = try SHA256.hex(ofFile: encoder.source + "/model.safetensors")
    var setup = Checksum.Stream()
    for name in ["config.json", "vocab.txt"] {
      try FileBytes.read(encoder.source + "/" + name).withUnsafeBytes { setup.update($0) }
      withUnsafeBytes(of: UInt8(0)) { setup.update($0) }
    }
    return FrozenEncoder(
      encoder: encoder, directory: encoder.source, weightsSHA256: sha,
      setupChecksum: setup.finish(),
      maxLength: min(maxLength, encoder.config.maxPositions), threads: threads,
      cacheDirectory: cacheDirectory)
  }

  /// Loads the encoder a model was trained with, from `directory` (default: the folder the
  /// model names), refusing weights whose sha256 differs, or a config.json and vocab.txt
  /// whose checksum differs (when the model records one).
  public static func load(
    for info: ModelMetadata.EncoderInfo, directory: String? = nil, threads: Int,
    cacheDirectory: String?
  ) throws -> FrozenEncoder {
    let e = try load(
      directory: directory ?? info.path, maxLength: info.maxLength, threads: threads,
      cacheDirectory: cacheDirectory)
    guard e.weightsSHA256 == info.weightsSHA256 else {
      throw InputError(
        path: e.directory + "/model.safetensors",
        "these encoder weights (sha256 \(e.weightsSHA256.prefix(16))…) are not the ones the model was trained with (\(info.weightsSHA256.prefix(16))…)"
      )
    }
    let setup = String(e.setupChecksum, radix: 16)
    if let want = info.setupChecksum, want != setup {
      throw InputError(
        path: e.directory,
        "this encoder's config.json and vocab.txt (checksum \(setup)) are not the ones the model was trained with (\(want)), though its weights are: restore the model's copies"
      )
    }
    return e
  }

  public var hidden: Int { encoder.config.hidden }

  /// This encoder with its top `layers.count` layers replaced by `layers` (fine-tuned ones,
  /// from `LayerTuner` or a model file). Its vectors are cached apart from the frozen ones.
  public func tuned(_ layers: [BertLayerWeights]) throws -> FrozenEncoder {
    guard !layers.isEmpty else { return self }
    let c = encoder.config
    guard layers.count <= c.layers, layers.allSatisfy({ $0.fits(c) }) else {
      throw InputError(
        path: directory,
        "the model's \(layers.count) tuned layers do not fit this encoder (\(c.layers) layers, hidden \(c.hidden), feed-forward \(c.intermediate))"
      )
    }
    var e = self
    let first = c.layers - layers.count
    e.encoder = encoder.replacingTopLayers(
      TunedLayers(firstLayer: first, layers: layers, classes: 0, head: [], headBias: []))
    e.tunedLayers = layers.count
    e.tunedChecksum = BertLayerWeights.checksum(layers)
    return e
  }

  public var info: ModelMetadata.EncoderInfo {
    .init(
      path: directory, weightsSHA256: weightsSHA256, hidden: hidden, maxLength: maxLength,
      pooling: FrozenEncoder.pooling, tunedLayers: tunedLayers, tunedChecksum: tunedChecksum,
      setupChecksum: String(setupChecksum, radix: 16))
  }

  /// Mean-pooled vectors of `texts`, rows×H in input order, from the cache when it has
  /// them. `progress(done, total)` follows the encoding (not called on a cache hit).
  public func vectors(
    _ texts: [String], progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
  ) throws -> (vectors: [Float], cached: Bool) {
    let path = cachePath(texts)
    if let path, let v = readCache(path, rows: texts.count) { return (v, true) }
    let f = try encoder.encode(
      texts, options: EncodeOptions(maxLength: maxLength, batchSize: 32, threads: threads),
      progress: progress)
    if let path {
      // A cache that cannot be written only costs time next run.
      try? FileManager.default.createDirectory(
        atPath: cacheDirectory!, withIntermediateDirectories: true)
      try? writeCache(path, vectors: f.mean, rows: texts.count)
    }
    return (f.mean, false)
  }

  struct CacheMetadata: TensorMetadata {
    var weightsSHA256: String
    var maxLength, rows, hidden: Int
    var tensors: [ModelMetadata.TensorEntry] = []
  }

  func cachePath(_ texts: [String]) -> String? {
    guard let dir = cacheDirectory else { return nil }
    var sum = Checksum.Stream()
    withUnsafeBytes(of: setupChecksum.littleEndian) { sum.update($0) }
    FrozenEncoder.add(texts, to: &sum)
    let key = String(sum.finish(), radix: 16)
    let tuned = tunedLayers > 0 ? "-tuned\(tunedLayers)-\(tunedChecksum)" : ""
    return "\(dir)/\(weightsSHA256.prefix(16))\(tuned)-\(key)-\(texts.count)-\(maxLength).qfeat"
  }

  /// Adds each text's UTF-8 bytes and a 0 after it to `sum`.
  static func add(_ texts: [String], to sum: inout Checksum.Stream) {
    for t in texts {
      var t = t
      t.withUTF8 { sum.update(UnsafeRawBufferPointer($0)) }
      withUnsafeBytes(of: UInt8(0)) { sum.update($0) }
    }
  }

  func readCache(_ path: String, rows: Int) -> [Float]? {
    guard
      let (file, meta) = TensorFile.readCache(.featureCache, path: path, as: CacheMetadata.self),
      meta.weightsSHA256 == weightsSHA256, meta.maxLength == maxLength, meta.rows == rows,
      meta.hidden == hidden,
      let v = try? file.floats("mean", rows * hidden, in: meta.tensors)
    else { return nil }
    return v
  }

  func writeCache(_ path: String, vectors: [Float], rows: Int) throws {
    var t = TensorFile.Builder()
    t.add("mean", vectors)
    let meta = CacheMetadata(
      weightsSHA256: weightsSHA256, maxLength: maxLength, rows: rows, hidden: hidden)
    try TensorFile.write(.featureCache, metadata: meta, tensors: t, to: path, sync: false)
  }
}
