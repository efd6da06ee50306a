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
