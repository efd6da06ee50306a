import XCTest

@testable import Quarry

/// `sortRows` (the featurizer's sort) against the standard library's sort as reference.
final class SortRowsTests: XCTestCase {
  func sorted(_ a: [Int32]) -> [Int32] {
    var b = a
    b.withUnsafeMutableBufferPointer { sortRows($0) }
    return b
  }

  func testMatchesTheStandardSortOnRandomInputOfManySizes() {
    var rng = SplitMix64(seed: 42)
    for n in [0, 1, 2, 3, 23, 24, 25, 47, 100, 333, 1000, 5000] {
      for range in [3, 50, 1_000_000] {  // many duplicates … almost none
        let a = (0..<n).map { _ in Int32(rng.next() % UInt64(range)) }
        XCTAssertEqual(sorted(a), a.sorted(), "n \(n), values below \(range)")
      }
    }
  }

  func testSortedReversedAndConstantInput() {
    let up = (0..<500).map(Int32.init)
    XCTAssertEqual(sorted(up), up)
    XCTAssertEqual(sorted(up.reversed()), up)
    XCTAssertEqual(sorted([Int32](repeating: 7, count: 300)), [Int32](repeating: 7, count: 300))
    XCTAssertEqual(sorted([Int32.max, Int32.min, 0, -1, 1]), [Int32.min, -1, 0, 1, Int32.max])
  }

  /// Above the insertion-sort cutoff the radix sort runs: negative rows, rows that differ
  /// only in their top byte, and rows that share every byte but one must all come out
  /// in order.
  func testRadixPathOnNegativeAndWideRows() {
    var rng = SplitMix64(seed: 7)
    let full = (0..<300).map { _ in Int32(truncatingIfNeeded: rng.next()) }
    XCTAssertEqual(sorted(full), full.sorted())
    let topByte = (0..<200).map { Int32(truncatingIfNeeded: UInt32(($0 * 37) % 256) << 24) }
    XCTAssertEqual(sorted(topByte), topByte.sorted())
    let secondByte = (0..<200).map { (i: Int) -> Int32 in
      let middle = Int32((i * 91) % 256)
      return (5 << 16) | (middle << 8) | 3
    }
    XCTAssertEqual(sorted(secondByte), secondByte.sorted())
  }
}
