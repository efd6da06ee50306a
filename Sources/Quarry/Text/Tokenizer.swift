import Foundation

/// Lowercases and splits text into tokens: words (runs of letters, marks and digits),
/// numbers with inner separators ("3.5", "1,000") and single punctuation or symbol
/// characters. Whitespace and control characters separate tokens and are dropped.
/// A letter of a script written without spaces between words (`isUnspaced`: CJK
/// ideographs, kana, Thai, Lao, Khmer, Myanmar) is a token of its own, with the combining
/// marks after it, so that word n-grams over such text are character n-grams while
/// Latin-script words stay words: "iPhone 15 发布会" → iphone · 15 · 发 · 布 · 会.
///
/// With `normalizesCompatibility`, a text holding any non-ASCII byte is first put in
/// Unicode normalization form KC, so that full-width and compatibility forms read as
/// their plain forms ("ＡＢＣ" → abc, "ﬁ" → fi, "ｶ" → カ); ASCII text is already in it.
///
/// The tokenizer writes the lowercased UTF-8 of every token into one reusable buffer
/// (`TokenBuffer`), so that hashing needs no `String` per token. ASCII takes a table
/// path; other scalars use Unicode properties (`isAlphabetic`, `numericType`,
/// `lowercaseMapping`). Cost: O(bytes).
public struct Tokenizer: Sendable, Codable, Equatable {
  /// Keep punctuation and symbol characters as one-character tokens.
  public var keepPunctuation: Bool
  /// One token per letter of a script written without spaces (`isUnspaced`).
  public var splitsUnspacedScripts: Bool
  /// NFKC before tokenizing.
  public var normalizesCompatibility: Bool

  public init(
    keepPunctuation: Bool = true, splitsUnspacedScripts: Bool = true,
    normalizesCompatibility: Bool = true
  ) {
    self.keepPunctuation = keepPunctuation
    self.splitsUnspacedScripts = splitsUnspacedScripts
    self.normalizesCompatibility = normalizesCompatibility
  }

  enum CodingKeys: String, CodingKey {
    case keepPunctuation, splitsUnspacedScripts, normalizesCompatibility
  }

