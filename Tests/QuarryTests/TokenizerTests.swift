import Foundation
import XCTest

@testable import Quarry

final class TokenizerTests: XCTestCase {
  func tokens(_ text: String, punctuation: Bool = true) -> [String] {
    var buf = TokenBuffer()
    Tokenizer(keepPunctuation: punctuation).tokenize(text, into: &buf)
    return buf.strings
  }

  func tokens(utf8 bytes: [UInt8], punctuation: Bool = true) -> TokenBuffer {
    var buf = TokenBuffer()
    bytes.withUnsafeBufferPointer {
      Tokenizer(keepPunctuation: punctuation).tokenize(utf8: $0, into: &buf)
    }
    return buf
  }

  func testLowercasesASCIIAndNonASCII() {
    XCTAssertEqual(tokens("ÉCOLE Über"), ["école", "über"])
    XCTAssertEqual(tokens("Hello WORLD MiXeD42"), ["hello", "world", "mixed42"])
    XCTAssertEqual(tokens("ΑΘΗΝΑ ДОМ"), ["αθηνα", "дом"])
  }

  func testLettersDigitsUnderscoreAndMarksStayInOneWord() {
    XCTAssertEqual(tokens("snake_case abc123"), ["snake_case", "abc123"])
    // A combining acute accent (a mark) continues the word.
    XCTAssertEqual(tokens("Cafe\u{301} ok"), ["cafe\u{301}", "ok"])
  }

  func testNumbersKeepInnerSeparators() {
    XCTAssertEqual(tokens("3.5 1,000 end."), ["3.5", "1,000", "end", "."])
    XCTAssertEqual(tokens("3.5 1,000 end.", punctuation: false), ["3.5", "1,000", "end"])
    XCTAssertEqual(tokens("pi=3.14159, ok"), ["pi", "=", "3.14159", ",", "ok"])
    // A separator not between two digits splits.
    XCTAssertEqual(tokens("3. .5 a.b 7,x"), ["3", ".", ".", "5", "a", ".", "b", "7", ",", "x"])
    XCTAssertEqual(tokens("1.2.3"), ["1.2.3"])
  }

  func testPunctuationOnAndOff() {
    XCTAssertEqual(tokens("hello, world!"), ["hello", ",", "world", "!"])
    XCTAssertEqual(tokens("hello, world!", punctuation: false), ["hello", "world"])
    // The ellipsis is three full stops under NFKC.
    XCTAssertEqual(tokens("«oui» — non…"), ["«", "oui", "»", "—", "non", ".", ".", "."])
    XCTAssertEqual(tokens("«oui» — non…", punctuation: false), ["oui", "non"])
    // Each punctuation character is its own token.
    XCTAssertEqual(tokens("?!"), ["?", "!"])
  }

