import Foundation

/// A binary copy of a word-vector text file, so that it loads in a fraction of the time
/// of parsing it again: every word's key (`PretrainedVectors.wordKey`), in file order,
/// and its vector, in the `TensorFile` container (`FileKind.vectorCache`).
///
/// It is written only for a file whose every line parses (the text path checks only the
/// lines of the corpus's words, so a file with a bad line elsewhere keeps that leniency by
/// never being cached). It is named by a checksum of the source's absolute path, size and
/// modification time, and carries them: a changed source is parsed and cached afresh. A
/// cache file that does not read back whole is ignored.
enum VectorCache {
  struct Metadata: TensorMetadata {
    var source: String
    var size: Int
    var modified: Double
    var words, dim: Int
    /// How the keys were made: `PretrainedVectors.keyRule` (a cache made by another rule,
    /// or before there was one, is not read).
    var keys: String?
    var tensors: [ModelMetadata.TensorEntry] = []
  }

  /// The source's identity (absolute path, size, modification time), or nil.
  static func identity(of source: String) -> (path: String, size: Int, modified: Double)? {
    let url = URL(fileURLWithPath: source).standardizedFileURL
    guard let a = try? FileManager.default.attributesOfItem(atPath: url.path),
      let size = a[.size] as? Int, let date = a[.modificationDate] as? Date
    else { return nil }
    return (url.path, size, date.timeIntervalSince1970)
  }

  static func file(for source: String, in directory: String) -> String? {
    guard let id = identity(of: source) else { return nil }
    let key = Checksum.of(Array("\(id.path)|\(id.size)|\(id.modified)".utf8))
    let name = URL(fileURLWithPath: source).lastPathComponent
    return "\(directory)/\(name)-\(String(key, radix: 16)).qvec"
  }

  /// The vectors of `vocabulary`'s words from the cache of `source`, as `TextVectors.load`
  /// gives them; nil when there is no whole, current cache.
  static func load(
    source: String, directory: String, vocabulary: Vocabulary, into embedding: [Float], dim: Int
  ) -> PretrainedVectors.Result? {
    guard let path = file(for: source, in: directory), let id = identity(of: source),
      let mapped = try? MappedFile(path)
    else { return nil }
    return mapped.withBytes { buf -> PretrainedVectors.Result? in
      let raw = UnsafeRawBufferPointer(buf)
      func fail(_ m: String) -> InputError { InputError(path: path, m) }
      guard
        let (_, metaRange, section) = try? TensorFile.layout(
          raw, path: path, magic: FileKind.vectorCache.magic!, maxVersion: 1,
          kind: FileKind.vectorCache.noun),
        let meta = try? JSONDecoder().decode(
          Metadata.self, from: Data(UnsafeRawBufferPointer(rebasing: raw[metaRange]))),
        meta.source == id.path, meta.size == id.size, meta.modified == id.modified,
        meta.dim == dim, meta.keys == PretrainedVectors.keyRule, meta.words >= 0,
        meta.words <= section.count / 8,
        let keys = try? TensorFile.range(
          "keys", .u64, meta.words, in: meta.tensors, section: section, fail: fail),
        let vectors = try? TensorFile.range(
          "vectors", .f32, meta.words * dim, in: meta.tensors, section: section, fail: fail)
      else { return nil }
      var out = embedding
      var found = [Bool](repeating: false, count: vocabulary.wordCount)
      var duplicates = 0
      out.withUnsafeMutableBytes { dst in
        for i in 0..<meta.words {
          let k = UInt64(
            littleEndian: raw.loadUnaligned(
              fromByteOffset: keys.lowerBound + 8 * i, as: UInt64.self))
          let r = Int(vocabulary.index.row(k))
          guard r >= 0, r < vocabulary.wordCount else { continue }
          if found[r] {
            duplicates += 1
            continue
          }
          found[r] = true
          (dst.baseAddress! + r * dim * 4).copyMemory(
            from: raw.baseAddress! + vectors.lowerBound + i * dim * 4, byteCount: dim * 4)
        }
      }
      return PretrainedVectors.Result(
        embedding: out, dim: dim, found: found, fileWords: meta.words, duplicates: duplicates)
    }
  }

  /// Parses every line of `source` and writes its cache; does nothing when a line is bad
  /// or the cache cannot be written (it only costs time next run).
  static func build(source: String, directory: String, dim: Int, threads: Int) {
    guard let path = file(for: source, in: directory), let id = identity(of: source),
      let (keys, vectors) = try? TextVectors.loadAll(path: source, dim: dim, threads: threads)
    else { return }
    var t = TensorFile.Builder()
    t.add("keys", keys)
    t.add("vectors", vectors)
    let meta = Metadata(
      source: id.path, size: id.size, modified: id.modified, words: keys.count, dim: dim,
      keys: PretrainedVectors.keyRule)
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try? TensorFile.write(.vectorCache, metadata: meta, tensors: t, to: path, sync: false)
  }
}
