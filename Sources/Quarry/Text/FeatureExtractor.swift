/// Turns one text into feature keys: one 64-bit FNV-1a key per word token, per word
/// n-gram (2…`wordNgrams`) and per character n-gram. Word keys are `FNV1a(lowercased
/// UTF-8)`, the same function `PretrainedVectors` applies to its words, so a corpus word
/// and a pretrained word meet on the key alone.
///
/// Reusable scratch buffers live in the extractor: make one per thread.
public struct FeatureExtractor {
  public let config: FeatureConfig
  /// The tokens of the last text, when it was not hashed on the ASCII path.
  private var tokens = TokenBuffer()
  private var tokensAreASCII = false
  /// Keys of the word tokens, in text order (with repeats).
  public private(set) var wordKeys: [UInt64] = []
  /// Keys of n-grams and character n-grams (with repeats).
  public private(set) var otherKeys: [UInt64] = []

  public init(config: FeatureConfig) {
    self.config = config
  }

  /// The key of a single word given as lowercased UTF-8 bytes.
  public static func wordKey<S: Sequence>(_ utf8: S) -> UInt64 where S.Element == UInt8 {
    FNV1a.hash(utf8)
  }

  public mutating func extract(_ text: String) {
    var text = text
    text.withUTF8 { extract(utf8: $0) }
  }

  /// ASCII text without character n-grams is hashed as it is tokenized
  /// (`Tokenizer.appendASCIIKeys`), the same keys in one pass; other text goes through
  /// the token buffer.
  public mutating func extract(utf8: UnsafeBufferPointer<UInt8>) {
    if !config.usesCharNgrams, Tokenizer.isASCII(utf8) {
      wordKeys.removeAll(keepingCapacity: true)
      otherKeys.removeAll(keepingCapacity: true)
      config.tokenizer.appendASCIIKeys(utf8, to: &wordKeys)
      tokensAreASCII = true
      appendWordNgrams()
      return
    }
    config.tokenizer.tokenize(utf8: utf8, into: &tokens)
    tokensAreASCII = false
    hashTokens()
  }

  /// How many tokens of the last text start with a letter of a script written without
  /// spaces (`TokenBuffer.unspacedCount`); ASCII text has none.
  public var unspacedTokens: Int { tokensAreASCII ? 0 : tokens.unspacedCount }

  /// Features of a text given as word keys (an augmented variant): the words and their
  /// n-grams; character n-grams need the characters, so there are none.
  public mutating func extract(wordKeys keys: [UInt64]) {
    wordKeys = keys
    otherKeys.removeAll(keepingCapacity: true)
    appendWordNgrams()
  }

  private mutating func hashTokens() {
    wordKeys.removeAll(keepingCapacity: true)
    otherKeys.removeAll(keepingCapacity: true)
    let n = tokens.count
    tokens.bytes.withUnsafeBufferPointer { bytes in
      for t in 0..<n {
        wordKeys.append(FNV1a.hash(bytes, tokens.starts[t]..<tokens.ends[t]))
      }
      if config.usesCharNgrams {
        for t in 0..<n { appendCharNgrams(bytes, tokens.starts[t], tokens.ends[t]) }
      }
    }
    appendWordNgrams()
  }

  /// Word n-gram keys (orders 2…`wordNgrams`) of `wordKeys`, appended to `otherKeys`.
  private mutating func appendWordNgrams() {
    let n = wordKeys.count
    if config.wordNgrams >= 2 {
      for t in 0..<n {
        var h = wordKeys[t]
        var order = 1
        while order < config.wordNgrams, t + order < n {
          h = FNV1a.combine(h, wordKeys[t + order], tag: UInt8(order + 1))
          otherKeys.append(h)
          order += 1
        }
      }
    }
  }

  /// Character n-grams of `<token>` by whole UTF-8 characters: for each start character,
  /// lengths `charNgramMin...charNgramMax`, as fastText's subwords. The whole `<token>`
  /// itself is left out (the word key covers it).
  private mutating func appendCharNgrams(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) {
    // Character boundaries of "<" + token + ">" in a small local array.
    var bounds: [Int] = [-1]  // -1 stands for '<'
    var i = s
    while i < e {
      bounds.append(i)
      i += 1
      while i < e, bytes[i] & 0xC0 == 0x80 { i += 1 }
    }
    bounds.append(e)  // e stands for '>'
    let chars = bounds.count  // characters in "<token>" = token chars + 2
    for a in 0..<chars {
      var h = FNV1a.hash([0x01])  // a tag distinguishes char n-grams from words
      var len = 0
      var j = a
      while j < chars, len < config.charNgramMax {
        // Hash character j.
        if j == 0 {
          h = (h ^ 0x3C) &* FNV1a.prime
        } else if j == chars - 1 {
          h = (h ^ 0x3E) &* FNV1a.prime
        } else {
          h = FNV1a.hash(bytes, bounds[j]..<bounds[j + 1], seed: h)
        }
        len += 1
        j += 1
        if len >= config.charNgramMin, !(a == 0 && j == chars) {
          otherKeys.append(h)
        }
      }
    }
  }
}
