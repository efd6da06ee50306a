import Foundation
import XCTest

@testable import Quarry

/// `FileBytes.read`: every byte of a regular file or a pipe, and errors that name the file.
final class FileBytesTests: XCTestCase {
  func testRegularFilesOfManySizesComeBackByteForByte() throws {
    var rng = SplitMix64(seed: 61)
    try withTemporaryDirectory { dir in
      // Around the pipe buffer's 64 KiB and a size that takes several reads.
      for n in [1, 2, 4095, 65_535, 65_536, 65_537, 3_000_001] {
        let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let path = dir + "/f\(n).bin"
        try writeFile(path, bytes)
        XCTAssertEqual(try FileBytes.read(path), bytes, "\(n) bytes")
      }
    }
  }

  /// A FIFO has no size: its bytes arrive in pieces until the writer closes it.
  func testFIFOIsReadToItsEnd() throws {
    var rng = SplitMix64(seed: 62)
    let bytes = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    try withTemporaryDirectory { dir in
      let path = dir + "/fifo"
      XCTAssertEqual(mkfifo(path, 0o600), 0)
      // A reader that stopped early must fail the assertion below, not kill the run.
      signal(SIGPIPE, SIG_IGN)
      let writer = Thread {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return }
        var offset = 0
        while offset < bytes.count {
          let piece = min(10_000, bytes.count - offset)
          let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, piece) }
          if n <= 0 { break }
          offset += n
        }
        close(fd)
      }
      writer.start()
      XCTAssertEqual(try FileBytes.read(path), bytes)
    }
  }

  func testErrorsNameTheFile() throws {
    try withTemporaryDirectory { dir in
      let missing = expectInputError("missing") { _ = try FileBytes.read(dir + "/nope") }
      XCTAssertEqual(missing?.path, dir + "/nope")
      XCTAssertTrue(missing?.description.contains("no such file") ?? false)
      let directory = expectInputError("directory") { _ = try FileBytes.read(dir) }
      XCTAssertTrue(directory?.description.contains("directory") ?? false)
      let empty = dir + "/empty"
      try writeFile(empty, [])
      let e = expectInputError("empty") { _ = try FileBytes.read(empty) }
      XCTAssertTrue(e?.description.contains("empty file") ?? false)
      XCTAssertEqual(try FileBytes.read(empty, allowEmpty: true), [])
    }
  }
}
