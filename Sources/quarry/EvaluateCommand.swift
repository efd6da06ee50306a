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
  @Option(
    help: """
      Multi-label models: predict every class at or above this probability, instead of \
      each class's own threshold from finetune.
      """)
  var threshold: Float?
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    _ = try EvaluateFormat.chosen(format, json: json, fallback: .text)
    if let threshold, !(threshold > 0 && threshold < 1) {
      throw ValidationError("--threshold must be between 0 and 1 (exclusive), got \(threshold)")
    }
  }

  func run() throws {
    let read = try ModelFile.read(model)
    var m = classBias == .off ? read.withoutClassBias() : read
    if temperature == .off { m = m.withoutTemperature() }
    let c = try corpus.read(data, for: m)
    if let thresholds = m.thresholds {
      return try runMultiLabel(m, corpus: c, thresholds: thresholds)
    }
    if threshold != nil {
      throw InputError(
        path: model, "a single-label model: --threshold is for multi-label models")
    }
    let gold = try m.goldLabels(of: c)
    let probs = try probabilities(m, c)
    let report = EvaluationReport(
      metrics: Metrics(probabilities: probs, gold: gold, classes: m.labels.count),
      calibration: Calibration(probabilities: probs, gold: gold, classes: m.labels.count),
      labels: m.labels, rows: gold.count)
    try show(json: report.json, text: report.text)
  }

  /// The model's probabilities of the corpus's texts (with its encoder, when it has one).
  func probabilities(_ m: Model, _ c: Corpus) throws -> [Float] {
    let predictor = Predictor(
      model: m, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    return try predictor.probabilities(c.examples.map(\.text))
  }

  /// Prints the report in the format asked for.
  func show(json: () -> String, text: () -> String) throws {
    let chosen = try EvaluateFormat.chosen(format, json: self.json, fallback: .text)
    print(chosen == .json ? json() : text())
  }

  /// A multi-label model's figures: the classes at or above their thresholds against each
  /// row's labels.
  func runMultiLabel(_ m: Model, corpus c: Corpus, thresholds: [Float]) throws {
    let gold = try m.goldLabelSets(of: c)
    let report = MultiLabelReport(
      probabilities: try probabilities(m, c), gold: gold,
      thresholds: threshold.map { [Float](repeating: $0, count: m.labels.count) } ?? thresholds,
      labels: m.labels)
    try show(json: report.json, text: report.text)
  }
}
