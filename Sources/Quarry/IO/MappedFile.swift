import Foundation

/// A file mapped read-only into memory: its bytes without a copy, unmapped on deinit.
/// Large pretrained files are read this way, so that reading costs page faults, not a
/// copy of the whole file.
public final class MappedFile: @unchecked Sendable {
  public let path: String
  public let count: Int
  private let base: UnsafeRawPointer?

  public init(_ path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw InputError(
        path: path,
        FileManager.default.fileExists(atPath: path)
          ? "cannot be read (\(String(cString: strerror(errno))))" : "no such file")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw InputError(path: path, "cannot be read (\(String(cString: strerror(errno))))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw InputError(path: path, "is not a regular file")
    }
    count = Int(st.st_size)
    guard count > 0 else { throw InputError(path: path, "empty file") }
    let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let p, p != MAP_FAILED else {
      throw InputError(path: path, "cannot be mapped (\(String(cString: strerror(errno))))")
    }
    base = UnsafeRawPointer(p)
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
  }

  /// The bytes, valid while `self` lives.
  public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count))
  }

  /// The address of byte `offset`, valid while `self` lives (the mapping is read-only and
  /// never moves).
  func address(_ offset: Int) -> UnsafeRawPointer {
    precondition(offset >= 0 && offset <= count)
    return base! + offset
  }

  /// The first `n` bytes (or fewer), copied.
  public static func prefix(_ path: String, _ n: Int) throws -> [UInt8] {
    guard let h = FileHandle(forReadingAtPath: path) else {
      throw InputError(
        path: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
      )
    }
    defer { try? h.close() }
    let d = (try? h.read(upToCount: n)) ?? Data()
    if d.isEmpty { throw InputError(path: path, "empty file") }
    return [UInt8](d)
  }
}
