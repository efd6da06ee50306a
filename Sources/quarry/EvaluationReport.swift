import Foundation
import Quarry

/// `evaluate`'s output, as tables or as one JSON object.
struct EvaluationReport {
  let metrics: Metrics
  let calibration: Calibration
  let labels: [String]
  let rows: Int

  struct PerClass: Encodable {
    let label: String
    let precision, recall, f1: Float
    let support: Int
  }

  struct JSONForm: Encodable {
    let rows: Int
    let accuracy, macro_f1: Float
    /// Mean −ln p(gold), and the expected calibration error over 15 bins (`Calibration`).
    let log_loss: Float
    let ece: Float
    let labels: [String]
    let per_class: [PerClass]
    /// confusion[gold][predicted], in the order of `labels`.
    let confusion: [[Int]]
  }

  func json() -> String {
    let perClass = labels.indices.map {
      PerClass(
        label: labels[$0], precision: metrics.precision[$0], recall: metrics.recall[$0],
        f1: metrics.f1[$0], support: metrics.support[$0])
    }
    let form = JSONForm(
      rows: rows, accuracy: metrics.accuracy, macro_f1: metrics.macroF1,
      log_loss: calibration.logLoss, ece: calibration.expectedCalibrationError, labels: labels,
      per_class: perClass, confusion: metrics.confusion)
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    return (try? enc.encode(form)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  func text() -> String {
    var out = String(
      format: "rows %d  accuracy %.4f  macro-F1 %.4f  log loss %.4f  ECE %.4f\n\n", rows,
      metrics.accuracy, metrics.macroF1, calibration.logLoss,
      calibration.expectedCalibrationError)
    let w = max(8, labels.map(\.count).max() ?? 8)
    out += pad("class", w) + "  precision  recall      f1  support\n"
    for (i, l) in labels.enumerated() {
      out +=
        pad(l, w)
        + String(
          format: "  %9.4f  %6.4f  %6.4f  %7d\n", metrics.precision[i], metrics.recall[i],
          metrics.f1[i], metrics.support[i])
    }
    out += "\nconfusion (rows: gold, columns: predicted)\n"
    let cw = max(6, labels.map { min($0.count, 10) }.max() ?? 6)
    out += pad("", w) + labels.map { " " + lpad(String($0.prefix(10)), cw) }.joined() + "\n"
    for (i, l) in labels.enumerated() {
      out += pad(l, w) + metrics.confusion[i].map { " " + lpad(String($0), cw) }.joined() + "\n"
    }
    return out
  }

  func pad(_ s: String, _ w: Int) -> String {
    s + String(repeating: " ", count: max(0, w - s.count))
  }
  func lpad(_ s: String, _ w: Int) -> String {
    String(repeating: " ", count: max(0, w - s.count)) + s
  }
}
