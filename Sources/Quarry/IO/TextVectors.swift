import Foundation

/// The word-vector text format: an optional `N DIM` header line, then `word v1 … vDIM`.
enum TextVectors {
  /// The dimension from the header, or from the first vector line.
  static func scanDimension(_ bytes: [UInt8], path: String) throws -> Int {
    var lineNo = 0
    var start = 0
    while start < bytes.count, lineNo < 2 {
      lineNo += 1
      let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      let fields = String(decoding: bytes[start..<end], as: UTF8.self)
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
      if lineNo == 1, fields.count == 2, let d = Int(fields[1]), Int(fields[0]) != nil {
        guard d > 0 else { throw InputError(path: path, line: 1, "header gives dimension \(d)") }
        return d
      }
      if fields.count >= 2 { return fields.count - 1 }
      start = end + 1
    }
    throw InputError(path: path, "no vector lines")
  }

  static func load(path: String, vocabulary: Vocabulary, into embedding: [Float], dim: Int)
    throws -> PretrainedVectors.Result
  {
    var bytes = try FileBytes.read(path)
    bytes.append(0)  // strtof may look one byte past the last number
    var out = embedding
    var found = [Bool](repeating: false, count: vocabulary.wordCount)
    var duplicates = 0
    var words = 0
    var headerCount: Int? = nil
    let wordCount = vocabulary.wordCount
    let index = vocabulary.index
    try bytes.withUnsafeBufferPointer { buf in
      let n = buf.count - 1
      let base = buf.base
      var start = 0
      var lineNo = 0
      var lowered: [UInt8] = []
      while start < n {
        lineNo += 1
        let nl = memchr(base + start, 0x0A, n - start)
        let end =
          nl.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? n
        defer { start = end + 1 }
        // The word runs to the first space.
        var w = start
        while w < end, base[w] != 0x20 { w += 1 }
        if w == end {
          if end > start && !(end == start + 1 && base[start] == 0x0D) {
            throw InputError(
              path: path, line: lineNo, "expected 'word v1 … v\(dim)', found no space")
          }
          continue
        }
        if lineNo == 1, TextVectors.isHeader(buf, start, end) {
          headerCount = Int(
            String(decoding: UnsafeBufferPointer(rebasing: buf[start..<w]), as: UTF8.self))
          continue
        }
        words += 1
        // Lowercase the word (ASCII in place; other text through String).
        lowered.removeAll(keepingCapacity: true)
        var ascii = true
        for i in start..<w {
          let b = base[i]
          if b >= 0x80 {
            ascii = false
            break
          }
          lowered.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
        }
        if !ascii {
          guard
            let s = String(validating: UnsafeBufferPointer(rebasing: buf[start..<w]), as: UTF8.self)
          else {
            throw InputError(path: path, line: lineNo, "word is not valid UTF-8")
          }
          lowered = Array(s.lowercased().utf8)
        }
        let r = Int(index.row(FeatureExtractor.wordKey(lowered)))
        guard r >= 0, r < wordCount else { continue }
        if found[r] {
          duplicates += 1
          continue
        }
        // Parse exactly `dim` floats.
        var p = UnsafeMutablePointer(mutating: base + w)
        let stop = base + end
        for j in 0..<dim {
          while p < stop, p.pointee == 0x20 || p.pointee == 0x09 { p += 1 }
          if p >= stop || p.pointee == 0x0D {
            throw InputError(path: path, line: lineNo, "\(j) values, expected \(dim)")
          }
          var q: UnsafeMutablePointer<CChar>? = nil
          let v = p.withMemoryRebound(to: CChar.self, capacity: 1) { c -> Float in
            strtof(c, &q)
          }
          guard let q, UnsafeMutableRawPointer(q) != UnsafeMutableRawPointer(p) else {
            throw InputError(path: path, line: lineNo, "value \(j + 1) is not a number")
          }
          guard v.isFinite else {
            throw InputError(path: path, line: lineNo, "value \(j + 1) is \(v)")
          }
          out[r * dim + j] = v
          p = UnsafeMutableRawPointer(q).assumingMemoryBound(to: UInt8.self)
        }
        while p < stop, p.pointee == 0x20 || p.pointee == 0x09 || p.pointee == 0x0D { p += 1 }
        if p < stop {
          throw InputError(path: path, line: lineNo, "more than \(dim) values")
        }
        found[r] = true
      }
    }
    if let headerCount, headerCount != words {
      // A count that disagrees with the lines is worth an error: the file is probably cut.
      throw InputError(path: path, line: 1, "header says \(headerCount) words, file has \(words)")
    }
    return PretrainedVectors.Result(
      embedding: out, dim: dim, found: found, fileWords: words, duplicates: duplicates)
  }

  /// A first line of exactly two integers is the `N DIM` header.
  static func isHeader(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
    let f = String(decoding: UnsafeBufferPointer(rebasing: b[s..<e]), as: UTF8.self)
      .split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\t" })
    return f.count == 2 && Int(f[0]) != nil && Int(f[1]) != nil
  }
}
