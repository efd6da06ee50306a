/// The word keys of ASCII text in one pass, with no token buffer: each byte is classified,
/// lowercased and folded into its token's FNV-1a hash as it is read. The rules are
/// `tokenize(utf8:into:)`'s for bytes below 0x80 (runs of letters, digits and '_'; a '.'
/// or ',' between two digits inside a number; other punctuation one token each when
/// `keepPunctuation`), so that `keys[t] == FNV1a.hash(token t)` for every token, in order.
/// NFKC and the unspaced scripts leave ASCII as it is. `ASCIIKeysTests` checks the keys
/// against the tokenizer followed by `FNV1a.hash` on random and corpus text. O(bytes).
extension Tokenizer {
  /// Whether every byte is below 0x80, eight bytes at a time.
  static func isASCII(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = utf8.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    let n = utf8.count
    var i = 0
    var high: UInt64 = 0
    while i + 8 <= n {
      high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      i += 8
    }
    while i < n {
      high |= UInt64(base[i])
      i += 1
    }
    return high & 0x8080_8080_8080_8080 == 0
  }

  /// Appends the key of every token of `utf8` (all bytes below 0x80) to `keys`.
  func appendASCIIKeys(_ utf8: UnsafeBufferPointer<UInt8>, to keys: inout [UInt64]) {
    Tokenizer.asciiClass.withUnsafeBufferPointer { asciiClass in
      let n = utf8.count
      var i = 0
      var h = FNV1a.offsetBasis
      var inWord = false
      var lastIsDigit = false
      while i < n {
        let b = utf8[i]
        switch asciiClass[Int(b)] {
        case 1:  // letter, digit or '_': the whole run
          if !inWord {
            h = FNV1a.offsetBasis
            inWord = true
          }
          var c = b
          repeat {
            h = FNV1a.step(h, Tokenizer.lowercasedASCII(c))
            i += 1
            guard i < n else { break }
            c = utf8[i]
          } while asciiClass[Int(c)] == 1
          lastIsDigit = Tokenizer.isDigit(utf8[i - 1])
          continue
        case 2:  // punctuation or symbol
          if inWord, b == 0x2E || b == 0x2C, lastIsDigit, i + 1 < n,
            Tokenizer.isDigit(utf8[i + 1])
          {
            h = FNV1a.step(h, b)
            lastIsDigit = false
          } else {
            if inWord {
              keys.append(h)
              inWord = false
            }
            if keepPunctuation { keys.append(FNV1a.step(FNV1a.offsetBasis, b)) }
          }
        default:  // space or control
          if inWord {
            keys.append(h)
            inWord = false
          }
        }
        i += 1
      }
      if inWord { keys.append(h) }
    }
  }
}
