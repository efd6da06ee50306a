/// Builds a `MineReport` for a labelled corpus under a model.
///
/// Per row, from the model's probabilities p: margin = p(gold) − max p(other) and the
/// rival class. When the corpus is the one the model was trained on (same content hash)
/// and the model carries training dynamics, each training row's confidence, variability
/// and correctness come from them; otherwise confidence = p(gold), variability = 0 and
/// correctness = [argmax = gold].
///
/// - boundary: rows with |margin| ≤ `band`, smallest margin first;
/// - label issues: `LabelIssues` on the out-of-sample probabilities stored with the model
///   for its training rows (cross-fitting), otherwise on the model's own probabilities;
/// - confusions: (gold, predicted) pairs by count of wrong rows, with the rows whose rival
///   lies inside the band.
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
    let probs = try Predictor(model: model, threads: threads, encoder: encoder)
      .probabilities(corpus.examples.map(\.text))
    let (margin, rival) = Miner.margins(probabilities: probs, labels: gold, classes: c)
    let predicted = Metrics.argmax(probs, classes: c)

    // Per-row statistics: training dynamics where they exist for this very corpus.
    let sameCorpus = corpus.contentHashHex == model.metadata.corpus.contentHash
    var rowOfLine: [Int: Int] = [:]
    if sameCorpus, let lines = model.trainLines, model.dynamics != nil {
      for (i, l) in lines.enumerated() { rowOfLine[Int(l)] = i }
    }
    let useDynamics = !rowOfLine.isEmpty
    var stats: [Dynamics.RowStats] = []
    stats.reserveCapacity(gold.count)
    for (i, e) in corpus.examples.enumerated() {
      if let dyn = model.dynamics, let r = rowOfLine[e.line] {
        stats.append(dyn.stats(row: r, label: gold[i], classes: c))
      } else {
        let right = predicted[i] == gold[i]
        stats.append(
          .init(
            confidence: probs[i * c + Int(gold[i])], variability: 0,
            correctness: right ? 1 : 0, rival: right ? -1 : predicted[i]))
      }
    }

    let ex = corpus.examples
    let boundary = gold.indices.filter { abs(margin[$0]) <= band }
      .sorted { margin[$0] < margin[$1] || (margin[$0] == margin[$1] && $0 < $1) }
      .map {
        MineReport.BoundaryRow(
          line: ex[$0].line, label: labels[Int(gold[$0])],
          confused_with: labels[Int(rival[$0])], margin: margin[$0], text: ex[$0].text)
      }

    // Out-of-sample probabilities where the model has them for these very rows.
    var checkProbs = probs
    var fromHeldOut = false
    if useDynamics, let held = model.heldOut {
      for (i, e) in ex.enumerated() {
        guard let r = rowOfLine[e.line] else { continue }
        for k in 0..<c { checkProbs[i * c + k] = held[r * c + k] }
      }
      fromHeldOut = true
    }
    let source: MineReport.Source =
      useDynamics ? (fromHeldOut ? .dynamicsCrossFit : .dynamics) : .model
    let issues = LabelIssues.find(probabilities: checkProbs, labels: gold, classes: c).map {
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
