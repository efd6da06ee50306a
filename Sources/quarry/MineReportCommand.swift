import ArgumentParser
import Foundation
import Quarry

struct MineReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mine-report",
    abstract: "Show the boundary rows and the likely label errors of a labelled corpus.",
    discussion: """
      On the corpus the model was trained on, the report reads the training dynamics \\
      stored in the model (confidence, variability and correctness of every row across \\
      epochs, as in dataset cartography); on any other corpus, the model's probabilities.

      Examples:
        quarry mine-report --model r8.qmodel --data r8-train.tsv
        quarry mine-report --model r8.qmodel --data r8-train.tsv --json | jq '.label_issues[:5]'
        quarry mine-report --model r8.qmodel --data r8-train.tsv --format html --output report.html
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Labelled corpus to report on.") var data: String
  @Option(help: "Output format: text, json or html.") var format: String = "text"
  @Flag(help: "Same as --format json.") var json = false
  @Option(help: "Write the report here instead of standard output.") var output: String?
  @Option(help: "Rows per list in text and html (json lists every row).") var top: Int = 20
  @Option(help: "Boundary band: rows with |p(gold) - max p(other)| at most this.")
  var band: Float = 0.5
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    guard ["text", "json", "html"].contains(format) else {
      throw ValidationError("--format must be text, json or html, got '\(format)'")
    }
    guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    guard band > 0, band <= 1 else { throw ValidationError("--band must be in (0, 1]") }
  }

  func run() throws {
    if let output { try AtomicFile.checkWritable(output) }
    let m = try ModelFile.read(model)
    let c = try corpus.read(data)
    let report = try MineReportBuilder(band: band, top: top).build(
      model: m, modelPath: model, corpus: c, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    if report.boundary.isEmpty, (m.metadata.encoder?.tunedLayers ?? 0) > 0,
      report.source != "model"
    {
      // The tuned layers and their head were fitted to these very texts: every training
      // row sits far from the boundary under the whole model.
      Diagnostics.note(
        "no row of \(data) lies within the band \(band): the model's tuned encoder layers were fitted to these training texts; run mine-report on held-out rows (a test split) to see its boundary, or widen --band"
      )
    }
    let text: String
    switch json ? "json" : format {
    case "json":
      let enc = JSONEncoder()
      enc.outputFormatting = [.sortedKeys]
      text = String(decoding: try enc.encode(report), as: UTF8.self) + "\n"
    case "html":
      text = report.renderHTML(top: top)
    default:
      text = report.renderText(top: top)
    }
    if let output {
      try AtomicFile.write(Array(text.utf8), to: output)
      Diagnostics.note(
        "wrote \(output): \(report.label_issues.count) likely label errors, \(report.boundary.count) boundary rows (\(report.source))"
      )
    } else {
      FileHandle.standardOutput.write(Data(text.utf8))
    }
  }
}
