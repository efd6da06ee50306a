import Foundation

/// A synonym table read from a MyThes thesaurus (`th_*_v2.dat`, e.g. Debian's
/// `mythes-en-us`), for synonym-based augmentation.
///
/// File format: line 1 names the encoding (`UTF-8` or `ISO8859-1`; a UTF-8 byte-order mark
/// is skipped). Then one block per headword: a line `word|N`, followed by N sense lines
/// `(pos)|syn|syn|…`, or `-|syn|syn|…` without a part of speech (Debian's mythes-es). A synonym may carry a marker after it, e.g. `feline (similar term)`;
/// synonyms marked `(generic term)`, `(similar term)`, `(related term)` or `(antonym)`
/// are not synonyms proper and are dropped. Other fields are kept whole, so multi-word
/// synonyms ("motor vehicle") stay, with their spaces.
///
/// Headwords and synonyms are lowercased; each headword's synonyms are deduplicated, keep
/// the order of their first appearance in the file, and never include the headword
/// itself. Headwords left with no synonym are not stored, so `count` is the number of
/// headwords that have at least one synonym. Lines may end in CRLF; blank lines between
/// blocks are skipped; invalid UTF-8 is repaired with U+FFFD.
public struct Thesaurus: Sendable {
  /// Lowercased headword → its synonyms, in file order.
  private var table: [String: [String]]

  /// Builds a thesaurus from a table (for tests), normalized as a loaded file is:
  /// lowercased, deduplicated, the headword dropped from its own synonyms, empty
  /// synonyms and headwords without synonyms dropped. Headwords equal after
  /// lowercasing are merged in sorted key order.
  public init(entries: [String: [String]]) {
    var t: [String: [String]] = [:]
    for key in entries.keys.sorted() {
      let head = key.lowercased()
      var kept = t[head] ?? []
      for s in entries[key] ?? [] {
        let s = s.lowercased()
        if !s.isEmpty, s != head, !kept.contains(s) { kept.append(s) }
      }
      if !kept.isEmpty { t[head] = kept }
    }
    table = t
  }

  private init(table: [String: [String]]) { self.table = table }

  /// The number of headwords (each with at least one synonym).
  public var count: Int { table.count }

  /// The synonyms of `word` in file order, or `[]`. `word` is looked up as given, so pass
  /// it lowercase (as `Tokenizer` produces it). With `singleWordOnly`, synonyms that
  /// contain a space ("motor vehicle") are left out.
  public func synonyms(of word: String, singleWordOnly: Bool = false) -> [String] {
    guard let s = table[word] else { return [] }
    return singleWordOnly ? s.filter { !$0.utf8.contains(0x20) } : s
  }

  /// Reads a MyThes `.dat` file (format above), mapping it into memory.
  ///
  /// With `restrictTo`, only headwords in `words` (compared after lowercasing the
  /// headword, so `words` should be lowercase) are kept. That makes a restricted load
  /// cheap: an ASCII headword whose FNV-1a hash is not among the words' hashes is
  /// rejected without building a `String`, and the sense lines of a rejected block are
  /// only found with `memchr` and checked to be sense lines, never split.
  /// Cost: O(file bytes), plus O(k²) per kept headword with k synonyms for the
  /// deduplication (k is at most 100 in mythes-en-us).
  ///
  /// Throws `InputError` naming `path` if the file is missing, unreadable or empty, if
  /// line 1 names an unsupported encoding (line 1), if a count line is not `word|N`
  /// (that line), or if a block has fewer than N sense lines — lines starting with `(`
  /// (the block's count line).
  public static func load(path: String, restrictTo words: Set<String>? = nil) throws
    -> Thesaurus
  {
    let file = try MappedFile(path)
    return try file.withBytes { bytes in
      var parser = ThesaurusParser(bytes: bytes, path: path)
      return Thesaurus(table: try parser.parse(restrictTo: words))
    }
  }
}

/// The text encodings a MyThes file may declare on its first line.
enum ThesaurusEncoding {
  case utf8, latin1

