import Foundation

/// Metrics of multi-label predictions: each row has a set of gold classes and a set of
/// predicted ones. Per class c over rows: TP_c, FP_c, FN_c; precision_c = TP/(TP+FP),
/// recall_c = TP/(TP+FN), F1_c = 2TP/(2TP+FP+FN) (0 when undefined).
///   micro-F1 = 2ΣTP / (2ΣTP + ΣFP + ΣFN)
///   macro-F1 = mean of F1_c over classes with any gold or predicted row
///   subset accuracy = share of rows whose predicted set equals the gold set
///   Hamming loss = (ΣFP + ΣFN) / (N·C)
public struct MultiLabelMetrics: Sendable, Equatable {
  public var microF1: Float
  public var microPrecision: Float
  public var microRecall: Float
  public var macroF1: Float
  public var subsetAccuracy: Float
  public var hammingLoss: Float
  public var precision: [Float]
  public var recall: [Float]
  public var f1: [Float]
  /// Rows carrying each class.
  public var support: [Int]
  /// Per class, rows predicted with it that do not carry it (FP), and rows carrying it that
  /// are not predicted with it (FN).
  public var falsePositives: [Int]
  public var falseNegatives: [Int]
  /// Mean size of the predicted and of the gold sets.
  public var meanPredicted: Float
  public var meanGold: Float

  public init(predicted: [[Int32]], gold: [[Int32]], classes: Int) {
    precondition(predicted.count == gold.count)
    var tp = [Int](repeating: 0, count: classes)
    var fp = tp
    var fn = tp
    var exact = 0
    var predictedCount = 0
    var goldCount = 0
    var inGold = [Bool](repeating: false, count: classes)
    for (p, g) in zip(predicted, gold) {
      for y in g { inGold[Int(y)] = true }
      var hits = 0
      for y in Set(p) {
        if inGold[Int(y)] {
          tp[Int(y)] += 1
          hits += 1
        } else {
          fp[Int(y)] += 1
        }
      }
      let gset = Set(g)
      for y in gset where !p.contains(y) { fn[Int(y)] += 1 }
      if hits == gset.count && Set(p).count == gset.count { exact += 1 }
      for y in g { inGold[Int(y)] = false }
      predictedCount += Set(p).count
      goldCount += gset.count
    }
    falsePositives = fp
    falseNegatives = fn
    precision = []
    recall = []
    f1 = []
    support = []
    var f1Sum: Float = 0
    var present = 0
    for c in 0..<classes {
      let (t, p, n) = (Float(tp[c]), Float(fp[c]), Float(fn[c]))
      precision.append(t + p > 0 ? t / (t + p) : 0)
      recall.append(t + n > 0 ? t / (t + n) : 0)
      let f: Float = 2 * t + p + n > 0 ? 2 * t / (2 * t + p + n) : 0
      f1.append(f)
      support.append(tp[c] + fn[c])
      if tp[c] + fp[c] + fn[c] > 0 {
        f1Sum += f
        present += 1
      }
    }
    let (t, p, n) = (
      Float(tp.reduce(0, +)), Float(fp.reduce(0, +)), Float(fn.reduce(0, +))
    )
    microPrecision = t + p > 0 ? t / (t + p) : 0
    microRecall = t + n > 0 ? t / (t + n) : 0
    microF1 = 2 * t + p + n > 0 ? 2 * t / (2 * t + p + n) : 0
    macroF1 = present > 0 ? f1Sum / Float(present) : 0
    let rows = Float(max(gold.count, 1))
    subsetAccuracy = Float(exact) / rows
    hammingLoss = (p + n) / (rows * Float(max(classes, 1)))
    meanPredicted = Float(predictedCount) / rows
    meanGold = Float(goldCount) / rows
  }

  /// The classes of each row of row-major N×C probabilities at or above their threshold,
  /// most probable first (ties: the lower class first), at most `k` (nil: no cap).
  public static func predictedSets(_ p: [Float], thresholds: [Float], k: Int? = nil)
    -> [[Int32]]
  {
    let c = thresholds.count
    let n = c == 0 ? 0 : p.count / c
    return (0..<n).map { i in
      var kept: [(Int32, Float)] = []
      for j in 0..<c where p[i * c + j] >= thresholds[j] { kept.append((Int32(j), p[i * c + j])) }
      kept.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
      return kept.prefix(k ?? kept.count).map(\.0)
    }
  }

  /// Share of rows whose most probable class is one of their gold classes (precision@1).
  public static func precisionAt1(_ p: [Float], gold: [[Int32]], classes: Int) -> Float {
    guard !gold.isEmpty else { return 0 }
    let top = Metrics.argmax(p, classes: classes)
    let hits = zip(top, gold).filter { $1.contains($0) }.count
    return Float(hits) / Float(gold.count)
  }

  /// Mean over rows of the summed binary log loss of every class,
  /// −Σ_c [t_c ln p_c + (1 − t_c) ln(1 − p_c)], probabilities clamped to [1e-7, 1 − 1e-7].
  public static func logLoss(_ p: [Float], gold: [[Int32]], classes: Int) -> Float {
    guard !gold.isEmpty else { return 0 }
    var total: Double = 0
    for (i, g) in gold.enumerated() {
      let present = Set(g)
      for c in 0..<classes {
        let q = Double(min(max(p[i * classes + c], 1e-7), 1 - 1e-7))
        total -= present.contains(Int32(c)) ? log(q) : log(1 - q)
      }
    }
    return Float(total / Double(gold.count))
  }
}

extension MultiLabelMetrics {
  /// Expected calibration error of each class's own probability, averaged over classes:
  /// per class c, the binary problem "c or not" scored by [1 − p_c, p_c] (`Calibration`,
  /// 15 bins of the larger of the two).
  public static func meanClassCalibrationError(_ p: [Float], gold: [[Int32]], classes c: Int)
    -> Float
  {
    guard c > 0, !gold.isEmpty else { return 0 }
    var total: Float = 0
    var binary = [Float](repeating: 0, count: 2 * gold.count)
    var present = [Int32](repeating: 0, count: gold.count)
    for k in 0..<c {
      for i in gold.indices {
        let q = p[i * c + k]
        binary[2 * i] = 1 - q
        binary[2 * i + 1] = q
        present[i] = gold[i].contains(Int32(k)) ? 1 : 0
      }
      total +=
        Calibration(probabilities: binary, gold: present, classes: 2)
        .expectedCalibrationError
    }
    return total / Float(c)
  }
}
