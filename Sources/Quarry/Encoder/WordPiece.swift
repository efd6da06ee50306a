import Foundation

/// BERT's uncased tokenizer: a basic tokenizer, then greedy longest-match WordPiece.
///
/// The basic tokenizer follows Hugging Face's `BertNormalizer` + `BertPreTokenizer`:
/// 1. drop NUL, U+FFFD and control characters (category C*, except tab, LF and CR), and
///    turn every other white-space character into a space;
/// 2. put spaces around CJK ideographs, so each becomes a word of its own;
/// 3. strip accents (canonical decomposition, NFD, then drop non-spacing marks, Mn);
/// 4. lowercase;
/// 5. split on white space, and split off every punctuation character (ASCII symbols
///    33–47, 58–64, 91–96, 123–126, and Unicode categories P*) as a word of its own.
///
/// WordPiece then splits each word left to right into the longest vocabulary pieces, the
/// pieces after the first written `##piece`. A word longer than 100 characters, or one that
/// some position cannot be matched at, becomes a single `[UNK]`.
///
/// `encode` adds `[CLS]` and `[SEP]` and truncates to a maximum length.
public struct WordPiece: Sendable {
  /// The vocabulary, in id order (line i of `vocab.txt` is id i).
  public let tokens: [String]
  let ids: [String: Int32]
  public let unk: Int32
  public let cls: Int32
  public let sep: Int32
  public let pad: Int32
  /// Words with more characters (Unicode scalars) than this become `[UNK]`.
  public var maxCharsPerWord = 100

  /// A tokenizer over `tokens`, which must hold `[UNK]`, `[CLS]` and `[SEP]`
  /// (`[PAD]` defaults to id 0). `path` names the source in errors.
  public init(tokens: [String], path: String = "vocab.txt") throws {
    var ids: [String: Int32] = [:]
    ids.reserveCapacity(tokens.count)
    for (i, t) in tokens.enumerated() where ids[t] == nil { ids[t] = Int32(i) }
    func special(_ t: String) throws -> Int32 {
      guard let id = ids[t] else { throw InputError(path: path, "no \(t) token") }
      return id
    }
    self.tokens = tokens
    self.ids = ids
    unk = try special("[UNK]")
    cls = try special("[CLS]")
    sep = try special("[SEP]")
    pad = ids["[PAD]"] ?? 0
  }

  /// Reads `vocab.txt`: one token per line, id = line number − 1.
  public static func load(path: String) throws -> WordPiece {
    let lines = try Lines.split(FileBytes.read(path), path: path)
    var tokens: [String] = []
    tokens.reserveCapacity(lines.count)
    for l in lines {
      if let e = l.error { throw e }
      tokens.append(String(l.text))
    }
    return try WordPiece(tokens: tokens, path: path)
  }

  /// The ids of `text`: `[CLS]`, its first `maxLength − 2` pieces, `[SEP]`.
  public func encode(_ text: String, maxLength: Int = 512) -> [Int32] {
    var out: [Int32] = [cls]
    let budget = max(maxLength, 2) - 2
    for word in basicTokens(text) {
      if out.count - 1 >= budget { break }
      appendPieces(of: word, to: &out)
    }
    if out.count - 1 > budget { out.removeLast(out.count - 1 - budget) }
    out.append(sep)
    return out
  }

  /// The ids of the word pieces of `text`, without `[CLS]`/`[SEP]`.
  public func pieces(_ text: String) -> [Int32] {
    var out: [Int32] = []
    for word in basicTokens(text) { appendPieces(of: word, to: &out) }
    return out
  }

  /// Greedy longest-match WordPiece of one word (no white space, already normalised).
  func appendPieces(of word: [Unicode.Scalar], to out: inout [Int32]) {
    if word.count > maxCharsPerWord {
      out.append(unk)
      return
    }
    let mark = out.count
    var start = 0
    while start < word.count {
      var end = word.count
      var found: Int32?
      while end > start {
        var piece = start > 0 ? "##" : ""
        piece.unicodeScalars.append(contentsOf: word[start..<end])
        if let id = ids[piece] {
          found = id
          break
        }
        end -= 1
      }
      guard let found else {
        out.removeLast(out.count - mark)
        out.append(unk)
        return
      }
      out.append(found)
      start = end
    }
  }

  /// Steps 1–5 above: the normalised words of `text`, each as Unicode scalars.
  public func basicTokens(_ text: String) -> [[Unicode.Scalar]] {
    // 1 and 2: clean, and isolate CJK ideographs.
    var cleaned = String.UnicodeScalarView()
    var ascii = true
    for c in text.unicodeScalars {
      if c.value == 0 || c.value == 0xFFFD || WordPiece.isControl(c) { continue }
      if WordPiece.isWhitespace(c) {
        cleaned.append(" ")
      } else if WordPiece.isCJK(c) {
        cleaned.append(" ")
        cleaned.append(c)
        cleaned.append(" ")
      } else {
        if c.value >= 0x80 { ascii = false }
        cleaned.append(c)
      }
    }
    var s = String(cleaned)
    // 3: strip accents (NFD, drop Mn); ASCII has none.
    if !ascii {
      var stripped = String.UnicodeScalarView()
      for c in s.decomposedStringWithCanonicalMapping.unicodeScalars
      where c.properties.generalCategory != .nonspacingMark {
        stripped.append(c)
      }
      s = String(stripped)
    }
    // 4: lowercase.
    s = s.lowercased()
    // 5: split on white space and punctuation.
    var words: [[Unicode.Scalar]] = []
    var word: [Unicode.Scalar] = []
    for c in s.unicodeScalars {
      if WordPiece.isWhitespace(c) {
        if !word.isEmpty { words.append(word) }
        word.removeAll(keepingCapacity: true)
      } else if WordPiece.isPunctuation(c) {
        if !word.isEmpty { words.append(word) }
        word.removeAll(keepingCapacity: true)
        words.append([c])
      } else {
        word.append(c)
      }
    }
    if !word.isEmpty { words.append(word) }
    return words
  }

  /// Tab, LF, CR and Unicode White_Space.
  static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
    c == " " || c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
  }

  /// Categories Cc, Cf, Cs, Co and Cn, except tab, LF and CR (which count as white space).
  static func isControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    if c.value >= 0x20 && c.value < 0x7F { return false }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  /// ASCII non-alphanumeric symbols, and Unicode punctuation (P*).
  static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
    let v = c.value
    if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v)
      || (123...126).contains(v)
    {
      return true
    }
    if v < 0x80 { return false }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// The CJK Unified Ideographs blocks (and their extensions and compatibility forms).
  static func isCJK(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
      0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }
}
