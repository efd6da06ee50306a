/// Unlabelled input for `predict`: one text per line (LF or CRLF), every line kept, even
/// empty ones, so that output line i answers input line i. A line that is not valid
/// UTF-8 or holds a NUL byte is an error naming it.
public enum TextLines {
  public static func split(_ bytes: [UInt8], path: String) throws -> [String] {
    // `Lines.split` ends at the last newline: a final newline starts no extra line.
    try Lines.split(bytes, path: path).map { l in
      if let e = l.error { throw e }
      return String(l.text)
    }
  }
}
