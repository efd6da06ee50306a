import Foundation

/// The container of Quarry's binary files (model, checkpoint, the three caches), each
/// kind a schema on it: its `FileKind`'s magic, a metadata type, and named tensors.
///
///   magic       8 bytes (`FileKind.magic`: "QUARRYMF" for a model, …)
///   version     u32 little-endian
///   reserved    u32 zero
///   metaLength  u64 little-endian
///   metadata    `metaLength` bytes of JSON, which lists the tensors (`TensorEntry`)
///   padding     zero bytes up to a multiple of 8
///   tensors     little-endian data, each at `TensorEntry.offset` from here, 8-aligned
///   checksum    u64 little-endian `Checksum` of every byte before it
enum TensorFile {
  typealias Entry = ModelMetadata.TensorEntry

  /// Collects tensors into the data section and their directory.
  struct Builder {
    var entries: [Entry] = []
    var section: [UInt8] = []

    init() {}

    /// Starts empty in `buffer`'s storage, which it takes over (its capacity kept, so
    /// refilling it each epoch touches no fresh pages); `buffer` is left empty.
    init(reusing buffer: inout [UInt8]) {
      swap(&section, &buffer)
      section.removeAll(keepingCapacity: true)
    }

    mutating func add(_ name: String, _ values: [Float]) {
      append(name, .f32, values.count) { appendLE(&$0, values) }
    }

    mutating func add(_ name: String, _ values: [Int32]) {
      append(name, .i32, values.count) { appendLE(&$0, values) }
    }

    mutating func add(_ name: String, _ values: [UInt64]) {
      append(name, .u64, values.count) { appendLE(&$0, values) }
    }

    private mutating func append(
      _ name: String, _ dtype: TensorDType, _ count: Int, _ body: (inout [UInt8]) -> Void
    ) {
      entries.append(.init(name: name, dtype: dtype, count: count, offset: section.count))
      body(&section)
      while section.count % 8 != 0 { section.append(0) }
    }
  }

  /// The whole file: header, `metadata` (JSON bytes), padding, `section`, checksum.
  static func encode(magic: [UInt8], version: UInt32, metadata: [UInt8], section: [UInt8])
    -> [UInt8]
  {
    concatenated(parts(magic: magic, version: version, metadata: metadata, section: section))
  }

  /// `parts` back to back in one array, copied a part at a time (not the byte-at-a-time
  /// copy of `Array(parts.joined())`: 228 M instructions for an R8 model, 6% of a
  /// 2-epoch finetune under callgrind).
  static func concatenated(_ parts: [[UInt8]]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for p in parts { out.append(contentsOf: p) }
    return out
  }

  /// The same file as `encode`, as three parts to write back to back: header and
  /// metadata (padded), `section` itself (not copied), and the checksum.
  static func parts(magic: [UInt8], version: UInt32, metadata: [UInt8], section: [UInt8])
    -> [[UInt8]]
  {
    var head: [UInt8] = magic
    appendLE(&head, [version, 0])
    appendLE(&head, [UInt64(metadata.count)])
    head += metadata
    while head.count % 8 != 0 { head.append(0) }
    var sum = Checksum.Stream()
    head.withUnsafeBytes { sum.update($0) }
    section.withUnsafeBytes { sum.update($0) }
    var tail: [UInt8] = []
    appendLE(&tail, [sum.finish()])
    return [head, section, tail]
  }

  /// The whole file of `kind` as three parts to write back to back: `metadata` with the
  /// directory of `tensors`, as JSON with sorted keys (so equal inputs give equal bytes).
  static func parts<M: TensorMetadata>(
    _ kind: FileKind, version: UInt32 = 1, metadata: M, tensors: Builder
  ) throws -> [[UInt8]] {
    var meta = metadata
    meta.tensors = tensors.entries
    let json = JSONEncoder()
    json.outputFormatting = [.sortedKeys]
    return parts(
      magic: kind.magic!, version: version, metadata: [UInt8](try json.encode(meta)),
      section: tensors.section)
  }

  /// Writes a file of `kind` atomically (`AtomicFile.write`: never over a file of
  /// another kind unless `force`).
  static func write<M: TensorMetadata>(
    _ kind: FileKind, version: UInt32 = 1, metadata: M, tensors: Builder, to path: String,
    force: Bool = false, sync: Bool = true
  ) throws {
    try AtomicFile.write(
      parts: try parts(kind, version: version, metadata: metadata, tensors: tensors),
      to: path, kind: kind, force: force, sync: sync)
  }

