import Foundation
import XCTest

@testable import Quarry

/// `Tokenizer.appendASCIIKeys` (the one-pass path) against the reference: `tokenize`
/// into a token buffer, then `FNV1a.hash` of each token.
final class ASCIIKeysTests: XCTestCase {
  func referenceKeys(_ bytes: [UInt8], _ tokenizer: Tokenizer) -> [UInt64] {
    var buf = TokenBuffer()
    bytes.withUnsafeBufferPointer { tokenizer.tokenize(utf8: $0, into: &buf) }
    return (0..<buf.count).map { FNV1a.hash(buf.bytes[buf.starts[$0]..<buf.ends[$0]]) }
  }

  func fastKeys(_ bytes: [UInt8], _ tokenizer: Tokenizer) -> [UInt64] {
    var keys: [UInt64] = [42]  // appends, leaving what was there
    bytes.withUnsafeBufferPointer { tokenizer.appendASCIIKeys($0, to: &keys) }
    XCTAssertEqual(keys.first, 42)
    return Array(keys.dropFirst())
  }

  /// Random text over an alphabet dense in the rules' edge cases: digits around '.' and
  /// ',', '_', upper case, punctuation, spaces, tabs, NUL and DEL.
  func testRandomASCIIGivesTheTokenizersKeys() {
    let alphabet = Array("aZ9 0.,_-!\t\n\u{0}\u{7F}Qq1..,,".utf8)
    var rng = SplitMix64(seed: 11)
    for round in 0..<2000 {
      let n = Int(rng.next() % 40)
      let bytes = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
      for punctuation in [true, false] {
        let t = Tokenizer(keepPunctuation: punctuation)
        XCTAssertEqual(fastKeys(bytes, t), referenceKeys(bytes, t), "round \(round): \(bytes)")
      }
    }
  }

  func testEveryASCIIByteAlone() {
    for b in UInt8(0)..<0x80 {
      for bytes in [[b], [0x31, b, 0x32], [0x41, b, 0x61, b]] {
        let t = Tokenizer()
        XCTAssertEqual(fastKeys(bytes, t), referenceKeys(bytes, t), "\(bytes)")
      }
    }
  }

  func testTheTinyCorpusGivesTheTokenizersKeys() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("Corpora/tiny/test.csv"))
    var checked = 0
    for line in text.split(separator: "\n") where line.utf8.allSatisfy({ $0 < 0x80 }) {
      let bytes = Array(line.utf8)
      XCTAssertEqual(fastKeys(bytes, Tokenizer()), referenceKeys(bytes, Tokenizer()))
      checked += 1
    }
    XCTAssertGreaterThan(checked, 10)
  }

  /// A byte at or above 0x80 at any position, in and around the eight-byte steps.
  func testIsASCIIFindsAHighByteAnywhere() {
    for n in 0..<20 {
      let plain = [UInt8](repeating: 0x61, count: n)
      XCTAssertTrue(plain.withUnsafeBufferPointer { Tokenizer.isASCII($0) })
      for i in 0..<n {
        var high = plain
        high[i] = 0x80
        XCTAssertFalse(high.withUnsafeBufferPointer { Tokenizer.isASCII($0) }, "\(n), \(i)")
      }
    }
  }

  /// The extractor takes the one-pass path for ASCII and the buffer for the rest; both
  /// give the reference's word keys and n-grams, and the unspaced count follows the last
  /// text whichever path it took.
  func testExtractorAgreesOnBothPaths() {
    var config = FeatureConfig()
    config.wordNgrams = 3
    var e = FeatureExtractor(config: config)
    for text in ["Oil rose 3.5 pct, to $18.", "iPhone 15 发布会，ok", "plain words again"] {
      e.extract(text)
      let words = referenceKeys(Array(text.utf8), config.tokenizer)
      XCTAssertEqual(e.wordKeys, words, text)
      var grams: [UInt64] = []
      for t in words.indices {
        var h = words[t]
        for o in 2...3 where t + o - 1 < words.count {
          h = FNV1a.combine(h, words[t + o - 1], tag: UInt8(o))
          grams.append(h)
        }
      }
      XCTAssertEqual(e.otherKeys, grams, text)
      XCTAssertEqual(e.unspacedTokens, text.contains("发") ? 3 : 0, text)
    }
  }
}