  /// `UTF-8`/`UTF8` or `ISO8859-1`/`ISO-8859-1`/`ISO_8859-1`/`LATIN1`, any case.
  init?(name: String) {
    switch name.uppercased() {
    case "UTF-8", "UTF8": self = .utf8
    case "ISO8859-1", "ISO-8859-1", "ISO_8859-1", "LATIN1", "LATIN-1": self = .latin1
    default: return nil
    }
  }
}

/// A single pass over the bytes of a MyThes file; see `Thesaurus.load`.
struct ThesaurusParser {
  let bytes: UnsafeBufferPointer<UInt8>
  let path: String
  var encoding = ThesaurusEncoding.utf8
  /// Offset of the next unread line, and the number of lines read so far.
  var pos = 0
  var line = 0
  /// Scratch space for ASCII lowercasing.
  var scratch: [UInt8] = []

  init(bytes: UnsafeBufferPointer<UInt8>, path: String) {
    self.bytes = bytes
    self.path = path
    scratch.reserveCapacity(256)
  }

  static let bar: UInt8 = 0x7C  // '|'
  static let open: UInt8 = 0x28  // '('
  static let dash: UInt8 = 0x2D  // '-'
  /// Marker suffixes of dropped synonyms, as bytes.
  static let droppedMarkers: [[UInt8]] = [
    " (generic term)", " (similar term)", " (related term)", " (antonym)",
  ].map { Array($0.utf8) }

  mutating func parse(restrictTo words: Set<String>?) throws -> [String: [String]] {
    try readEncoding()
    var table: [String: [String]] = [:]
    // FNV-1a hashes of the wanted words: most headwords are rejected on their hash,
    // without building a String.
    let wanted = words.map { Set($0.map { FNV1a.hash($0.utf8) }) }
    if let words { table.reserveCapacity(words.count) }
    while let r = nextLine() {
      if r.isEmpty { continue }
      let (word, n) = try countLine(r)
      let headLine = line
      let head: String?  // nil: block skipped
      if let words, let wanted {
        if let h = asciiLowercaseHash(word), !wanted.contains(h) {
          head = nil
        } else {
          let s = lowercasedString(word)
          head = words.contains(s) ? s : nil
        }
      } else {
        head = lowercasedString(word)
      }
      var syns = head.flatMap { table[$0] } ?? []
      for k in 0..<n {
        let next = nextLine()
        guard let s = next, isSenseLine(s) else {
          let why = next == nil ? "the file ends" : "line \(line) is not a sense line"
          let name = head ?? lowercasedString(word)
          throw InputError(
            path: path, line: headLine, "'\(name)' declares \(n) sense lines but has \(k): \(why)")
        }
        if let head { senseLine(s, head: head, into: &syns) }
      }
      if let head, !syns.isEmpty { table[head] = syns }
    }
    return table
  }

  /// Reads line 1 (the encoding name, after an optional UTF-8 byte-order mark).
  mutating func readEncoding() throws {
    guard var r = nextLine() else { throw InputError(path: path, line: 1, "empty file") }
    if r.count >= 3, bytes[r.lowerBound] == 0xEF, bytes[r.lowerBound + 1] == 0xBB,
      bytes[r.lowerBound + 2] == 0xBF
    {
      r = (r.lowerBound + 3)..<r.upperBound
    }
    let name = String(decoding: bytes[trimmed(r)], as: UTF8.self)
    guard let e = ThesaurusEncoding(name: name) else {
      throw InputError(
        path: path, line: 1,
        "expected the encoding name (UTF-8 or ISO8859-1) on line 1, got '\(name.prefix(60))'")
    }
    encoding = e
  }

