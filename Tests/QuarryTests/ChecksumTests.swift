import XCTest

@testable import Quarry

final class ChecksumTests: XCTestCase {
  func testChecksumDetectsEverySingleBitFlip() {
    var rng = SplitMix64(seed: 1)
    let base = (0..<1000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    let h = Checksum.of(base)
    // Every bit of every byte.
    var b = base
    for pos in 0..<base.count {
      for bit in 0..<8 {
        b[pos] ^= UInt8(1 << bit)
        if Checksum.of(b) == h { XCTFail("byte \(pos) bit \(bit) goes unnoticed") }
        b[pos] ^= UInt8(1 << bit)
      }
    }
    // The 64 single-bit variants of one 8-byte word are pairwise distinct (each step of
    // the checksum is a bijection of the running state for a fixed word).
    for word in [0, 62, 124] {
      var seen = Set<UInt64>()
      for bit in 0..<64 {
        b[word * 8 + bit / 8] ^= UInt8(1 << (bit % 8))
        seen.insert(Checksum.of(b))
        b[word * 8 + bit / 8] ^= UInt8(1 << (bit % 8))
      }
      XCTAssertEqual(seen.count, 64, "word \(word)")
    }
    // A tail that is not a whole 8-byte word.
    let odd = Array(base.prefix(1003 - 8)) + [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    for pos in [odd.count - 3, odd.count - 1] {
      for bit in 0..<8 {
        var b = odd
        b[pos] ^= UInt8(1 << bit)
        XCTAssertNotEqual(Checksum.of(b), Checksum.of(odd), "tail byte \(pos) bit \(bit)")
      }
    }
  }

  func testChecksumDiffersByLength() {
    var seen = Set<UInt64>()
    for n in 0..<300 { seen.insert(Checksum.of([UInt8](repeating: 0, count: n))) }
    XCTAssertEqual(seen.count, 300)
    let bytes: [UInt8] = Array(0..<64)
    XCTAssertEqual(
      bytes.withUnsafeBytes { Checksum.of($0) }, Checksum.of(bytes), "raw and array agree")
    XCTAssertNotEqual(Checksum.of(Array(bytes.prefix(63))), Checksum.of(bytes))
  }
}
