import Foundation

/// A file's lines, 1-based, with the line terminator (LF or CRLF) removed. A line that is
/// not valid UTF-8 or holds a NUL byte carries an error instead of text.
struct Line {
  var number: Int
  var text: Substring
  var error: InputError?
}

enum Lines {
  /// The lines of `bytes`, numbered from `firstLine` (a piece of a file after line
  /// `firstLine` − 1).
  static func split(_ bytes: [UInt8], path: String, firstLine: Int = 1) throws -> [Line] {
    var out: [Line] = []
    // A UTF-8 byte-order mark (as spreadsheet exports write) is not part of line 1.
    var start = firstLine == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var number = firstLine - 1
    let n = bytes.count
    bytes.withUnsafeBufferPointer { buf in
      while start < n {
        number += 1
        var end = start
        var hasNul = false
        while end < n, buf[end] != 0x0A {
          if buf[end] == 0 { hasNul = true }
          end += 1
        }
        var stop = end
        if stop > start, buf[stop - 1] == 0x0D { stop -= 1 }
        let slice = UnsafeBufferPointer(rebasing: buf[start..<stop])
        if hasNul {
          out.append(
            Line(
              number: number, text: "",
              error: InputError(path: path, line: number, "NUL byte in line")))
        } else if let s = String(validating: slice, as: UTF8.self) {
          out.append(Line(number: number, text: Substring(s), error: nil))
        } else {
          out.append(
            Line(
              number: number, text: "", error: InputError(path: path, line: number, "invalid UTF-8")
            ))
        }
        start = end + 1
      }
    }
    return out
  }
}

/// Reading a whole file, with errors that name it.
public enum FileBytes {
  public static func read(_ path: String, allowEmpty: Bool = false) throws -> [UInt8] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw InputError(path: path, "no such file")
    }
    if isDir.boolValue { throw InputError(path: path, "is a directory, not a file") }
    guard access(path, R_OK) == 0 else {
      throw InputError(path: path, "cannot be read (\(String(cString: strerror(errno))))")
    }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw InputError(path: path, "cannot be opened (\(String(cString: strerror(errno))))")
    }
    defer { close(fd) }
    let bytes = try readToEnd(fd, path: path)
    if bytes.isEmpty && !allowEmpty { throw InputError(path: path, "empty file") }
    return bytes
  }

  /// Standard input to its end (a pipe, a file or a terminal); errors name it `<stdin>`.
  public static func readStandardInput() throws -> [UInt8] {
    try readToEnd(STDIN_FILENO, path: "<stdin>")
  }

  /// Every byte left in `fd`. A regular file is read into one buffer of its size (grown if
  /// it grew meanwhile); a pipe or a device has no size and grows its buffer as it goes.
  /// Foundation's FileHandle.readToEnd plus the copy into [UInt8] read an R8 model at
  /// 850 MB/s.
  static func readToEnd(_ fd: Int32, path: String) throws -> [UInt8] {
    var st = stat()
    let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    var bytes = [UInt8](repeating: 0, count: regular ? Int(st.st_size) + 1 : 1 << 16)
    var used = 0
    while true {
      if used == bytes.count { bytes += repeatElement(0, count: bytes.count) }
      let n = bytes.withUnsafeMutableBytes {
        Glibc.read(fd, $0.baseAddress! + used, $0.count - used)
      }
      if n == 0 { break }
      if n < 0 {
        if errno == EINTR { continue }
        throw InputError(path: path, "cannot be read (\(String(cString: strerror(errno))))")
      }
      used += n
    }
    bytes.removeLast(bytes.count - used)
    return bytes
  }
}