  func testWhitespaceAndControlCharactersSeparate() {
    let text = "a\tb\nc\r\nd\u{0007}e\u{00A0}f\u{2003}g\u{200B}h\u{00AD}i  j"
    XCTAssertEqual(tokens(text), ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])
    XCTAssertEqual(tokens("   \t\n "), [])
    XCTAssertEqual(tokens(""), [])
  }

  func testCJKAndEmojiDoNotCrash() {
    // CJK ideographs and kana are one token each.
    XCTAssertEqual(tokens("東京タワー"), ["東", "京", "タ", "ワ", "ー"])
    XCTAssertEqual(tokens("héllo 👍 wörld", punctuation: false), ["héllo", "wörld"])
    XCTAssertEqual(tokens("héllo 👍 wörld"), ["héllo", "👍", "wörld"])
    let family = tokens("👨‍👩‍👧 🇫🇷 👍🏽x", punctuation: false)
    XCTAssertEqual(family, ["x"])
    XCTAssertFalse(tokens("👨‍👩‍👧 🇫🇷 👍🏽").isEmpty)
  }

  func testStringAndUTF8EntryPointsAgree() {
    for text in ["ÉCOLE Über", "3.5 end.", "東京 👍 «x»", "a\u{301}b, c"] {
      XCTAssertEqual(tokens(utf8: Array(text.utf8)).strings, tokens(text), text)
    }
  }

  func testInvalidUTF8IsSeparatorNotCrash() {
    // 0xFF is no UTF-8 byte: it decodes as U+FFFD, a symbol, so it splits the word.
    XCTAssertEqual(
      tokens(utf8: [0x61, 0x62, 0xFF, 0x63], punctuation: false).strings, ["ab", "c"])
    // A lone continuation byte, a truncated 3-byte sequence, an encoded surrogate and a
    // code point above U+10FFFF, each between letters.
    let nasty: [[UInt8]] = [
      [0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3],
    ]
    for bad in nasty {
      let t = tokens(utf8: [0x78] + bad + [0x79], punctuation: false).strings
      XCTAssertEqual(t.first, "x", "\(bad)")
      XCTAssertEqual(t.last, "y", "\(bad)")
    }
    // Truncated sequences at the very end.
    for tail: [UInt8] in [[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98]] {
      XCTAssertEqual(tokens(utf8: [0x7A] + tail, punctuation: false).strings, ["z"])
    }
  }

  func testRandomBytesKeepTheBufferConsistent() {
    var rng = SplitMix64(seed: 5)
    for round in 0..<300 {
      let n = Int(rng.next() % 64)
      let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      let buf = tokens(utf8: bytes, punctuation: round % 2 == 0)
      XCTAssertEqual(buf.starts.count, buf.ends.count)
      var last = 0
      for i in 0..<buf.count {
        XCTAssertLessThanOrEqual(last, buf.starts[i])
        XCTAssertLessThan(buf.starts[i], buf.ends[i], "empty token")
        last = buf.ends[i]
      }
      XCTAssertLessThanOrEqual(last, buf.bytes.count)
    }
  }

  /// The buffer is cleared between texts.
  func tokens(_ text: String, with tokenizer: Tokenizer) -> [[UInt8]] {
    var buf = TokenBuffer()
    tokenizer.tokenize(text, into: &buf)
    return (0..<buf.count).map { Array(buf.bytes[buf.starts[$0]..<buf.ends[$0]]) }
  }

  func utf8(_ strings: [String]) -> [[UInt8]] { strings.map { Array($0.utf8) } }

  /// Scripts written without spaces give a token per letter; Latin words, numbers and
  /// Hangul words stay whole; punctuation between them is still its own token.
  func testScriptsWithoutSpacesSplitPerCharacter() {
    let t = Tokenizer()
    XCTAssertEqual(
      tokens("iPhone 15 发布会", with: t), utf8(["iphone", "15", "发", "布", "会"]))
    XCTAssertEqual(tokens("北京2008年奥运会", with: t), utf8(["北", "京", "2008", "年", "奥", "运", "会"]))
    XCTAssertEqual(tokens("中文abc中文", with: t), utf8(["中", "文", "abc", "中", "文"]))
    XCTAssertEqual(tokens("ひらがなとカタカナ", with: t).count, 9)
    XCTAssertEqual(tokens("한국어 문장", with: t), utf8(["한국어", "문장"]))
    XCTAssertEqual(tokens("你好，世界！", with: t), utf8(["你", "好", ",", "世", "界", "!"]))
    // A Thai letter keeps the combining marks after it (U+0E35 vowel, U+0E48 tone).
    XCTAssertEqual(
      tokens("\u{0E14}\u{0E35}\u{0E48}\u{0E21}", with: t),
      utf8(["\u{0E14}\u{0E35}\u{0E48}", "\u{0E21}"]))
    // An ideograph from extension B (four UTF-8 bytes), then a compatibility ideograph.
    XCTAssertEqual(tokens("\u{20000}\u{2F800}x", with: t).count, 3)
    // Off (a model file written before the setting): one run, as before.
    let old = Tokenizer(splitsUnspacedScripts: false, normalizesCompatibility: false)
    XCTAssertEqual(tokens("iPhone 15 发布会", with: old), utf8(["iphone", "15", "发布会"]))
  }

  /// NFKC: full-width and compatibility forms read as their plain forms; a combining
  /// sequence reads as its precomposed letter; plain ASCII is untouched.
  func testCompatibilityFormsMatchTheirPlainForms() {
    let t = Tokenizer()
    XCTAssertEqual(tokens("ＡＢＣ １２３", with: t), tokens("abc 123", with: t))
    XCTAssertEqual(tokens("ﬁne ﬂow", with: t), utf8(["fine", "flow"]))
    XCTAssertEqual(tokens("ｶﾀｶﾅ", with: t), tokens("カタカナ", with: t))
    XCTAssertEqual(tokens("cafe\u{301}", with: t), utf8(["caf\u{E9}"]))
    XCTAssertEqual(tokens("x²", with: t), utf8(["x2"]))
    let off = Tokenizer(normalizesCompatibility: false)
    XCTAssertEqual(tokens("ＡＢＣ", with: off), utf8(["ａｂｃ"]))
    XCTAssertEqual(tokens("cafe\u{301}", with: off), [Array("cafe".utf8) + [0xCC, 0x81]])
    // Emoji with modifiers and joiners survive normalization unchanged.
    XCTAssertEqual(tokens("ok 👍🏽 👨‍👩‍👧", with: t), tokens("ok 👍🏽 👨‍👩‍👧", with: off))
  }

  /// A model file from before these settings reads them as off.
  func testOlderModelFilesDecodeWithTheOldTokenizer() throws {
    let old = try JSONDecoder().decode(
      Tokenizer.self, from: Data(#"{"keepPunctuation":false}"#.utf8))
    XCTAssertEqual(
      old,
      Tokenizer(
        keepPunctuation: false, splitsUnspacedScripts: false,
        normalizesCompatibility: false))
    let now = Tokenizer()
    XCTAssertEqual(try JSONDecoder().decode(Tokenizer.self, from: JSONEncoder().encode(now)), now)
  }

  func testUnspacedCountCountsTheCJKTokens() {
    var buf = TokenBuffer()
    Tokenizer().tokenize("iPhone 15 发布会，ok", into: &buf)
    XCTAssertEqual(buf.count, 7)
    XCTAssertEqual(buf.unspacedCount, 3)
  }

  func testBufferIsReused() {
    var buf = TokenBuffer()
    let t = Tokenizer()
    t.tokenize("one two three", into: &buf)
    t.tokenize("four", into: &buf)
    XCTAssertEqual(buf.strings, ["four"])
    XCTAssertEqual(buf.bytes, Array("four".utf8))
  }

  /// Pretrained-vector words are normalized and lowercased as whole strings
  /// (`PretrainedVectors.normalizedWord`); the tokenizer lowercases scalar by scalar. The
  /// two must agree, byte for byte, for the keys to meet.
  func testLowercasingAgreesWithPretrainedWords() {
    for word in [
      "ÉCOLE", "ÜBER", "ΟΔΟΣ", "İSTANBUL", "STRASSE", "ǅEMAL", "ДОМ", "ÅNGSTRÖM", "ＷＯＲＤ", "ﬁne",
      "CAFE\u{301}",
    ] {
      XCTAssertEqual(
        tokens(word, with: Tokenizer()), [Array(PretrainedVectors.normalizedWord(word).utf8)],
        word)
    }
  }
}
