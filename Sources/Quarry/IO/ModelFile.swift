import Foundation

/// The model file, one file:
///
///   "QUARRYMF"  8 bytes magic
///   version     u32 little-endian (this code writes and reads 1)
///   reserved    u32 zero
///   metaLength  u64 little-endian
///   metadata    `metaLength` bytes of JSON (`ModelMetadata`)
///   padding     zero bytes up to a multiple of 8
///   tensors     little-endian data, each at `TensorEntry.offset` from here
///   checksum    u64 little-endian `Checksum` of every byte before it
///
/// `write` builds the bytes, writes them to a temporary name beside the target and renames
/// it, so a crash never leaves half a model under the real name. `read` checks the
/// checksum first, then every length and shape, and throws `InputError` on any mismatch.
public enum ModelFile {
  public static let magic: [UInt8] = Array("QUARRYMF".utf8)
  public static let version: UInt32 = 1

  public static func encode(_ model: Model) throws -> [UInt8] {
    var meta = model.metadata
    meta.tensors = []  // a decoded model carries the directory of its old file
    var section: [UInt8] = []
    func add(_ name: String, _ dtype: String, _ count: Int, _ body: (inout [UInt8]) -> Void) {
      meta.tensors.append(.init(name: name, dtype: dtype, count: count, offset: section.count))
      body(&section)
      while section.count % 8 != 0 { section.append(0) }
    }
    let c = model.classifier
    let v = model.vocabulary
    add("wide", "f32", c.wide.count) { appendLE(&$0, c.wide) }
    add("embedding", "f32", c.embedding.count) { appendLE(&$0, c.embedding) }
    add("dense", "f32", c.dense.count) { appendLE(&$0, c.dense) }
    add("bias", "f32", c.bias.count) { appendLE(&$0, c.bias) }
    add("idf", "f32", v.idf.count) { appendLE(&$0, v.idf) }
    add("index.keys", "u64", v.index.slotKeys.count) { appendLE(&$0, v.index.slotKeys) }
    add("index.rows", "i32", v.index.slotRows.count) { appendLE(&$0, v.index.slotRows) }
    if let dyn = model.dynamics, let lines = model.trainLines {
      add("dynamics.lines", "i32", lines.count) { appendLE(&$0, lines) }
      add("dynamics.pgold", "f32", dyn.pGold.count) { appendLE(&$0, dyn.pGold) }
      add("dynamics.predicted", "i32", dyn.predicted.count) { appendLE(&$0, dyn.predicted) }
      if let held = model.heldOut, held.count == lines.count * c.classes {
        add("heldout.probs", "f32", held.count) { appendLE(&$0, held) }
      }
    }

    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = [UInt8](try encoder.encode(meta))
    var out: [UInt8] = magic
    out.reserveCapacity(32 + json.count + section.count)
    appendLE(&out, [version, 0])
    appendLE(&out, [UInt64(json.count)])
    out += json
    while out.count % 8 != 0 { out.append(0) }
    out += section
    appendLE(&out, [Checksum.of(out)])
    return out
  }

  /// Writes `model` to `path` atomically (temporary file in the same directory, renamed).
  public static func write(_ model: Model, to path: String) throws {
    let bytes = try encode(model)
    try AtomicFile.write(bytes, to: path)
  }

  public static func read(_ path: String) throws -> Model {
    try decode(try FileBytes.read(path), path: path)
  }