  /// Parses `word|N` (split at the last '|'): the word's byte range and N.
  func countLine(_ r: Range<Int>) throws -> (Range<Int>, Int) {
    var bar = r.upperBound - 1
    while bar >= r.lowerBound, bytes[bar] != Self.bar { bar -= 1 }
    var n = 0
    var digits = 0
    for i in (bar + 1)..<r.upperBound {
      let b = bytes[i]
      guard b >= 0x30, b <= 0x39, digits < 9 else {
        digits = -1
        break
      }
      n = n * 10 + Int(b - 0x30)
      digits += 1
    }
    let word = bar >= r.lowerBound ? trimmed(r.lowerBound..<bar) : r
    guard bar >= r.lowerBound, digits > 0, !word.isEmpty else {
      let text = String(decoding: bytes[r], as: UTF8.self)
      throw InputError(path: path, line: line, "expected 'word|count', got '\(text.prefix(60))'")
    }
    return (word, n)
  }

  /// FNV-1a of the ASCII-lowercased bytes in `r`, as `FNV1a.hash` of the lowercased
  /// word's UTF-8; nil if `r` holds a non-ASCII byte (whose lowercasing needs `String`).
  func asciiLowercaseHash(_ r: Range<Int>) -> UInt64? {
    var h = FNV1a.offsetBasis
    for i in r {
      let b = bytes[i]
      if b >= 0x80 { return nil }
      h = (h ^ UInt64(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)) &* FNV1a.prime
    }
    return h
  }

  /// Appends the kept synonyms of one `(pos)|syn|syn|…` line to `syns`.
  /// Whether line `r` is a sense line: it starts with "(" (a part of speech) or is "-|…".
  func isSenseLine(_ r: Range<Int>) -> Bool {
    guard let first = r.first else { return false }
    return bytes[first] == Self.open
      || (bytes[first] == Self.dash && r.count > 1 && bytes[first + 1] == Self.bar)
  }

  mutating func senseLine(_ r: Range<Int>, head: String, into syns: inout [String]) {
    var start = r.lowerBound
    var first = true  // the part of speech
    while start <= r.upperBound {
      var end = start
      while end < r.upperBound, bytes[end] != Self.bar { end += 1 }
      defer { start = end + 1 }
      if first {
        first = false
        continue
      }
      let f = trimmed(start..<end)
      if f.isEmpty || isDropped(f) { continue }
      let s = lowercasedString(f)
      if s != head, !syns.contains(s) { syns.append(s) }
    }
  }

  /// Whether the field ends with one of the dropped markers.
  func isDropped(_ r: Range<Int>) -> Bool {
    guard bytes[r.upperBound - 1] == 0x29 else { return false }  // ')'
    for m in Self.droppedMarkers where m.count <= r.count {
      var same = true
      let base = r.upperBound - m.count
      for (k, b) in m.enumerated() where bytes[base + k] != b {
        same = false
        break
      }
      if same { return true }
    }
    return false
  }

  /// The bytes in `r` decoded per `encoding` and lowercased. ASCII (nearly all of the
  /// English file) is lowercased bytewise; anything else goes through `lowercased()`.
  mutating func lowercasedString(_ r: Range<Int>) -> String {
    scratch.removeAll(keepingCapacity: true)
    for i in r {
      let b = bytes[i]
      if b >= 0x80 {
        switch encoding {
        case .utf8:
          return String(decoding: bytes[r], as: UTF8.self).lowercased()
        case .latin1:
          var scalars = String.UnicodeScalarView()
          for j in r { scalars.append(Unicode.Scalar(bytes[j])) }
          return String(scalars).lowercased()
        }
      }
      scratch.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
    }
    return String(decoding: scratch, as: UTF8.self)
  }

  /// `r` without leading and trailing spaces and tabs.
  func trimmed(_ r: Range<Int>) -> Range<Int> {
    var lo = r.lowerBound
    var hi = r.upperBound
    while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
    while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
    return lo..<hi
  }

  /// The next line's byte range without its "\n" or "\r\n" (and counts it), or nil at
  /// the end of the file.
  mutating func nextLine() -> Range<Int>? {
    let end = bytes.count
    guard pos < end, let base = bytes.baseAddress else { return nil }
    let start = pos
    var stop = end
    if let p = memchr(base + start, 0x0A, end - start) {
      stop = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(p))
    }
    pos = stop + 1
    line += 1
    if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
    return start..<stop
  }
}
