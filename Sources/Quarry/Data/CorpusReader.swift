import Foundation

/// Reads a labelled corpus in any of the four formats. Every line must be valid UTF-8
/// without NUL bytes; blank lines are passed over. A bad row throws an `InputError`
/// naming the file and line, or, with `skipBadRows`, is counted in `Corpus.skipped`.
///
/// A row may carry several labels: several `__label__` prefixes (fastText), a label
/// column holding labels joined by `labelSeparator` (TSV's first column, CSV's `labels`
/// column), or a `"labels"` array (JSON Lines). An empty `labelSeparator` reads TSV's
/// label column whole.
public enum CorpusReader {
  /// The separator of several labels in one TSV or CSV field, unless told otherwise.
  public static let defaultLabelSeparator = ","

  public static func read(
    path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false,
    labelSeparator: String = defaultLabelSeparator
  ) throws -> Corpus {
    let bytes = try FileBytes.read(path)
    return try parse(
      bytes: bytes, path: path, format: format, skipBadRows: skipBadRows,
      labelSeparator: labelSeparator)
  }

  public static func parse(
    bytes: [UInt8], path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false,
    labelSeparator: String = defaultLabelSeparator
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
          examples.append(
            try parseRow(
              l.text, format: fmt, path: path, line: l.number, labelSeparator: labelSeparator))
        } catch let e as InputError {
          try bad(e)
        }
      }
    case .csv:
      try CSVRows.parse(lines: lines, path: path, labelSeparator: labelSeparator, skip: bad) {
        examples.append($0)
      }
    }
    if examples.isEmpty {
      throw InputError(path: path, "no labelled rows (format \(fmt.rawValue))")
    }
    return Corpus(
      path: path, format: fmt, examples: examples, skipped: skipped,
      contentHash: Checksum.of(bytes))
  }

  static func parseRow(
    _ s: Substring, format: CorpusFormat, path: String, line: Int,
    labelSeparator: String = defaultLabelSeparator
  ) throws -> Example {
    switch format {
    case .tsv:
      guard let tab = s.firstIndex(of: "\t") else {
        throw InputError(path: path, line: line, "expected label<TAB>text, found no tab")
      }
      let labels = try splitLabels(
        String(s[..<tab]), separator: labelSeparator, path: path, line: line)
      let text = s[s.index(after: tab)...]
      return try checked(labels: labels, text: String(text), path: path, line: line)
    case .fasttext:
      var labels: [String] = []
      var rest = s[...]
      while true {
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        guard rest.hasPrefix("__label__") else { break }
        let end = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? rest.endIndex
        labels.append(String(rest[rest.index(rest.startIndex, offsetBy: 9)..<end]))
        rest = rest[end...]
      }
      return try checked(labels: labels, text: String(rest), path: path, line: line)
    case .jsonl:
      guard let data = s.data(using: .utf8),
        let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else {
        throw InputError(path: path, line: line, "not a JSON object")
      }
      let labels: [String]
      if obj["labels"] != nil {
        guard obj["label"] == nil else {
          throw InputError(path: path, line: line, "both \"label\" and \"labels\": give one")
        }
        labels = try jsonLabels(obj["labels"]!, path: path, line: line)
      } else {
        labels = [try jsonField("label", obj, path: path, line: line)]
      }
      return try checked(
        labels: labels, text: jsonField("text", obj, path: path, line: line), path: path,
        line: line)
    case .csv:
      throw InputError(path: path, line: line, "CSV rows are parsed by CSVRows")
    }
  }

  /// The field `key` of a JSON Lines row as text: a string as it is, a number as it is
  /// written; "" when absent. A boolean, null, array or object is an error: a label of
  /// `true` must not become "1" and merge with the label 1.
  static func jsonField(_ key: String, _ obj: [String: Any], path: String, line: Int) throws
    -> String
  {
    switch obj[key] {
    case nil: return ""
    case let s as String: return s
    case let n as NSNumber:
      // JSONSerialization gives a boolean as an NSNumber of ObjC type "c"; numbers never are.
      guard String(cString: n.objCType) != "c" else {
        throw InputError(
          path: path, line: line,
          "\(key) is a JSON boolean (\(n.boolValue)): give text or a number")
      }
      return n.stringValue
    case is NSNull:
      throw InputError(path: path, line: line, "\(key) is null: give text or a number")
    case is [Any]:
      throw InputError(path: path, line: line, "\(key) is a JSON array: give text or a number")
    default:
      throw InputError(path: path, line: line, "\(key) is a JSON object: give text or a number")
    }
  }

  /// A JSON Lines row's `"labels"`: a non-empty array of strings or numbers (each as
  /// `jsonField` reads one).
  static func jsonLabels(_ value: Any, path: String, line: Int) throws -> [String] {
    guard let items = value as? [Any] else {
      throw InputError(path: path, line: line, "labels is not a JSON array: give [\"a\", \"b\"]")
    }
    guard !items.isEmpty else {
      throw InputError(path: path, line: line, "labels is an empty array: a row needs a label")
    }
    return try items.map { try jsonField("labels", ["labels": $0], path: path, line: line) }
  }

  /// The labels of a TSV or CSV label field: split at `separator` (not at all when it is
  /// empty), each trimmed of spaces. An empty piece between separators is an error.
  static func splitLabels(_ field: String, separator: String, path: String, line: Int) throws
    -> [String]
  {
    let whole = field.trimmingCharacters(in: .whitespaces)
    guard !separator.isEmpty, whole.contains(separator) else { return [whole] }
    let parts = whole.components(separatedBy: separator).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    if parts.contains(where: \.isEmpty) {
      throw InputError(
        path: path, line: line,
        "an empty label in '\(whole)' (labels are separated by '\(separator)'; --label-separator changes it, --label-separator '' reads the field as one label)"
      )
    }
    return parts
  }

  /// An example, after checking that the label is printable text (no control character:
  /// a tab, a newline or a NUL in a label would break every line of predict's output) and
  /// that there is a text.
  static func checked(label: String, text: String, path: String, line: Int) throws -> Example {
    try checked(labels: [label], text: text, path: path, line: line)
  }

  /// An example of several labels (repeats dropped), each checked as `checked(label:…)`.
  static func checked(labels: [String], text: String, path: String, line: Int) throws
    -> Example
  {
    if labels.isEmpty || labels == [""] {
      throw InputError(path: path, line: line, "missing label")
    }
    if labels.contains(where: \.isEmpty) {
      throw InputError(
        path: path, line: line,
        "an empty label among \(labels.count) (\(labels.map { "'\($0)'" }.joined(separator: ", "))): every label needs a name"
      )
    }
    for label in labels {
      if let bad = label.unicodeScalars.first(where: isControl) {
        throw InputError(
          path: path, line: line,
          "label holds \(controlName(bad)): a label must be printable text")
      }
    }
    if text.allSatisfy(\.isWhitespace) { throw InputError(path: path, line: line, "missing text") }
    var seen = Set<String>()
    return Example(line: line, labels: labels.filter { seen.insert($0).inserted }, text: text)
  }

  /// Control characters (Unicode's Cc) and the line and paragraph separators.
  static func isControl(_ u: Unicode.Scalar) -> Bool {
    u.properties.generalCategory == .control || u.value == 0x2028 || u.value == 0x2029
  }

  /// "a tab (U+0009)".
  static func controlName(_ u: Unicode.Scalar) -> String {
    let hex = String(u.value, radix: 16, uppercase: true)
    let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    switch u.value {
    case 0x09: return "a tab (\(code))"
    case 0x0A: return "a line feed (\(code))"
    case 0x0D: return "a carriage return (\(code))"
    case 0x00: return "a NUL (\(code))"
    default: return "a control character (\(code))"
    }
  }
}
