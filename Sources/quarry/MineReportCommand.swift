import ArgumentParser
import Foundation
import Quarry

struct MineReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mine-report",
    abstract: "Show the boundary rows and the likely label errors of a labelled corpus.",
    discussion: """
      On the corpus the model was trained on, every figure comes from the model's \
      cross-fitted fold models, each scoring the rows it never trained on after every \
      epoch: the data map (confidence, variability and correctness of each row across \
      epochs, as in dataset cartography), the boundary, and the likely label errors: \
      rows whose confidence is under 0.13 times their class's mean and to which a model \
      trained without any such row prefers another label, the one suggested. On any other \
      corpus, the model's own probabilities (label errors by confident learning). \
      --output is replaced only when it holds a mine-report (or with --force).

      For a multi-label model the report is per (row, label) pair: the pairs nearest \
      their label's threshold, the labels probably missing from a row or wrongly on it \
      (confident learning on each label's own yes/no problem), and the labels with the \
      most misses and false alarms.

      Examples:
        quarry mine-report --model r8.qmodel --data r8-train.tsv
        quarry mine-report --model r8.qmodel --data r8-train.tsv --json \\
          | jq '.label_issues[:5]'
        quarry mine-report --model r8.qmodel --data r8-train.tsv \\
          --format html --output report.html
        quarry mine-report --model tags.qmodel --data tags-train.tsv --json \\
          | jq '.label_issues[] | select(.issue == "missing")' | head
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Labelled corpus to report on.") var data: String
  @Option(help: "Output format: \(ReportFormat.choices) (default: text).")
  var format: ReportFormat?
  @Flag(help: "Same as --format json.") var json = false
  @Option(help: "Write the report here instead of standard output.") var output: String?
  @Flag(help: "Replace a file at --output that is not a mine-report.") var force = false
  @Option(parsing: .unconditional, help: "Rows per list in text and html (json lists every row).")
  var top: Int = 20
  @Option(
    parsing: .unconditional,
    help: """
      Boundary band: rows with |p(gold) - max p(other)| at most this (at most 1); for a \
      multi-label model, (row, label) pairs with |logit p - logit threshold| at most this \
      (any positive number).
      """)
  var band: Float = 0.5
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    _ = try ReportFormat.chosen(format, json: json, fallback: .text)
    guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
    guard band > 0, band.isFinite else {
      throw ValidationError("--band must be a positive number, got \(band)")
    }
  }

  func run() throws {
    let format = try ReportFormat.chosen(format, json: json, fallback: .text)
    if let output {
      try OutputTarget(flag: "--output", path: output, kind: .report).check(
        inputs: [("--model", model), ("--data", data)], force: force)
    }
    let m = try ModelFile.read(model)
    if m.isMultiLabel { return try runMultiLabel(m, format: format) }
    guard band <= 1 else {
      throw InputError(
        path: model,
        "a single-label model: its --band is a difference of probabilities, at most 1 (got \(band))"
      )
    }
    let c = try corpus.read(data, for: m)
    let report = try MineReportBuilder(band: band, top: top).build(
      model: m, modelPath: model, corpus: c, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    if report.boundary.isEmpty, (m.metadata.encoder?.tunedLayers ?? 0) > 0,
      report.source != .model
    {
      // The tuned layers and their head were fitted to these very texts: every training
      // row sits far from the boundary under the whole model.
      Diagnostics.note(
        "no row of \(data) lies within the band \(band): the model's tuned encoder layers were fitted to these training texts; run mine-report on held-out rows (a test split) to see its boundary, or widen --band"
      )
    }
    try emit(
      try rendered(report, format),
      found:
        "\(report.label_issues.count) likely label errors, \(report.boundary.count) boundary rows (from \(report.source.words))"
    )
  }

  /// The report of a multi-label model: boundary pairs, missing and wrong labels, and
  /// each label's misses and false alarms.
  func runMultiLabel(_ m: Model, format: ReportFormat) throws {
    let c = try corpus.read(data, for: m)
    let report = try MultiLabelMineReportBuilder(band: band).build(
      model: m, modelPath: model, corpus: c, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    try emit(
      try rendered(report, format),
      found:
        "\(report.label_issues.count) likely label errors, \(report.boundary.count) boundary pairs (from \(report.source.words))"
    )
  }

  /// The report in `format`: JSON with sorted keys, one HTML page, or text.
  func rendered(_ report: some RenderableReport, _ format: ReportFormat) throws -> String {
    switch format {
    case .json:
      let enc = JSONEncoder()
      enc.outputFormatting = [.sortedKeys]
      return String(decoding: try enc.encode(report), as: UTF8.self) + "\n"
    case .html: return report.renderHTML(top: top)
    case .text: return report.renderText(top: top, width: 100)
    }
  }

  /// Writes the report to --output (noting what it found) or to standard output.
  func emit(_ text: String, found: String) throws {
    if let output {
      try AtomicFile.write(Array(text.utf8), to: output, kind: .report, force: force)
      Diagnostics.note("wrote \(output): \(found)")
    } else {
      FileHandle.standardOutput.write(Data(text.utf8))
    }
  }
}

/// A mine-report of either kind, as `rendered` writes it.
protocol RenderableReport: Encodable {
  func renderHTML(top: Int) -> String
  func renderText(top: Int, width: Int) -> String
}

extension MineReport: RenderableReport {}
extension MultiLabelMineReport: RenderableReport {}
