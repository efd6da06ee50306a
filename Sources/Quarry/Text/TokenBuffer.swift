/// The tokens of one text: their lowercased UTF-8 bytes back to back, and where each
/// token starts and ends. Reused across texts so that tokenizing allocates nothing
/// once the buffer has grown.
public struct TokenBuffer: Sendable {
  public private(set) var bytes: [UInt8] = []
  public private(set) var starts: [Int] = []
  public private(set) var ends: [Int] = []

  public init() {
    bytes.reserveCapacity(4096)
    starts.reserveCapacity(512)
    ends.reserveCapacity(512)
  }

  public var count: Int { ends.count }

  /// The token at `i` as a `String` (for tests and reports, not the hot path).
  public func string(at i: Int) -> String {
    String(decoding: bytes[starts[i]..<ends[i]], as: UTF8.self)
  }

  public var strings: [String] { (0..<count).map(string(at:)) }

  /// How many tokens start with a letter of a script written without spaces
  /// (`Tokenizer.isUnspaced`). O(tokens).
  public var unspacedCount: Int {
    bytes.withUnsafeBufferPointer { b in
      starts.reduce(0) { n, s in
        // Every such script lies at U+0E00 or above: three UTF-8 bytes or more.
        guard b[s] >= 0xE0 else { return n }
        return Tokenizer.isUnspaced(Tokenizer.decode(b, at: s).0) ? n + 1 : n
      }
    }
  }

  mutating func removeAll() {
    bytes.removeAll(keepingCapacity: true)
    starts.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
  }

  @inline(__always) mutating func begin() { starts.append(bytes.count) }
  @inline(__always) mutating func end() { ends.append(bytes.count) }
  @inline(__always) mutating func append(_ b: UInt8) { bytes.append(b) }
  /// Ends the token being built, if `open`, and clears `open`.
  @inline(__always) mutating func close(_ open: inout Bool) {
    if open {
      end()
      open = false
    }
  }
  /// One whole token: the byte `b`.
  @inline(__always) mutating func appendToken(_ b: UInt8) {
    begin()
    append(b)
    end()
  }
  /// One whole token: the bytes `u[r]`.
  @inline(__always) mutating func appendToken(_ u: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) {
    begin()
    append(u, r)
    end()
  }

  mutating func append(_ u: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) {
    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[r]))
  }

  /// Appends ASCII bytes with A–Z lowercased: one append for a run, not one per byte.
  mutating func appendLowercasedASCII(_ u: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) {
    let start = bytes.count
    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: u[r]))
    bytes.withUnsafeMutableBufferPointer { b in
      for k in start..<b.count {
        b[k] = Tokenizer.lowercasedASCII(b[k])
      }
    }
  }

  /// Appends the UTF-8 encoding of one scalar.
  mutating func append(scalar s: Unicode.Scalar) {
    let v = s.value
    switch v {
    case 0..<0x80:
      bytes.append(UInt8(v))
    case 0x80..<0x800:
      bytes.append(UInt8(0xC0 | (v >> 6)))
      bytes.append(UInt8(0x80 | (v & 0x3F)))
    case 0x800..<0x10000:
      bytes.append(UInt8(0xE0 | (v >> 12)))
      bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
      bytes.append(UInt8(0x80 | (v & 0x3F)))
    default:
      bytes.append(UInt8(0xF0 | (v >> 18)))
      bytes.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
      bytes.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
      bytes.append(UInt8(0x80 | (v & 0x3F)))
    }
  }

  var lastByteIsDigit: Bool {
    guard let b = bytes.last, let s = starts.last, s < bytes.count else { return false }
    return b >= 0x30 && b <= 0x39
  }
}
