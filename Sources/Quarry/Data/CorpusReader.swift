import Foundation

/// Reads a labelled corpus in any of the four formats. Every line must be valid UTF-8
/// without NUL bytes; blank lines are passed over. A bad row throws an `InputError`
/// naming the file and line, or, with `skipBadRows`, is counted in `Corpus.skipped`.
public enum CorpusReader {
  public static func read(
    path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false
  ) throws -> Corpus {
    let bytes = try FileBytes.read(path)
    return try parse(bytes: bytes, path: path, format: format, skipBadRows: skipBadRows)
  }

  public static func parse(
    bytes: [UInt8], path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false
  ) throws -> Corpus {
    let lines = try Lines.split(bytes, path: path)
    let first = lines.first { !$0.text.allSatisfy(\.isWhitespace) }
    let fmt = format ?? CorpusFormat.detect(path: path, firstLine: first?.text)
    var examples: [Example] = []
    var skipped: [InputError] = []
    func bad(_ e: InputError) throws {
      if skipBadRows { skipped.append(e) } else { throw e }
    }
    switch fmt {
    case .tsv, .fasttext, .jsonl:
      examples.reserveCapacity(lines.count)
      for l in lines {
        if let e = l.error {
          try bad(e)
          continue
        }
        if l.text.allSatisfy(\.isWhitespace) { continue }
        do {
          examples.append(try parseRow(l.text, format: fmt, path: path, line: l.number))
        } catch let e as InputError {
          try bad(e)
        }
      }
    case .csv:
      try CSVRows.parse(lines: lines, path: path, skip: bad) { examples.append($0) }
    }
    if examples.isEmpty {
      throw InputError(path: path, "no labelled rows (format \(fmt.rawValue))")
    }
    return Corpus(
      path: path, format: fmt, examples: examples, skipped: skipped,
      contentHash: Checksum.of(bytes))
  }

  static func parseRow(_ s: Substring, format: CorpusFormat, path: String, line: Int) throws
    -> Example
  {
    switch format {
    case .tsv:
      guard let tab = s.firstIndex(of: "\t") else {
        throw InputError(path: path, line: line, "expected label<TAB>text, found no tab")
      }
      let label = s[..<tab].trimmingCharacters(in: .whitespaces)
      let text = s[s.index(after: tab)...]
      return try checked(label: label, text: String(text), path: path, line: line)
    case .fasttext:
      var label: String? = nil
      var rest = s[...]
      while true {
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        guard rest.hasPrefix("__label__") else { break }
        let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
        if label == nil { label = String(rest[rest.index(rest.startIndex, offsetBy: 9)..<end]) }
        rest = rest[end...]
      }
      return try checked(label: label ?? "", text: String(rest), path: path, line: line)
    case .jsonl:
      guard let data = s.data(using: .utf8),
        let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else {
        throw InputError(path: path, line: line, "not a JSON object")
      }
      return try checked(
        label: jsonString(obj["label"]) ?? "", text: jsonString(obj["text"]) ?? "",
        path: path, line: line)
    case .csv:
      throw InputError(path: path, line: line, "CSV rows are parsed by CSVRows")
    }
  }

  static func jsonString(_ v: Any?) -> String? {
    switch v {
    case let s as String: return s
    case let n as NSNumber: return n.stringValue
    default: return nil
    }
  }

  static func checked(label: String, text: String, path: String, line: Int) throws -> Example {
    if label.isEmpty { throw InputError(path: path, line: line, "missing label") }
    if text.allSatisfy(\.isWhitespace) { throw InputError(path: path, line: line, "missing text") }
    return Example(line: line, label: label, text: text)
  }
}