  public static func decode(_ bytes: [UInt8], path: String) throws -> Model {
    func fail(_ m: String) -> InputError { InputError(path: path, "not a valid model file: \(m)") }
    guard bytes.count >= 32, Array(bytes[0..<8]) == magic else {
      throw fail("it does not start with the Quarry model header")
    }
    let version = readLE(bytes, 8, as: UInt32.self)
    guard version <= ModelFile.version else {
      throw InputError(
        path: path,
        "model file version \(version) is newer than this quarry reads (\(ModelFile.version)); upgrade quarry"
      )
    }
    guard version >= 1 else { throw fail("version \(version)") }
    let stored = readLE(bytes, bytes.count - 8, as: UInt64.self)
    let actual = bytes.withUnsafeBytes {
      Checksum.of(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)]))
    }
    guard stored == actual else {
      throw fail("checksum mismatch (the file is truncated or corrupt)")
    }
    let metaLength = readLE(bytes, 16, as: UInt64.self)
    guard metaLength <= UInt64(bytes.count - 32) else {
      throw fail("metadata length \(metaLength)")
    }
    let metaEnd = 24 + Int(metaLength)
    let meta: ModelMetadata
    do {
      meta = try JSONDecoder().decode(ModelMetadata.self, from: Data(bytes[24..<metaEnd]))
    } catch {
      throw fail("metadata does not decode (\(error))")
    }
    let sectionStart = (metaEnd + 7) / 8 * 8
    let sectionEnd = bytes.count - 8
    guard sectionStart <= sectionEnd else { throw fail("no tensor section") }

    func tensor(_ name: String, _ dtype: String, _ count: Int) throws -> Range<Int> {
      guard let t = meta.tensors.first(where: { $0.name == name }) else {
        throw fail("tensor '\(name)' missing")
      }
      let width = dtype == "u64" ? 8 : 4
      let available = sectionEnd - sectionStart
      guard t.dtype == dtype, t.count == count else {
        throw fail("tensor '\(name)' is \(t.dtype)[\(t.count)], expected \(dtype)[\(count)]")
      }
      guard count >= 0, count <= available / width, t.offset >= 0,
        t.offset <= available - count * width
      else {
        throw fail(
          "tensor '\(name)' (\(count) values at offset \(t.offset)) lies outside the \(available)-byte tensor section"
        )
      }
      let s = sectionStart + t.offset
      return s..<(s + count * width)
    }
    let c = meta.classes
    let d = meta.dim
    let f = meta.featureCount
    let w = meta.wordCount
    guard c >= 2, c == meta.labels.count, d >= 1, d <= 1 << 16, f >= w, w >= 0, f <= 1 << 31
    else {
      throw fail(
        "shape classes \(c) / labels \(meta.labels.count), dim \(d), features \(f), words \(w)")
    }
    let fc = meta.config.features
    guard (1...5).contains(fc.wordNgrams),
      (fc.charNgramMin == 0 && fc.charNgramMax == 0)
        || (1...10).contains(fc.charNgramMin) && (fc.charNgramMin...10).contains(fc.charNgramMax)
    else {
      throw fail(
        "feature settings: word n-grams \(fc.wordNgrams), character n-grams \(fc.charNgramMin)-\(fc.charNgramMax)"
      )
    }
    guard Set(meta.labels).count == meta.labels.count, !meta.labels.contains("") else {
      throw fail("labels are empty or repeated")
    }
    let keysEntry = meta.tensors.first { $0.name == "index.keys" }
    let slots = keysEntry?.count ?? 0
    let wide: [Float] = loadLE(bytes, try tensor("wide", "f32", f * c))
    let embedding: [Float] = loadLE(bytes, try tensor("embedding", "f32", w * d))
    let dense: [Float] = loadLE(bytes, try tensor("dense", "f32", c * d))
    let bias: [Float] = loadLE(bytes, try tensor("bias", "f32", c))
    let idf: [Float] = loadLE(bytes, try tensor("idf", "f32", f))
    let keys: [UInt64] = loadLE(bytes, try tensor("index.keys", "u64", slots))
    let rows: [Int32] = loadLE(bytes, try tensor("index.rows", "i32", slots))
    guard let index = FeatureIndex(slotKeys: keys, slotRows: rows, count: f) else {
      throw fail("feature index does not hold \(f) features")
    }
    guard
      let classifier = Classifier(
        classes: c, featureCount: f, wordCount: w, dim: d, wide: wide, embedding: embedding,
        dense: dense, bias: bias)
    else { throw fail("weights do not fit the shapes") }
    // Training dynamics, when the file has them.
    var dynamics: Dynamics? = nil
    var trainLines: [Int32]? = nil
    var heldOut: [Float]? = nil
    if let linesEntry = meta.tensors.first(where: { $0.name == "dynamics.lines" }) {
      let rows = linesEntry.count
      let cells = meta.tensors.first { $0.name == "dynamics.pgold" }?.count ?? -1
      guard rows > 0, cells >= 0, cells % rows == 0 else { throw fail("dynamics shapes") }
      let lines: [Int32] = loadLE(bytes, try tensor("dynamics.lines", "i32", rows))
      let pGold: [Float] = loadLE(bytes, try tensor("dynamics.pgold", "f32", cells))
      let predicted: [Int32] = loadLE(bytes, try tensor("dynamics.predicted", "i32", cells))
      guard predicted.allSatisfy({ $0 >= 0 && Int($0) < c }),
        let d = Dynamics(rows: rows, pGold: pGold, predicted: predicted)
      else { throw fail("dynamics values") }
      dynamics = d
      trainLines = lines
      if meta.tensors.contains(where: { $0.name == "heldout.probs" }) {
        let held: [Float] = loadLE(bytes, try tensor("heldout.probs", "f32", rows * c))
        guard held.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
          throw fail("held-out probabilities")
        }
        heldOut = held
      }
    }
    return Model(
      metadata: meta, vocabulary: Vocabulary(index: index, wordCount: w, idf: idf),
      classifier: classifier, dynamics: dynamics, trainLines: trainLines, heldOut: heldOut)
  }
}

/// Little-endian encoding of fixed-width values (the host is little-endian on every
/// platform Quarry builds for; `littleEndian` keeps that explicit).
func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ values: [T]) {
  values.withUnsafeBufferPointer { b in
    let le = b.map { $0.littleEndian }
    le.withUnsafeBytes { out.append(contentsOf: $0) }
  }
}

func appendLE(_ out: inout [UInt8], _ values: [Float]) {
  values.withUnsafeBytes { raw in
    if UInt32(1).littleEndian == 1 {
      out.append(contentsOf: raw)
    } else {
      appendLE(&out, values.map { $0.bitPattern })
    }
  }
}

func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], _ at: Int, as: T.Type) -> T {
  bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
}

func loadLE<T: FixedWidthInteger>(_ bytes: [UInt8], _ r: Range<Int>) -> [T] {
  let n = r.count / MemoryLayout<T>.size
  var out = [T](repeating: 0, count: n)
  out.withUnsafeMutableBytes { dst in
    bytes.withUnsafeBytes { src in
      dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[r]))
    }
  }
  return UInt32(1).littleEndian == 1 ? out : out.map { T(littleEndian: $0) }
}

func loadLE(_ bytes: [UInt8], _ r: Range<Int>) -> [Float] {
  let bits: [UInt32] = loadLE(bytes, r)
  return UInt32(1).littleEndian == 1
    ? bits.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    : bits.map { Float(bitPattern: $0) }
}
