import ArgumentParser
import Foundation
import Quarry

struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract:
      "Score a model on a labelled corpus: accuracy, macro-F1, per-class figures, confusion.",
    discussion: """
      Example:
        quarry evaluate --model r8.qmodel --data r8-test.tsv
        quarry evaluate --model r8.qmodel --data r8-test.tsv --json | jq .macro_f1
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Labelled corpus to score.") var data: String
  @Flag(help: "Print one JSON object instead of tables.") var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions

  func run() throws {
    let m = try ModelFile.read(model)
    let c = try CorpusReader.read(
      path: data, format: try corpus.corpusFormat().format, skipBadRows: corpus.skipBadRows)
    Diagnostics.reportSkipped(c)
    let index = Dictionary(uniqueKeysWithValues: m.labels.enumerated().map { ($1, Int32($0)) })
    var gold: [Int32] = []
    for e in c.examples {
      guard let y = index[e.label] else {
        throw InputError(
          path: data, line: e.line,
          "label '\(e.label)' is not one the model knows (\(m.labels.joined(separator: ", ")))")
      }
      gold.append(y)
    }
    let predictor = Predictor(model: m, threads: compute.threads)
    let probs = predictor.probabilities(c.examples.map(\.text))
    let metrics = Metrics(probabilities: probs, gold: gold, classes: m.labels.count)
    if json {
      print(EvaluationReport(metrics: metrics, labels: m.labels, rows: gold.count).json())
    } else {
      print(EvaluationReport(metrics: metrics, labels: m.labels, rows: gold.count).text())
    }
  }
}
