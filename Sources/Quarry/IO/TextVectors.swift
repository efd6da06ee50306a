import Foundation

/// The word-vector text format: an optional `N DIM` header line, then `word v1 … vDIM`.
///
/// Loading maps the file and works in three passes:
/// 1. both threads scan half the lines each, hashing every word (lowercased) and keeping
///    the lines whose word the vocabulary knows;
/// 2. in file order, the first line of each word wins and later ones count as duplicates;
/// 3. both threads parse the winners' values into their rows.
/// Lines of other words are not parsed: their values go unchecked.
enum TextVectors {
  /// The dimension from the header, or from the first vector line (reads 64 KiB at most).
  static func scanDimension(path: String) throws -> Int {
    let bytes = try MappedFile.prefix(path, 1 << 16)
    var lineNo = 0
    var start = 0
    while start < bytes.count, lineNo < 2 {
      lineNo += 1
      let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      let fields = String(decoding: bytes[start..<end], as: UTF8.self)
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
      if lineNo == 1, fields.count == 2, let d = Int(fields[1]), Int(fields[0]) != nil {
        guard d > 0, d <= 1 << 16 else {
          throw InputError(path: path, line: 1, "header gives dimension \(d)")
        }
        return d
      }
      if fields.count >= 2 {
        guard fields.count - 1 <= 1 << 16 else {
          throw InputError(
            path: path, line: lineNo, "\(fields.count - 1) values: too wide for vectors")
        }
        return fields.count - 1
      }
      start = end + 1
    }
    throw InputError(path: path, "no vector lines in the first 64 KiB")
  }

  /// A line whose word the vocabulary knows (or any word line, when scanning for all).
  private struct Match {
    var row: Int32
    var key: UInt64
    var line: Int  // within its part, 1-based
    var valuesStart: Int
    var end: Int
  }

  private struct PartScan {
    var matches: [Match] = []
    var lines = 0
    var words = 0
    var headerCount: Int? = nil
    var error: (line: Int, message: String)? = nil
  }

  /// Pass 1 on `threads` threads over contiguous pieces of whole lines: the matching lines
  /// of each piece and the line number each piece starts after. Throws the first bad line.
  private static func scanParts(
    _ buf: UnsafeBufferPointer<UInt8>, path: String, index: FeatureIndex?, wordCount: Int,
    dim: Int, threads: Int
  ) throws -> (scans: [PartScan], lineBase: [Int]) {
    let n = buf.count
    let base = buf.base
    let parts = n > 1 << 20 ? max(1, threads) : 1
    var bounds = [0]
    for t in 1..<parts {
      var s = max(n * t / parts, bounds[t - 1])
      while s < n, base[s - 1] != 0x0A { s += 1 }
      bounds.append(s)
    }
    bounds.append(n)
    var scans = [PartScan](repeating: PartScan(), count: parts)
    scans.withUnsafeMutableBufferPointer { out in
      parallelFor(parts) { t in
        out[t] = scan(
          base, bounds[t]..<bounds[t + 1], isFirst: t == 0, index: index, wordCount: wordCount,
          dim: dim)
      }
    }
    var lineBase = [0]
    for s in scans { lineBase.append(lineBase[lineBase.count - 1] + s.lines) }
    for (t, s) in scans.enumerated() {
      if let e = s.error { throw InputError(path: path, line: lineBase[t] + e.line, e.message) }
    }
    let words = scans.reduce(0) { $0 + $1.words }
    if let h = scans[0].headerCount, h != words {
      throw InputError(path: path, line: 1, "header says \(h) words, the file has \(words)")
    }
    return (scans, lineBase)
  }

  /// Pass 3: parses the values of `lines` (match, line number) into `out`, row i of it
  /// at `rowOf(i, match)`·dim, each thread a contiguous share; throws the first bad line.
  private static func parseLines(
    _ base: UnsafePointer<UInt8>, _ lines: [(Match, Int)], path: String, dim: Int,
    threads: Int, into out: inout [Float], rowOf: (Int, Match) -> Int
  ) throws {
    let parts = lines.count >= 1024 ? max(1, threads) : 1
    var errors = [(line: Int, message: String)?](repeating: nil, count: parts)
    out.withUnsafeMutableBufferPointer { o in
      errors.withUnsafeMutableBufferPointer { errs in
        parallelFor(parts) { t in
          for i in chunk(lines.count, part: t, parts: parts) {
            let (m, line) = lines[i]
            if let message = parseValues(
              base + m.valuesStart, base + m.end, dim: dim, into: o.base + rowOf(i, m) * dim)
            {
              errs[t] = (line, message)
              return
            }
          }
        }
      }
    }
    if let e = errors.compactMap({ $0 }).min(by: { $0.line < $1.line }) {
      throw InputError(path: path, line: e.line, e.message)
    }
  }

