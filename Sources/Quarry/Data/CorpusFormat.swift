/// The four corpus formats, told apart by extension, then by content.
public enum CorpusFormat: String, Sendable, Codable, CaseIterable {
  /// `label<TAB>text`
  case tsv
  /// `__label__X text` (fastText)
  case fasttext
  /// CSV with a header naming `text` and `label` (RFC 4180 quoting)
  case csv
  /// JSON Lines, objects with `text` and `label`
  case jsonl

  /// The format of a file, from its extension (.csv, .jsonl/.ndjson/.json) or else its
  /// first non-blank line: `{` → JSON Lines, `__label__` → fastText, otherwise TSV.
  public static func detect(path: String, firstLine: Substring?) -> CorpusFormat {
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return .csv }
    if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") {
      return .jsonl
    }
    if let first = firstLine?.drop(while: { $0 == " " || $0 == "\u{FEFF}" }) {
      if first.hasPrefix("{") { return .jsonl }
      if first.hasPrefix("__label__") { return .fasttext }
    }
    return .tsv
  }
}
