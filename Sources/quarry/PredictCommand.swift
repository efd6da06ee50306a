import ArgumentParser
import Foundation
import Quarry

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict the labels of texts, one output line per input line.",
    discussion: """
      Each input line is one text (no label). TSV output: label<TAB>probability, repeated \
      for the k best labels. JSON Lines output: \
      {"line":N,"labels":[…],"probabilities":[…]}. A multi-label model prints every label \
      at or above its threshold (none when no label is), most probable first; --k caps \
      how many, --threshold sets one threshold for all.

      Examples:
        quarry predict --model r8.qmodel --input texts.txt --k 3
        echo "crude oil output falls" | quarry predict --model r8.qmodel --json
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Texts, one per line (default: standard input).") var input: String?
  @Option(
    parsing: .unconditional,
    help: "How many labels to print per line (default: 1; multi-label models: all above threshold)."
  ) var k: Int?
  @Option(help: "Multi-label models: print the labels at or above this probability.")
  var threshold: Float?
  @Option(help: "Output format: \(PredictFormat.choices) (default: tsv).")
  var format: PredictFormat?
  @Flag(help: "Same as --format jsonl.") var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    if let k, k < 1 { throw ValidationError("--k must be at least 1, got \(k)") }
    if let threshold, !(threshold > 0 && threshold < 1) {
      throw ValidationError("--threshold must be between 0 and 1 (exclusive), got \(threshold)")
    }
    _ = try PredictFormat.chosen(format, json: json, fallback: .tsv)
  }

  func run() throws {
    let format = try PredictFormat.chosen(format, json: json, fallback: .tsv)
    let m = try ModelFile.read(model)
    if threshold != nil && !m.isMultiLabel {
      throw InputError(
        path: model, "a single-label model: --threshold is for multi-label models")
    }
    let thresholds =
      m.thresholds.map { t in threshold.map { [Float](repeating: $0, count: t.count) } ?? t }
    let path = input ?? "<stdin>"
    let bytes: [UInt8]
    if let input {
      bytes = try FileBytes.read(input, allowEmpty: true)
    } else {
      bytes = try FileBytes.readStandardInput()
    }
    let texts = try TextLines.split(bytes, path: path)
    let predictor = Predictor(
      model: m, threads: compute.threads,
      encoder: try encoder.load(for: m, threads: compute.threads))
    // Blocks of texts, each featurized, scored and printed before the next, so that the
    // feature arrays are sized by a block, not by the input. An encoder model scores its
    // input whole, since the encoder batches texts together.
    let block = m.classifier.encoderDim > 0 ? max(1, texts.count) : Predictor.blockSize
    var out = ""
    out.reserveCapacity(min(texts.count, block) * 24 * (k ?? 1))
    for start in stride(from: 0, to: texts.count, by: block) {
      let part = Array(texts[start..<min(texts.count, start + block)])
      let probs = try predictor.probabilities(part)
      let top =
        thresholds.map { Predictor.aboveThresholds(probs, thresholds: $0, k: k) }
        ?? predictor.topK(probs, k: k ?? 1)
      for (j, row) in top.enumerated() {
        if format == .tsv {
          out += row.map { "\(m.labels[$0.label])\t\(fmt($0.probability))" }.joined(
            separator: "\t")
        } else {
          out += "{\"line\":\(start + j + 1),\(predictionJSONMembers(row, labels: m.labels))}"
        }
        out += "\n"
        if out.utf8.count > 1 << 20 {
          FileHandle.standardOutput.write(Data(out.utf8))
          out.removeAll(keepingCapacity: true)
        }
      }
    }
    FileHandle.standardOutput.write(Data(out.utf8))
  }

  func fmt(_ p: Float) -> String { probabilityText(p) }
}
