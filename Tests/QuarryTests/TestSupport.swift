import Foundation
import XCTest

@testable import Quarry

/// Uniform floats in [-scale, scale) from a seeded generator.
func randomFloats(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
  (0..<n).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
}

/// Calls `body` with compressed sparse rows (`starts`, `rows`, `values`) as the kernels
/// read them, and `docs` as a batch.
func withCSRView<R>(
  starts: [Int], rows: [Int32], values: [Float], docs: [Int],
  _ body: (CSRView, UnsafeBufferPointer<Int>) -> R
) -> R {
  starts.withUnsafeBufferPointer { s in
    rows.withUnsafeBufferPointer { r in
      values.withUnsafeBufferPointer { v in
        docs.withUnsafeBufferPointer { d in
          body(CSRView(starts: s.base, rows: r.base, values: v.base), d)
        }
      }
    }
  }
}

/// A fresh empty directory under the system temporary directory, removed by `body`'s end.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
  let dir = NSTemporaryDirectory() + "quarry-tests-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  return try body(dir)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writeFile(_ path: String, _ text: String) throws {
  try writeFile(path, Array(text.utf8))
}

/// `|a − b| ≤ rel · max(|a|, |b|) + abs`.
func isClose(_ a: Double, _ b: Double, rel: Double, abs: Double) -> Bool {
  Swift.abs(a - b) <= rel * max(Swift.abs(a), Swift.abs(b)) + abs
}

/// Runs `body` expecting an `InputError`; returns it (nil and a failure otherwise).
@discardableResult
func expectInputError(
  _ what: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) -> InputError? {
  do {
    try body()
    XCTFail("\(what): expected an InputError, got none", file: file, line: line)
  } catch let e as InputError {
    return e
  } catch {
    XCTFail("\(what): expected an InputError, got \(error)", file: file, line: line)
  }
  return nil
}
