import Foundation
import Quarry

/// `evaluate`'s output for a multi-label model, as tables or as one JSON object.
struct MultiLabelReport {
  let metrics: MultiLabelMetrics
  let labels: [String]
  let rows: Int
  let precisionAt1: Float
  let logLoss: Float
  let ece: Float
  /// The thresholds the sets were predicted at, one per class.
  let thresholds: [Float]

  init(probabilities p: [Float], gold: [[Int32]], thresholds: [Float], labels: [String]) {
    let c = labels.count
    metrics = MultiLabelMetrics(
      predicted: MultiLabelMetrics.predictedSets(p, thresholds: thresholds), gold: gold,
      classes: c)
    self.labels = labels
    self.thresholds = thresholds
    rows = gold.count
    precisionAt1 = MultiLabelMetrics.precisionAt1(p, gold: gold, classes: c)
    logLoss = MultiLabelMetrics.logLoss(p, gold: gold, classes: c)
    ece = MultiLabelMetrics.meanClassCalibrationError(p, gold: gold, classes: c)
  }

  struct PerLabel: Encodable {
    let label: String
    let precision, recall, f1, threshold: Float
    let support: Int
  }

  struct JSONForm: Encodable {
    let rows: Int
    let multi_label = true
    let micro_f1, micro_precision, micro_recall, macro_f1: Float
    let subset_accuracy, hamming_loss, precision_at_1: Float
    /// Mean over rows of the summed binary log loss of every class; the per-class expected
    /// calibration error (15 bins), averaged over classes.
    let log_loss, ece: Float
    let mean_labels_predicted, mean_labels_gold: Float
    let labels: [String]
    let per_label: [PerLabel]
  }

  func json() -> String {
    let perLabel = labels.indices.map {
      PerLabel(
        label: labels[$0], precision: metrics.precision[$0], recall: metrics.recall[$0],
        f1: metrics.f1[$0], threshold: thresholds[$0], support: metrics.support[$0])
    }
    let form = JSONForm(
      rows: rows, micro_f1: metrics.microF1, micro_precision: metrics.microPrecision,
      micro_recall: metrics.microRecall, macro_f1: metrics.macroF1,
      subset_accuracy: metrics.subsetAccuracy, hamming_loss: metrics.hammingLoss,
      precision_at_1: precisionAt1, log_loss: logLoss, ece: ece,
      mean_labels_predicted: metrics.meanPredicted, mean_labels_gold: metrics.meanGold,
      labels: labels, per_label: perLabel)
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys]
    return (try? enc.encode(form)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  func text() -> String {
    var out = String(
      format:
        "rows %d  micro-F1 %.4f (P %.4f, R %.4f)  macro-F1 %.4f  subset accuracy %.4f  Hamming loss %.5f\nprecision@1 %.4f  labels a row %.2f predicted, %.2f gold  log loss %.4f  ECE per label %.4f\n\n",
      rows, metrics.microF1, metrics.microPrecision, metrics.microRecall, metrics.macroF1,
      metrics.subsetAccuracy, metrics.hammingLoss, precisionAt1, metrics.meanPredicted,
      metrics.meanGold, logLoss, ece)
    let w = max(8, labels.map(\.count).max() ?? 8)
    out += "label".padding(toLength: w, withPad: " ", startingAt: 0)
    out += "  threshold  precision  recall      f1  support\n"
    for (i, l) in labels.enumerated() {
      out += l.padding(toLength: max(w, l.count), withPad: " ", startingAt: 0)
      out += String(
        format: "  %9.3f  %9.4f  %6.4f  %6.4f  %7d\n", thresholds[i], metrics.precision[i],
        metrics.recall[i], metrics.f1[i], metrics.support[i])
    }
    return out
  }
}
