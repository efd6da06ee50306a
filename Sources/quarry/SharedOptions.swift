import ArgumentParser
import Quarry

/// Options every command that computes takes.
struct ComputeOptions: ParsableArguments {
  @Option(help: "Threads to run on.")
  var threads: Int = 2

  func validate() throws {
    guard (1...256).contains(threads) else {
      throw ValidationError("--threads must be between 1 and 256, got \(threads)")
    }
  }
}

/// How a labelled corpus is read.
struct CorpusOptions: ParsableArguments {
  @Option(help: "Corpus format: tsv, fasttext, csv or jsonl (default: from extension and content).")
  var dataFormat: String?

  @Flag(help: "Skip bad rows (and count them) instead of stopping at the first.")
  var skipBadRows = false

  func validate() throws {
    _ = try corpusFormat()
  }

  /// Reads a labelled corpus as these options say, warning about skipped rows.
  func read(_ path: String) throws -> Corpus {
    let c = try CorpusReader.read(
      path: path, format: try corpusFormat().format, skipBadRows: skipBadRows)
    Diagnostics.reportSkipped(c)
    return c
  }

  func corpusFormat() throws -> CorpusFormatChoice {
    guard let dataFormat else { return .auto }
    guard let f = CorpusFormatChoice(rawValue: dataFormat) else {
      throw ValidationError(
        "--data-format must be tsv, fasttext, csv or jsonl, got '\(dataFormat)'")
    }
    return f
  }
}

enum CorpusFormatChoice: String {
  case auto, tsv, fasttext, csv, jsonl
}

extension CorpusFormatChoice {
  /// The reader's format; nil for `auto` (detected from the file).
  var format: CorpusFormat? { CorpusFormat(rawValue: rawValue) }
}