  /// Checks a file of `kind` (`parse`) and decodes its metadata as `M`.
  static func read<M: TensorMetadata>(
    _ kind: FileKind, _ bytes: [UInt8], path: String, maxVersion: UInt32 = 1, as: M.Type
  ) throws -> (file: Parsed, metadata: M) {
    try read(kind, FileContents(bytes), path: path, maxVersion: maxVersion, as: M.self)
  }

  static func read<M: TensorMetadata>(
    _ kind: FileKind, _ bytes: FileContents, path: String, maxVersion: UInt32 = 1, as: M.Type
  ) throws -> (file: Parsed, metadata: M) {
    let file = try parse(
      bytes, path: path, magic: kind.magic!, maxVersion: maxVersion, kind: kind.noun)
    do {
      return (file, try JSONDecoder().decode(M.self, from: Data(bytes[file.metadata])))
    } catch {
      throw file.fail("metadata does not decode (\(error))")
    }
  }

  /// A cache file of `kind` read whole, or nil: a cache that does not read back is
  /// only a cost (the work is done again), never an error.
  static func readCache<M: TensorMetadata>(_ kind: FileKind, path: String, as: M.Type)
    -> (file: Parsed, metadata: M)?
  {
    guard let bytes = try? FileBytes.read(path) else { return nil }
    return try? read(kind, bytes, path: path, as: M.self)
  }

  /// A file whose header and checksum have been checked: its version, its metadata bytes
  /// and the bounds of its data section.
  struct Parsed {
    let bytes: FileContents
    let path: String
    let kind: String
    let version: UInt32
    let metadata: Range<Int>
    let section: Range<Int>

    func fail(_ m: String) -> InputError { InputError(path: path, "not a valid \(kind): \(m)") }

    /// The bytes of tensor `name`, which must be `dtype`[`count`] and lie inside the section.
    func range(_ name: String, _ dtype: TensorDType, _ count: Int, in entries: [Entry]) throws
      -> Range<Int>
    {
      try TensorFile.range(name, dtype, count, in: entries, section: section, fail: fail)
    }

    func floats(_ name: String, _ count: Int, in entries: [Entry]) throws -> [Float] {
      loadLE(bytes, try range(name, .f32, count, in: entries))
    }

    /// Tensor `name` (f32[`count`]) read in place from the mapped file, or copied when the
    /// file is not mapped, the tensor is not 4-byte aligned or the machine is big-endian.
    func floatsInPlace(_ name: String, _ count: Int, in entries: [Entry]) throws -> FloatWeights {
      let r = try range(name, .f32, count, in: entries)
      if let mapped = bytes.mappedFloats(r) { return FloatWeights(mapped) }
      return FloatWeights(loadLE(bytes, r))
    }

    func int32s(_ name: String, _ count: Int, in entries: [Entry]) throws -> [Int32] {
      loadLE(bytes, try range(name, .i32, count, in: entries))
    }

    func uint64s(_ name: String, _ count: Int, in entries: [Entry]) throws -> [UInt64] {
      loadLE(bytes, try range(name, .u64, count, in: entries))
    }
  }

  /// The bytes of tensor `name` in a file whose section is `section`: it must be
  /// `dtype`[`count`] and lie inside the section.
  static func range(
    _ name: String, _ dtype: TensorDType, _ count: Int, in entries: [Entry], section: Range<Int>,
    fail: (String) -> InputError
  ) throws -> Range<Int> {
    guard let t = entries.first(where: { $0.name == name }) else {
      throw fail("tensor '\(name)' missing")
    }
    let width = dtype.width
    let available = section.count
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
    let s = section.lowerBound + t.offset
    return s..<(s + count * width)
  }

  /// Checks the magic, the version (at most `maxVersion`; a newer one asks for an upgrade),
  /// the checksum and the metadata length. `kind` names the file in errors.
  static func parse(
    _ bytes: FileContents, path: String, magic: [UInt8], maxVersion: UInt32, kind: String
  ) throws -> Parsed {
    let (version, metadata, section) = try bytes.withUnsafeBytes {
      try layout($0, path: path, magic: magic, maxVersion: maxVersion, kind: kind)
    }
    return Parsed(
      bytes: bytes, path: path, kind: kind, version: version, metadata: metadata,
      section: section)
  }

