import ArgumentParser
import Foundation
import Quarry

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract:
      "Score a model on a labelled corpus: accuracy, macro-F1, log loss, calibration error (ECE, 15 bins), per-class figures, confusion.",
    discussion: """
      Examples:
        quarry evaluate --model r8.qmodel --data r8-test.tsv
        quarry evaluate --model r8.qmodel --data r8-test.tsv --json | jq .macro_f1
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Labelled corpus to score.") var data: String
  @Option(help: "Output format: \(EvaluateFormat.choices) (default: text).")
  var format: EvaluateFormat?
  @Flag(help: "Same as --format json: one JSON object instead of tables.") var json = false
  @Option(
    help: """
      tuned: score with the class offsets finetune fitted (as predict does); off: without \
      them, to see what they change.
      """)
  var classBias: ClassBias.Mode = .tuned
  @Option(
    help: """
      fitted: score with the temperature finetune fitted (as predict does); off: without it.
      """)
  var temperature: Temperature.Mode = .fitted
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    _ = try EvaluateFormat.chosen(format, json: json, fallback: .text)
  }

  func run() throws {
    let read = try ModelFile.read(model)
    var m = classBias == .off ? read.withoutClassBias() : read
    if temperature == .off { m = m.withoutTemperature() }
    let c = try corpus.read(data)
    let gold = try m.goldLabels(of: c)
    let predictor = Predictor(
      model: m, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    let probs = try predictor.probabilities(c.examples.map(\.text))
    let report = EvaluationReport(
      metrics: Metrics(probabilities: probs, gold: gold, classes: m.labels.count),
      calibration: Calibration(probabilities: probs, gold: gold, classes: m.labels.count),
      labels: m.labels, rows: gold.count)
    if try EvaluateFormat.chosen(format, json: json, fallback: .text) == .json {
      print(report.json())
    } else {
      print(report.text())
    }
  }
}
