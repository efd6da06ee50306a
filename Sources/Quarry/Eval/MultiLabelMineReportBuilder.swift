/// Builds a `MultiLabelMineReport` for a labelled corpus under a multi-label model.
///
/// Per row, probabilities p (one per label): on the rows the model was trained on (same
/// corpus content hash, same line), the cross-fitted fold models' out-of-sample ones
/// mapped by the model's Platt scaling; on any other row, the model's own. With t the
/// stored thresholds:
///
/// - boundary: pairs with |logit p − logit t| ≤ `band`, nearest their threshold first;
/// - label issues: `MultiLabelIssues` on p;
/// - per label: support, misses (carried, p < t: `MultiLabelMetrics`' false negatives),
///   false alarms (not carried, p ≥ t: its false positives) and boundary pairs, most
///   misses and false alarms first;
/// - calibration: `MultiLabelMetrics`' mean per-label ECE and summed log loss of p.
public struct MultiLabelMineReportBuilder {
  /// Boundary band, in log-odds: 0.5 keeps the pairs whose odds lie within a factor
  /// e^0.5 ≈ 1.65 of their threshold's.
  public var band: Float = 0.5

  public init(band: Float = 0.5) { self.band = band }

  public func build(
    model: Model, modelPath: String, corpus: Corpus, threads: Int, encoder: FrozenEncoder? = nil
  ) throws -> MultiLabelMineReport {
    let labels = model.labels
    let c = labels.count
    let t = model.thresholds ?? [Float](repeating: 0.5, count: c)
    let gold = try model.goldLabelSets(of: corpus)
    let (p, source) = try probabilities(model, corpus: corpus, threads: threads, encoder: encoder)
    let ex = corpus.examples
    let n = gold.count
    var carries = [Bool](repeating: false, count: n * c)
    for (i, set) in gold.enumerated() { for y in set { carries[i * c + Int(y)] = true } }

    let logitT = t.map(PlattScaling.logit)
    var boundary: [(pair: Int, margin: Float)] = []
    var near = [Int](repeating: 0, count: c)
    for j in 0..<(n * c) {
      let k = j % c
      let d = PlattScaling.logit(p[j]) - logitT[k]
      if abs(d) <= band {
        boundary.append((j, carries[j] ? d : -d))
        near[k] += 1
      }
    }
    boundary.sort {
      abs($0.margin) < abs($1.margin) || (abs($0.margin) == abs($1.margin) && $0.pair < $1.pair)
    }

    let issues = MultiLabelIssues.find(probabilities: p, carries: carries, classes: c)
    let counts = MultiLabelMetrics(
      predicted: MultiLabelMetrics.predictedSets(p, thresholds: t), gold: gold, classes: c)
    let perLabel = (0..<c).map {
      MultiLabelMineReport.LabelSummary(
        label: labels[$0], threshold: t[$0], support: counts.support[$0],
        missed: counts.falseNegatives[$0], false_alarms: counts.falsePositives[$0],
        near: near[$0])
    }.sorted(by: Self.worseFirst)
    return MultiLabelMineReport(
      source: source, model: modelPath, data: corpus.path, rows: n, labels: labels,
      thresholds: t, band: band,
      boundary: boundary.map { b in
        let (i, k) = b.pair.quotientAndRemainder(dividingBy: c)
        return .init(
          line: ex[i].line, label: labels[k], given: carries[b.pair], probability: p[b.pair],
          threshold: t[k], margin: b.margin, text: ex[i].text)
      },
      label_issues: issues.map { e in
        let (i, k) = e.pair.quotientAndRemainder(dividingBy: c)
        return .init(
          line: ex[i].line, label: labels[k], issue: e.kind, score: e.score,
          probability: p[e.pair], text: ex[i].text)
      },
      per_label: perLabel,
      calibration: .init(
        ece: MultiLabelMetrics.meanClassCalibrationError(p, gold: gold, classes: c),
        log_loss: MultiLabelMetrics.logLoss(p, gold: gold, classes: c)))
  }

