import ArgumentParser
import Foundation
import Quarry

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict the labels of texts, one output line per input line.",
    discussion: """
      Each input line is one text (no label). TSV output: label<TAB>probability, repeated
      for the k best labels. JSON Lines output: {"line":N,"labels":[…],"probabilities":[…]}.

      Examples:
        quarry predict --model r8.qmodel --input texts.txt --k 3
        echo "crude oil output falls" | quarry predict --model r8.qmodel --format jsonl
      """)

  @Option(help: "Model file.") var model: String
  @Option(help: "Texts, one per line (default: standard input).") var input: String?
  @Option(parsing: .unconditional, help: "How many labels to print per line.") var k: Int = 1
  @Option(help: "Output format: \(PredictFormat.choices) (default: tsv).")
  var format: PredictFormat?
  @Flag(help: "Same as --format jsonl.") var json = false
  @OptionGroup var compute: ComputeOptions
  @OptionGroup(title: "Encoder (for a model trained with --encoder)") var encoder: EncoderOptions

  func validate() throws {
    guard k >= 1 else { throw ValidationError("--k must be at least 1, got \(k)") }
    _ = try PredictFormat.chosen(format, json: json, fallback: .tsv)
  }

  func run() throws {
    let format = try PredictFormat.chosen(format, json: json, fallback: .tsv)
    let m = try ModelFile.read(model)
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
    out.reserveCapacity(min(texts.count, block) * 24 * k)
    for start in stride(from: 0, to: texts.count, by: block) {
      let part = Array(texts[start..<min(texts.count, start + block)])
      let top = predictor.topK(try predictor.probabilities(part), k: k)
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