  /// A model file written before a setting existed reads it as off: the tokenizer it was
  /// trained with.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    keepPunctuation = try c.decode(Bool.self, forKey: .keepPunctuation)
    splitsUnspacedScripts =
      try c.decodeIfPresent(Bool.self, forKey: .splitsUnspacedScripts) ?? false
    normalizesCompatibility =
      try c.decodeIfPresent(Bool.self, forKey: .normalizesCompatibility) ?? false
  }

  /// Tokenizes `text` into `buffer` (cleared first).
  public func tokenize(_ text: String, into buffer: inout TokenBuffer) {
    buffer.removeAll()
    var text = text
    text.withUTF8 { utf8 in tokenize(utf8: utf8, into: &buffer) }
  }

  /// Tokenizes valid UTF-8 bytes into `buffer` (cleared first).
  public func tokenize(utf8: UnsafeBufferPointer<UInt8>, into buffer: inout TokenBuffer) {
    if normalizesCompatibility, !Tokenizer.isASCII(utf8) {
      var normal = String(decoding: utf8, as: UTF8.self).precomposedStringWithCompatibilityMapping
      var plain = self
      plain.normalizesCompatibility = false
      normal.withUTF8 { plain.tokenize(utf8: $0, into: &buffer) }
      return
    }
    buffer.removeAll()
    // The class table through a local pointer: a `static let` read per byte goes through
    // its lazy-initialisation check every time.
    Tokenizer.asciiClass.withUnsafeBufferPointer { asciiClass in
      tokenize(utf8: utf8, asciiClass: asciiClass, into: &buffer)
    }
  }

  private func tokenize(
    utf8: UnsafeBufferPointer<UInt8>, asciiClass: UnsafeBufferPointer<UInt8>,
    into buffer: inout TokenBuffer
  ) {
    var i = 0
    let n = utf8.count
    var inWord = false
    while i < n {
      let b = utf8[i]
      if b < 0x80 {
        let cls = asciiClass[Int(b)]
        switch cls {
        case 1:  // letter or digit: the whole ASCII run of them at once
          if !inWord {
            buffer.begin()
            inWord = true
          }
          var j = i + 1
          while j < n, utf8[j] < 0x80, asciiClass[Int(utf8[j])] == 1 { j += 1 }
          buffer.appendLowercasedASCII(utf8, i..<j)
          i = j
          continue
        case 2:  // punctuation or symbol
          // A '.' or ',' between two digits stays inside a number.
          if inWord, b == 0x2E || b == 0x2C, i + 1 < n, Tokenizer.isDigit(utf8[i + 1]),
            buffer.lastByteIsDigit
          {
            buffer.append(b)
          } else {
            buffer.close(&inWord)
            if keepPunctuation { buffer.appendToken(b) }
          }
        default:  // space or control
          buffer.close(&inWord)
        }
        i += 1
        continue
      }
      let (scalar, width) = Tokenizer.decode(utf8, at: i)
      let p = scalar.properties
      if splitsUnspacedScripts, Tokenizer.isUnspaced(scalar),
        p.isAlphabetic || p.numericType != nil
      {
        // One token: the letter and the combining marks after it.
        buffer.close(&inWord)
        buffer.begin()
        buffer.append(utf8, i..<(i + width))
        i += width
        while i < n, utf8[i] >= 0x80 {
          let (mark, w) = Tokenizer.decode(utf8, at: i)
          guard mark.properties.generalCategory.isMark else { break }
          buffer.append(utf8, i..<(i + w))
          i += w
        }
        buffer.end()
        continue
      }
      if p.isAlphabetic || p.numericType != nil || p.generalCategory.isMark {
        if !inWord {
          buffer.begin()
          inWord = true
        }
        if p.changesWhenLowercased {
          for s in p.lowercaseMapping.unicodeScalars { buffer.append(scalar: s) }
        } else {
          buffer.append(utf8, i..<(i + width))
        }
      } else if p.isWhitespace || p.generalCategory.isControlOrFormat {
        buffer.close(&inWord)
      } else {
        buffer.close(&inWord)
        if keepPunctuation { buffer.appendToken(utf8, i..<(i + width)) }
      }
      i += width
    }
    if inWord { buffer.end() }
  }

  @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

  /// An ASCII byte with A–Z lowercased.
  @inline(__always) static func lowercasedASCII(_ c: UInt8) -> UInt8 {
    c | (c >= 0x41 && c <= 0x5A ? 0x20 : 0)
  }

  /// A scalar of a script written without spaces between words: CJK ideographs (the
  /// unified blocks, extensions A to H and the compatibility blocks, as BERT's basic
  /// tokenizer counts them, plus the later extensions), hiragana, katakana (full and
  /// half width), Thai, Lao, Myanmar and Khmer. Hangul is written with spaces and is
  /// not among them.
  static func isUnspaced(_ s: Unicode.Scalar) -> Bool {
    switch s.value {
    case 0x0E00...0x0EFF,  // Thai, Lao
      0x1000...0x109F,  // Myanmar
      0x1780...0x17FF,  // Khmer
      0x3040...0x30FF,  // hiragana, katakana
      0x31F0...0x31FF,  // katakana phonetic extensions
      0x3400...0x4DBF,  // CJK extension A
      0x4E00...0x9FFF,  // CJK unified ideographs
      0xF900...0xFAFF,  // CJK compatibility ideographs
      0xFF66...0xFF9F,  // half-width katakana
      0x20000...0x2FA1F,  // CJK extensions B to F, compatibility supplement
      0x30000...0x323AF:  // CJK extensions G, H
      return true
    default:
      return false
    }
  }

  /// 0: space/control, 1: letter or digit (and '_'), 2: punctuation or symbol.
  static let asciiClass: [UInt8] = (0..<128).map { c -> UInt8 in
    switch c {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return 1
    case 0x21...0x7E: return 2
    default: return 0
    }
  }

  /// Decodes one scalar of valid UTF-8 at `i`; an invalid byte decodes as U+FFFD, width 1.
  @inline(__always)
  static func decode(_ u: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar, Int) {
    let b0 = UInt32(u[i])
    let n = u.count
    func cont(_ k: Int) -> UInt32? {
      guard i + k < n, u[i + k] & 0xC0 == 0x80 else { return nil }
      return UInt32(u[i + k] & 0x3F)
    }
    let bad: (Unicode.Scalar, Int) = ("\u{FFFD}", 1)
    if b0 & 0xE0 == 0xC0, let c1 = cont(1) {
      return Unicode.Scalar(((b0 & 0x1F) << 6) | c1).map { ($0, 2) } ?? bad
    }
    if b0 & 0xF0 == 0xE0, let c1 = cont(1), let c2 = cont(2) {
      return Unicode.Scalar(((b0 & 0x0F) << 12) | (c1 << 6) | c2).map { ($0, 3) } ?? bad
    }
    if b0 & 0xF8 == 0xF0, let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) {
      return Unicode.Scalar(((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3).map { ($0, 4) }
        ?? bad
    }
    return bad
  }
}

extension Unicode.GeneralCategory {
  var isMark: Bool {
    self == .nonspacingMark || self == .spacingMark || self == .enclosingMark
  }
  var isControlOrFormat: Bool { self == .control || self == .format }
}
