/// Builds a `MineReport` for a labelled corpus under a model.
///
/// Per row, probabilities p: on the rows the model was trained on (same corpus content
/// hash, same line), the out-of-sample probabilities of the cross-fitted fold models
/// stored with it, none of which trained on the row; on any other row, the model's own.
/// From p: margin = p(gold) − max p(other) and the rival class.
///
/// - boundary: rows with |margin| ≤ `band`, smallest margin first;
/// - label issues: `LabelIssues` on p;
/// - confusions: (gold, predicted) pairs by count of wrong rows, with the rows whose rival
///   lies inside the band;
/// - data map: for a training row, confidence, variability and correctness over the
///   fold models' epochs (or, for a model without them, over its own training epochs);
///   for any other row, confidence = p(gold), variability = 0, correctness = [argmax =
///   gold].
public struct MineReportBuilder {
  public var band: Float = 0.5
  public var top = 20

  public init(band: Float = 0.5, top: Int = 20) {
    self.band = band
    self.top = top
  }

  public func build(
    model: Model, modelPath: String, corpus: Corpus, threads: Int, encoder: FrozenEncoder? = nil
  ) throws -> MineReport {
    let labels = model.labels
    let c = labels.count
    let gold = try model.goldLabels(of: corpus)
    var probs = try Predictor(model: model, threads: threads, encoder: encoder)
      .probabilities(corpus.examples.map(\.text))
    let ex = corpus.examples

    // The stored row of each training line, when this is the training corpus.
    var rowOfLine: [Int: Int] = [:]
    if corpus.contentHashHex == model.metadata.corpus.contentHash, let lines = model.trainLines {
      for (i, l) in lines.enumerated() { rowOfLine[Int(l)] = i }
    }
    let held = rowOfLine.isEmpty ? nil : model.heldOut
    if let held {
      for (i, e) in ex.enumerated() {
        guard let r = rowOfLine[e.line] else { continue }
        for k in 0..<c { probs[i * c + k] = held[r * c + k] }
      }
    }
    let dynamics = rowOfLine.isEmpty ? nil : (model.heldOutDynamics ?? model.dynamics)
    let source: MineReport.Source =
      switch (held != nil, dynamics != nil, model.heldOutDynamics != nil) {
      case (true, _, true): .crossFit
      case (true, _, false): .dynamicsCrossFit
      case (false, true, _): .dynamics
      default: .model
      }
    let (margin, rival) = Miner.margins(probabilities: probs, labels: gold, classes: c)
    let predicted = Metrics.argmax(probs, classes: c)

    let stats: [Dynamics.RowStats] = ex.indices.map { i in
      if let dynamics, let r = rowOfLine[ex[i].line] {
        return dynamics.stats(row: r, label: gold[i], classes: c)
      }
      let right = predicted[i] == gold[i]
      return .init(
        confidence: probs[i * c + Int(gold[i])], variability: 0, correctness: right ? 1 : 0,
        rival: right ? -1 : predicted[i])
    }

    let boundary = gold.indices.filter { abs(margin[$0]) <= band }
      .sorted { margin[$0] < margin[$1] || (margin[$0] == margin[$1] && $0 < $1) }
      .map {
        MineReport.BoundaryRow(
          line: ex[$0].line, label: labels[Int(gold[$0])],
          confused_with: labels[Int(rival[$0])], margin: margin[$0], text: ex[$0].text)
      }

    let issues = LabelIssues.find(probabilities: probs, labels: gold, classes: c).map {
      MineReport.LabelIssue(
        line: ex[$0.row].line, label: labels[Int(gold[$0.row])],
        suggested: labels[Int($0.suggested)], suggested_by: source.suggester, score: $0.score,
        text: ex[$0.row].text)
    }

    var wrong = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
    var near = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
    for i in gold.indices {
      let g = Int(gold[i])
      if predicted[i] != gold[i] { wrong[g][Int(predicted[i])] += 1 }
      if abs(margin[i]) <= band { near[g][Int(rival[i])] += 1 }
    }
    var confusions: [MineReport.Confusion] = []
    for g in 0..<c {
      for o in 0..<c where o != g && (wrong[g][o] > 0 || near[g][o] > 0) {
        confusions.append(
          .init(label: labels[g], confused_with: labels[o], count: wrong[g][o], near: near[g][o]))
      }
    }
    confusions.sort {
      ($0.count, $0.near) > ($1.count, $1.near)
        || (($0.count, $0.near) == ($1.count, $1.near)
          && ($0.label, $0.confused_with) < ($1.label, $1.confused_with))
    }

    let map = gold.indices.map {
      MineReport.MapPoint(
        line: ex[$0].line, label: labels[Int(gold[$0])], confidence: stats[$0].confidence,
        variability: stats[$0].variability, correctness: stats[$0].correctness)
    }
    return MineReport(
      source: source,
      model: modelPath, data: corpus.path,
      rows: gold.count, labels: labels, boundary: boundary, label_issues: issues,
      confusions: confusions, data_map: map)
  }
}