  /// Whether label `a` comes before `b`: more misses and false alarms, then more boundary
  /// pairs, then by name.
  static func worseFirst(
    _ a: MultiLabelMineReport.LabelSummary, _ b: MultiLabelMineReport.LabelSummary
  ) -> Bool {
    let (ea, eb) = (a.missed + a.false_alarms, b.missed + b.false_alarms)
    if ea != eb { return ea > eb }
    if a.near != b.near { return a.near > b.near }
    return a.label < b.label
  }

  /// Row-major N×C probabilities of the corpus: the stored out-of-fold ones, Platt-mapped,
  /// for the rows the model trained on (source `.crossFit`), the model's own elsewhere.
  func probabilities(
    _ model: Model, corpus: Corpus, threads: Int, encoder: FrozenEncoder?
  ) throws -> ([Float], MineReport.Source) {
    let c = model.labels.count
    var p = try Predictor(model: model, threads: threads, encoder: encoder)
      .probabilities(corpus.examples.map(\.text))
    let rowOfLine = model.storedRows(of: corpus)
    guard !rowOfLine.isEmpty, var held = model.heldOut, held.count == rowOfLine.count * c else {
      return (p, .model)
    }
    if let platt = model.metadata.platt {
      held = PlattScaling.apply(held, scales: platt.scales, shifts: platt.shifts)
    }
    let replaced = MineReportBuilder.substitute(
      &p, held: held, rowOfLine: rowOfLine, corpus: corpus)
    return (p, replaced > 0 ? .crossFit : .model)
  }
}

/// Likely label errors of a multi-label corpus: confident learning (Northcutt, Jiang,
/// Chuang 2021) on each label's own two-class problem, "carries it or not", scored by
/// [1 − p, p] with p out-of-sample. Per label k:
///
///   t₁ = mean p over the rows carrying k,   t₀ = mean (1 − p) over the rows without it,
///   a row's confident class is 1 when p ≥ t₁, 0 when 1 − p ≥ t₀ (both: the larger),
///
/// and a pair is an issue when its confident class differs from what the row carries and
/// the model gives what it carries at most 1 − `minScore`: a *missing* label scores p, a
/// *wrong* one 1 − p. With 5% of debtags' training rows given an extra label or robbed of
/// one, this flags about 80% of the extra labels and 46% of the robbed ones
/// (docs/experiments.md).
/// O(N·C).
public enum MultiLabelIssues {
  public struct Issue: Sendable, Equatable {
    /// Row-major index i·C + k of the pair.
    public var pair: Int
    public var kind: MultiLabelMineReport.IssueKind
    public var score: Float
  }

  /// Issues of row-major N×C probabilities `p` and the same-shaped `carries`, highest score
  /// first (ties: the earlier pair first).
  public static func find(
    probabilities p: [Float], carries: [Bool], classes c: Int, minScore: Float = 0.8
  ) -> [Issue] {
    let n = c > 0 ? p.count / c : 0
    var sum1 = [Double](repeating: 0, count: c)
    var sum0 = sum1
    var n1 = [Int](repeating: 0, count: c)
    for j in 0..<(n * c) {
      let k = j % c
      if carries[j] {
        sum1[k] += Double(p[j])
        n1[k] += 1
      } else {
        sum0[k] += Double(1 - p[j])
      }
    }
    // A class no row carries (or every row does) has no threshold: nothing is confidently
    // in it (out of it), even at a probability that saturated to exactly 1 (0).
    let t1 = (0..<c).map { n1[$0] > 0 ? Float(sum1[$0] / Double(n1[$0])) : .infinity }
    let t0 = (0..<c).map { n - n1[$0] > 0 ? Float(sum0[$0] / Double(n - n1[$0])) : .infinity }
    var issues: [Issue] = []
    for j in 0..<(n * c) {
      let k = j % c
      let q = p[j]
      let one = q >= t1[k]
      let zero = 1 - q >= t0[k]
      guard one || zero else { continue }
      let confident = one && (!zero || q > 1 - q)
      if carries[j], !confident, 1 - q >= minScore {
        issues.append(Issue(pair: j, kind: .wrong, score: 1 - q))
      } else if !carries[j], confident, q >= minScore {
        issues.append(Issue(pair: j, kind: .missing, score: q))
      }
    }
    return issues.sorted { $0.score > $1.score || ($0.score == $1.score && $0.pair < $1.pair) }
  }
}
