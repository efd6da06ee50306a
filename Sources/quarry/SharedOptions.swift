import ArgumentParser
import Foundation
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
  var dataFormat: CorpusFormatChoice = .auto

  @Flag(help: "Skip bad rows (and count them) instead of stopping at the first.")
  var skipBadRows = false

  @Option(
    help: """
      Separator of several labels in TSV's label column and CSV's 'labels' column ('' reads \
      the field as one label). fastText lines repeat __label__; JSON Lines give "labels": [...].
      """)
  var labelSeparator: String = CorpusReader.defaultLabelSeparator

  /// Reads a labelled corpus as these options say, warning about skipped rows.
  func read(_ path: String) throws -> Corpus {
    let c = try readQuietly(path)
    Diagnostics.reportSkipped(c)
    return c
  }

  /// Reads a corpus to score with `model`: with --skip-bad-rows, a row the model cannot
  /// score (a label it does not know; several labels for a single-label model) is skipped
  /// like any other bad row (without it, scoring stops there).
  func read(_ path: String, for model: Model) throws -> Corpus {
    var c = try readQuietly(path)
    if skipBadRows {
      let read = c.examples.count
      c = model.scorableRows(of: c)
      if c.examples.isEmpty {
        Diagnostics.reportSkipped(c)  // why, row by row, before refusing
        throw InputError(
          path: path,
          "no row the model can score (\(read) \(read == 1 ? "row" : "rows") skipped; its labels: \(model.labelList))"
        )
      }
    }
    Diagnostics.reportSkipped(c)
    return c
  }

  private func readQuietly(_ path: String) throws -> Corpus {
    try CorpusReader.read(
      path: path, format: dataFormat.format, skipBadRows: skipBadRows,
      labelSeparator: labelSeparator)
  }

}

enum CorpusFormatChoice: String, ExpressibleByArgument {
  case auto, tsv, fasttext, csv, jsonl
}

/// Settings of the library taken as flag values, spelt as their raw values.
extension ClassWeighting: ExpressibleByArgument {}
extension ClassBias.Mode: ExpressibleByArgument {}
extension Temperature.Mode: ExpressibleByArgument {}
extension Thresholds.Mode: ExpressibleByArgument {}
extension Pooling: ExpressibleByArgument {}

extension CorpusFormatChoice {
  /// The reader's format; nil for `auto` (detected from the file).
  var format: CorpusFormat? { CorpusFormat(rawValue: rawValue) }
}

/// The frozen encoder of a model: where its checkpoint is and where vectors are cached.
struct EncoderOptions: ParsableArguments {
  @Option(
    help: """
      A BERT-family checkpoint folder (model.safetensors, config.json, vocab.txt). finetune: \
      its mean-pooled vectors join the features. Other commands: the folder to use instead \
      of the one the model names (its weights must be the same).
      """)
  var encoder: String?

  @Option(help: "Where encoder vectors are cached (default: $QUARRY_CACHE/features).")
  var featureCache: String?

  @Flag(help: "Encode every text, reading and writing no cache.")
  var noFeatureCache = false

  var cacheDirectory: String? {
    if noFeatureCache { return nil }
    if let featureCache { return featureCache }
    return cacheRoot + "/features"
  }

  /// The encoder finetune trains with (`--encoder`); nil without one.
  func load(maxLength: Int, threads: Int) throws -> FrozenEncoder? {
    guard let encoder else { return nil }
    Diagnostics.adviseOnBLAS()
    // The model records the folder; an absolute path finds it from any working directory.
    return try FrozenEncoder.load(
      directory: URL(fileURLWithPath: encoder).standardizedFileURL.path, maxLength: maxLength,
      threads: threads, cacheDirectory: cacheDirectory)
  }

  /// The encoder `model` reads, checked against the weights it was trained with; nil for
  /// a model without one.
  func load(for model: Model, threads: Int) throws -> FrozenEncoder? {
    guard let info = model.metadata.encoder else { return nil }
    Diagnostics.adviseOnBLAS()
    return try FrozenEncoder.load(
      for: info, directory: encoder, threads: threads, cacheDirectory: cacheDirectory
    ).tuned(model.tunedLayers)
  }
}

/// Quarry's cache folder: `$QUARRY_CACHE`, else `~/.cache/quarry` (as Scripts/setup uses).
var cacheRoot: String {
  ProcessInfo.processInfo.environment["QUARRY_CACHE"] ?? NSHomeDirectory() + "/.cache/quarry"
}