  /// Every word of the file, in file order: its key (FNV-1a of the lowercased word) and its
  /// vector, every line checked. For `VectorCache`.
  static func loadAll(path: String, dim: Int, threads: Int = 2) throws -> (
    keys: [UInt64], vectors: [Float]
  ) {
    let file = try MappedFile(path)
    return try file.withBytes { buf in
      let (scans, lineBase) = try scanParts(
        buf, path: path, index: nil, wordCount: 0, dim: dim, threads: threads)
      var lines: [(Match, Int)] = []
      for (t, s) in scans.enumerated() {
        for m in s.matches { lines.append((m, lineBase[t] + m.line)) }
      }
      var vectors = [Float](repeating: 0, count: lines.count * dim)
      try parseLines(
        buf.base, lines, path: path, dim: dim, threads: threads, into: &vectors
      ) { i, _ in i }
      return (lines.map { $0.0.key }, vectors)
    }
  }

  static func load(
    path: String, vocabulary: Vocabulary, into embedding: [Float], dim: Int, threads: Int = 2
  ) throws -> PretrainedVectors.Result {
    let file = try MappedFile(path)
    return try file.withBytes { buf in
      let (scans, lineBase) = try scanParts(
        buf, path: path, index: vocabulary.index, wordCount: vocabulary.wordCount, dim: dim,
        threads: threads)
      // Duplicates in file order: the first line of a word wins.
      var found = [Bool](repeating: false, count: vocabulary.wordCount)
      var winners: [(Match, Int)] = []
      var duplicates = 0
      for (t, s) in scans.enumerated() {
        for m in s.matches {
          if found[Int(m.row)] {
            duplicates += 1
          } else {
            found[Int(m.row)] = true
            winners.append((m, lineBase[t] + m.line))
          }
        }
      }
      let words = scans.reduce(0) { $0 + $1.words }
      // Parse the winners' values into their rows.
      var out = embedding
      try parseLines(
        buf.base, winners, path: path, dim: dim, threads: buf.count > 1 << 20 ? threads : 1,
        into: &out
      ) { _, m in Int(m.row) }
      return PretrainedVectors.Result(
        embedding: out, dim: dim, found: found, fileWords: words, duplicates: duplicates)
    }
  }

  /// Pass 1 over the lines of `range`.
  private static func scan(
    _ base: UnsafePointer<UInt8>, _ range: Range<Int>, isFirst: Bool, index: FeatureIndex?,
    wordCount: Int, dim: Int
  ) -> PartScan {
    var r = PartScan()
    var start = range.lowerBound
    let n = range.upperBound
    var lowered: [UInt8] = []
    while start < n {
      r.lines += 1
      let nl = memchr(base + start, 0x0A, n - start)
      let end = nl.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? n
      defer { start = end + 1 }
      var w = start
      while w < end, base[w] != 0x20 {
        if base[w] == 0x09 {
          r.error = (r.lines, "the word holds a tab: fields are separated by spaces")
          return r
        }
        w += 1
      }
      if w == end {
        let blank = end == start || (end == start + 1 && base[start] == 0x0D)
        if !blank {
          r.error = (r.lines, "expected 'word v1 … v\(dim)', found no space")
          return r
        }
        continue
      }
      if isFirst, r.lines == 1, isHeader(base, start, end) {
        r.headerCount = Int(
          String(
            decoding: UnsafeBufferPointer(start: base + start, count: w - start), as: UTF8.self))
        continue
      }
      r.words += 1
      // Lowercase the word: ASCII in place, other text through String.
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
          let s = String(
            validating: UnsafeBufferPointer(start: base + start, count: w - start), as: UTF8.self)
        else {
          r.error = (r.lines, "word is not valid UTF-8")
          return r
        }
        lowered = Array(PretrainedVectors.normalizedWord(s).utf8)
      }
      let key = lowered.withUnsafeBufferPointer { FNV1a.hash($0, 0..<$0.count) }
      guard let index else {
        r.matches.append(Match(row: -1, key: key, line: r.lines, valuesStart: w, end: end))
        continue
      }
      let found = index.row(key)
      if found >= 0, Int(found) < wordCount {
        r.matches.append(Match(row: found, key: key, line: r.lines, valuesStart: w, end: end))
      }
    }
    return r
  }

  /// Parses exactly `dim` values from `p..<end` into `out`; nil, or what is wrong.
  private static func parseValues(
    _ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, dim: Int,
    into out: UnsafeMutablePointer<Float>
  ) -> String? {
    var q = p
    for j in 0..<dim {
      while q < end, q.pointee == 0x20 || q.pointee == 0x09 { q += 1 }
      if q >= end || q.pointee == 0x0D { return "\(j) values, expected \(dim)" }
      guard let (v, next) = parseDecimal(q, end) else { return "value \(j + 1) is not a number" }
      guard v.isFinite else { return "value \(j + 1) is \(v)" }
      if next < end, next.pointee != 0x20, next.pointee != 0x09, next.pointee != 0x0D {
        return "value \(j + 1) is not a number"
      }
      out[j] = v
      q = next
    }
    while q < end, q.pointee == 0x20 || q.pointee == 0x09 || q.pointee == 0x0D { q += 1 }
    return q < end ? "more than \(dim) values" : nil
  }

  /// A first line of exactly two integers is the `N DIM` header.
  private static func isHeader(_ b: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Bool {
    let f = String(decoding: UnsafeBufferPointer(start: b + s, count: e - s), as: UTF8.self)
      .split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\t" })
    return f.count == 2 && Int(f[0]) != nil && Int(f[1]) != nil
  }
}
