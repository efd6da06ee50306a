/// Per-class decision thresholds of a multi-label model, chosen on out-of-sample scores.
///
/// For class c, with the rows sorted by p_c (highest first) and P_c the rows carrying c,
/// predicting c for the top j rows gives F1_c(j) = 2·TP_j / (j + P_c). The threshold is
/// the midpoint between the j-th and (j+1)-th scores at the best j (ties in score move
/// together, so only cuts between distinct scores count); a class without a cut that
/// beats ½'s own F1 keeps ½. Every threshold is then raised to a floor: a class that the
/// folds predict poorly gets its best F1 from a low cut that tags many rows, which lifts
/// its F1 (and macro-F1) but costs micro-F1. The floor is the one of `floors` that gives
/// the folds the highest micro-F1 (or none, ½ for every class, when that scores higher
/// still); the classes whose best cut lies above it keep theirs,
/// which is what raises macro-F1. (Chosen by the mean of micro- and macro-F1 instead, the
/// floor was 0.05 on debtags, and micro-F1 fell a point below a global 0.25's:
/// docs/experiments.md.) Thresholds stay under `highest`.
public enum Thresholds {
  public static let floors: [Float] = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
  public static let highest: Float = 0.95

  /// What the model file stores: each class's threshold, and, when they were tuned, the
  /// folds' micro- and macro-F1 at ½ and at the thresholds.
  public struct Info: Codable, Sendable, Equatable {
    public var thresholds: [Float]
    public var foldMicroF1, foldMacroF1: Float?
    public var tunedFoldMicroF1, tunedFoldMacroF1: Float?

    /// ½ for each of `classes` classes, untuned.
    public static func half(classes: Int) -> Info {
      Info(thresholds: [Float](repeating: 0.5, count: classes))
    }

    public init(
      thresholds: [Float], foldMicroF1: Float? = nil, foldMacroF1: Float? = nil,
      tunedFoldMicroF1: Float? = nil, tunedFoldMacroF1: Float? = nil
    ) {
      self.thresholds = thresholds
      self.foldMicroF1 = foldMicroF1
      self.foldMacroF1 = foldMacroF1
      self.tunedFoldMicroF1 = tunedFoldMicroF1
      self.tunedFoldMacroF1 = tunedFoldMacroF1
    }
  }

  /// How `finetune` sets a multi-label model's thresholds.
  public enum Mode: String, Codable, Sendable, CaseIterable {
    /// Per class, by F1 on the cross-fit scores.
    case tuned
    /// ½ for every class.
    case half
  }

  /// The thresholds of `classes` classes from row-major N×C out-of-sample probabilities
  /// and each row's classes.
  public static func fit(probabilities p: [Float], labelSets: [[Int32]], classes c: Int)
    -> Info
  {
    let n = labelSets.count
    var isGold = [[Bool]](repeating: [Bool](repeating: false, count: n), count: c)
    for (i, set) in labelSets.enumerated() { for y in set { isGold[Int(y)][i] = true } }
    var thresholds = [Float](repeating: 0.5, count: c)
    for k in 0..<c {
      let order = (0..<n).sorted { p[$0 * c + k] > p[$1 * c + k] }
      let positives = isGold[k].filter { $0 }.count
      guard positives > 0 else { continue }
      var tp = 0
      var best = (f1: f1At(0.5, k, p, isGold[k], c, positives), threshold: Float(0.5))
      for (j, i) in order.enumerated() {
        if isGold[k][i] { tp += 1 }
        let here = p[i * c + k]
        let next = j + 1 < n ? p[order[j + 1] * c + k] : 0
        guard next < here else { continue }
        let f1 = 2 * Float(tp) / Float(j + 1 + positives)
        // The midpoint of two adjacent floats can round to the lower one: take the upper.
        let mid = (here + next) / 2
        if f1 > best.f1 { best = (f1, mid > next ? mid : here) }
      }
      thresholds[k] = min(best.threshold, highest)
    }
    func scored(_ t: [Float]) -> MultiLabelMetrics {
      MultiLabelMetrics(
        predicted: MultiLabelMetrics.predictedSets(p, thresholds: t), gold: labelSets,
        classes: c)
    }
    let half = [Float](repeating: 0.5, count: c)
    let before = scored(half)
    // ½ for every class is a candidate too: tuning must not leave the folds worse off.
    var chosen = (thresholds: half, metrics: before)
    for floor in floors {
      let t = thresholds.map { max($0, floor) }
      let m = scored(t)
      if m.microF1 > chosen.metrics.microF1 { chosen = (t, m) }
    }
    return Info(
      thresholds: chosen.thresholds, foldMicroF1: before.microF1, foldMacroF1: before.macroF1,
      tunedFoldMicroF1: chosen.metrics.microF1, tunedFoldMacroF1: chosen.metrics.macroF1)
  }

  /// F1 of class k predicted at p_k ≥ t.
  static func f1At(
    _ t: Float, _ k: Int, _ p: [Float], _ gold: [Bool], _ c: Int, _ positives: Int
  ) -> Float {
    var tp = 0
    var predicted = 0
    for i in gold.indices where p[i * c + k] >= t {
      predicted += 1
      if gold[i] { tp += 1 }
    }
    return 2 * Float(tp) / Float(max(predicted + positives, 1))
  }
}
