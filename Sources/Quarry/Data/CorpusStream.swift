import Foundation

/// A line-based corpus (TSV, fastText or JSON Lines) read in pieces, for files too large
/// to hold: `scan` reads it once from start to end in blocks of about `blockBytes`, each
/// ending at a line end, and notes where each block starts; `read` reads one block again.
/// Rows are checked as `CorpusReader` checks them, and are known by their line numbers.
public struct CorpusStream: Sendable {
  public struct Block: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    /// The line number of the block's first line.
    public var firstLine: Int
    /// Labelled rows in the block.
    public var rows: Int
  }

  public let path: String
  public let format: CorpusFormat
  public let skipBadRows: Bool
  /// What joins several labels in a TSV label column (`CorpusReader.parseRow`).
  public let labelSeparator: String
  public private(set) var blocks: [Block] = []
  public private(set) var rows = 0
  /// `Checksum.of` the whole file, as `Corpus.contentHash`.
  public private(set) var contentHash: UInt64 = 0
  /// Bad rows skipped (with `skipBadRows`), and the first few of them.
  public private(set) var skippedCount = 0
  public private(set) var firstSkipped: [InputError] = []

  public var contentHashHex: String { String(contentHash, radix: 16) }

  /// Reads the file once, calling `body` with the rows of every block in order.
  public static func scan(
    path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false,
    labelSeparator: String = CorpusReader.defaultLabelSeparator, blockBytes: Int = 16 << 20,
    maxLineBytes: Int = 64 << 20,
    body: ([Example]) throws -> Void
  ) throws -> CorpusStream {
    let fd = try openForReading(path)
    defer { close(fd) }
    var checksum = Checksum.Stream()
    var carry: [UInt8] = []
    var offset = 0
    var nextLine = 1
    var stream: CorpusStream? = nil
    var buffer = [UInt8](repeating: 0, count: max(1, blockBytes))
    var atEnd = false
    var searched = 0  // bytes of `carry` already searched for a line end
    let longest = max(blockBytes, maxLineBytes)
    while !atEnd {
      let n = try readSome(fd, into: &buffer, path: path)
      if n == 0 {
        atEnd = true
      } else {
        buffer.withUnsafeBytes { checksum.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        carry += buffer[0..<n]
      }
      // A block ends at the last line end (or at the end of the file).
      let cut: Int
      if atEnd {
        cut = carry.count
      } else if carry.count >= blockBytes, let nl = carry[searched...].lastIndex(of: 0x0A) {
        cut = nl + 1
      } else {
        if carry.count >= blockBytes { searched = carry.count }
        guard carry.count <= longest else {
          throw InputError(
            path: path, line: nextLine,
            "a line longer than \(longest) bytes: a streamed corpus holds one row a line")
        }
        continue
      }
      searched = 0
      guard cut > 0 else { continue }
      let piece = Array(carry[0..<cut])
      carry.removeFirst(cut)
      if stream == nil {
        let first = String(
          decoding: piece.prefix(4096).split(separator: 0x0A).first ?? [], as: UTF8.self)
        let fmt = format ?? CorpusFormat.detect(path: path, firstLine: Substring(first))
        guard fmt != .csv else {
          throw InputError(
            path: path,
            "a CSV corpus is not read in pieces (a quoted field may span lines); convert it to TSV or JSON Lines to stream it"
          )
        }
        stream = CorpusStream(
          path: path, format: fmt, skipBadRows: skipBadRows, labelSeparator: labelSeparator)
      }
      let lines = piece.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } + (piece.last == 0x0A ? 0 : 1)
      let examples = try stream!.parse(piece, firstLine: nextLine)
      stream!.blocks.append(
        Block(offset: offset, length: cut, firstLine: nextLine, rows: examples.count))
      stream!.rows += examples.count
      offset += cut
      nextLine += lines
      try body(examples)
    }
    guard var s = stream, s.rows > 0 else {
      throw InputError(path: path, offset == 0 ? "empty file" : "no labelled rows")
    }
    s.contentHash = checksum.finish()
    return s
  }

  /// The rows of `block`, read again from the file.
  public func read(_ block: Block) throws -> [Example] {
    let fd = try CorpusStream.openForReading(path)
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: block.length)
    var done = 0
    while done < block.length {
      let n = bytes.withUnsafeMutableBytes {
        pread(fd, $0.baseAddress! + done, block.length - done, off_t(block.offset + done))
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw InputError(
          path: path, "changed while training (cannot read it again at byte \(block.offset + done))"
        )
      }
      done += n
    }
    var copy = self
    let rows = try copy.parse(bytes, firstLine: block.firstLine)
    guard rows.count == block.rows else {
      throw InputError(path: path, line: block.firstLine, "changed while training")
    }
    return rows
  }

  /// The labelled rows of a piece of the file; bad rows throw or are counted.
  mutating func parse(_ piece: [UInt8], firstLine: Int) throws -> [Example] {
    var out: [Example] = []
    for l in try Lines.split(piece, path: path, firstLine: firstLine) {
      do {
        if let e = l.error { throw e }
        if l.text.allSatisfy(\.isWhitespace) { continue }
        out.append(
          try CorpusReader.parseRow(
            l.text, format: format, path: path, line: l.number, labelSeparator: labelSeparator))
      } catch let e as InputError {
        guard skipBadRows else { throw e }
        skippedCount += 1
        if firstSkipped.count < 5 { firstSkipped.append(e) }
      }
    }
    return out
  }

  static func openForReading(_ path: String) throws -> Int32 {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw InputError(path: path, "no such file")
    }
    if isDir.boolValue { throw InputError(path: path, "is a directory, not a file") }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw InputError(path: path, "cannot be read (\(String(cString: strerror(errno))))")
    }
    return fd
  }

  static func readSome(_ fd: Int32, into buffer: inout [UInt8], path: String) throws -> Int {
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if n >= 0 { return n }
      if errno == EINTR { continue }
      throw InputError(path: path, "cannot be read (\(String(cString: strerror(errno))))")
    }
  }
}