  /// The checks of `parse` on bytes in place (a mapped file): the version, and where the
  /// metadata and the tensor section lie.
  static func layout(
    _ raw: UnsafeRawBufferPointer, path: String, magic: [UInt8], maxVersion: UInt32,
    kind: String
  ) throws -> (version: UInt32, metadata: Range<Int>, section: Range<Int>) {
    func fail(_ m: String) -> InputError { InputError(path: path, "not a valid \(kind): \(m)") }
    func le<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
      T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
    }
    guard raw.count >= 32, Array(raw[0..<8]) == magic else {
      throw fail("it does not start with the Quarry \(kind) header")
    }
    let version = le(8, UInt32.self)
    guard version <= maxVersion else {
      throw InputError(
        path: path,
        "\(kind) version \(version) is newer than this quarry reads (\(maxVersion)); upgrade quarry"
      )
    }
    guard version >= 1 else { throw fail("version \(version)") }
    let stored = le(raw.count - 8, UInt64.self)
    let actual = Checksum.of(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
    guard stored == actual else {
      throw fail("checksum mismatch (the file is truncated or corrupt)")
    }
    let metaLength = le(16, UInt64.self)
    guard metaLength <= UInt64(raw.count - 32) else {
      throw fail("metadata length \(metaLength)")
    }
    let metaEnd = 24 + Int(metaLength)
    let sectionStart = (metaEnd + 7) / 8 * 8
    let sectionEnd = raw.count - 8
    guard sectionStart <= sectionEnd else { throw fail("no tensor section") }
    return (version, 24..<metaEnd, sectionStart..<sectionEnd)
  }
}

/// The metadata of a container file: JSON that carries, among its own fields, the
/// directory of the file's tensors.
protocol TensorMetadata: Codable {
  var tensors: [ModelMetadata.TensorEntry] { get set }
}

/// The element type of a stored tensor, little-endian.
public enum TensorDType: String, Codable, Sendable {
  case f32, i32, u64

  /// Bytes per element.
  var width: Int { self == .u64 ? 8 : 4 }
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

func loadLE<T: FixedWidthInteger>(_ bytes: FileContents, _ r: Range<Int>) -> [T] {
  let n = r.count / MemoryLayout<T>.size
  // Copied once, into uninitialised storage (a zero-filled array first would touch every
  // page of a large tensor twice).
  let out = [T](unsafeUninitializedCapacity: n) { dst, initialized in
    bytes.withUnsafeBytes { src in
      UnsafeMutableRawBufferPointer(dst).copyMemory(
        from: UnsafeRawBufferPointer(
          rebasing: src[r.lowerBound..<(r.lowerBound + n * MemoryLayout<T>.size)]))
    }
    initialized = n
  }
  return UInt32(1).littleEndian == 1 ? out : out.map { T(littleEndian: $0) }
}

func loadLE(_ bytes: FileContents, _ r: Range<Int>) -> [Float] {
  guard UInt32(1).littleEndian == 1 else {
    let bits: [UInt32] = loadLE(bytes, r)
    return bits.map { Float(bitPattern: $0) }
  }
  let n = r.count / 4
  return [Float](unsafeUninitializedCapacity: n) { dst, initialized in
    bytes.withUnsafeBytes { src in
      UnsafeMutableRawBufferPointer(dst).copyMemory(
        from: UnsafeRawBufferPointer(rebasing: src[r.lowerBound..<(r.lowerBound + 4 * n)]))
    }
    initialized = n
  }
}

/// A container file's bytes: read into memory, or mapped (`MappedFile`), in which case
/// checking and decoding it reads the page cache in place, without a first copy of the
/// whole file.
struct FileContents {
  private let array: [UInt8]
  private let mapped: MappedFile?

  init(_ bytes: [UInt8]) {
    array = bytes
    mapped = nil
  }

  init(_ file: MappedFile) {
    array = []
    mapped = file
  }

  /// The file at `path`, with `FileBytes.read`'s checks and messages: mapped when it is a
  /// regular file, else (a pipe, a device) read.
  static func open(_ path: String) throws -> FileContents {
    try FileBytes.checkReadable(path)
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 else {
      return FileContents(try FileBytes.read(path))
    }
    return FileContents(try MappedFile(path))
  }

  func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    if let mapped { return try mapped.withBytes { try body(UnsafeRawBufferPointer($0)) } }
    return try array.withUnsafeBytes(body)
  }

  /// The bytes in `r`, copied.
  subscript(r: Range<Int>) -> [UInt8] { withUnsafeBytes { Array($0[r]) } }

  /// The little-endian floats in `r`, in place: nil unless the file is mapped, `r` starts
  /// on a 4-byte boundary and this machine is little-endian.
  func mappedFloats(_ r: Range<Int>) -> MappedFloats? {
    guard let mapped, UInt32(1).littleEndian == 1, r.count % 4 == 0 else { return nil }
    let start = mapped.address(r.lowerBound)
    guard Int(bitPattern: start) % 4 == 0 else { return nil }
    return MappedFloats(
      file: mapped, start: start.assumingMemoryBound(to: Float.self), count: r.count / 4)
  }
}
