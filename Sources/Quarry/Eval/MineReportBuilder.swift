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
///   gold];
/// - calibration: `Calibration` of p (for training rows, of the folds' probabilities, not
///   the model's).
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
    let s = try Scores(model: model, corpus: corpus, threads: threads, encoder: encoder)
    let ex = corpus.examples
    let boundary = s.gold.indices.filter { abs(s.margin[$0]) <= band }
      .sorted { s.margin[$0] < s.margin[$1] || (s.margin[$0] == s.margin[$1] && $0 < $1) }
      .map {
        MineReport.BoundaryRow(
          line: ex[$0].line, label: labels[Int(s.gold[$0])],
          confused_with: labels[Int(s.rival[$0])], margin: s.margin[$0], text: ex[$0].text)
      }
    let map = dataMap(s, corpus: corpus, labels: labels)
    let found =
      s.source == .crossFit
      ? LabelIssues.find(
        confidence: map.map(\.confidence), probabilities: s.probs, labels: s.gold,
        classes: s.classes)
      : LabelIssues.find(probabilities: s.probs, labels: s.gold, classes: s.classes)
    let issues = found.map {
      MineReport.LabelIssue(
        line: ex[$0.row].line, label: labels[Int(s.gold[$0.row])],
        suggested: labels[Int($0.suggested)], suggested_by: s.source.suggester,
        score: $0.score, text: ex[$0.row].text)
    }
    return MineReport(
      source: s.source, model: modelPath, data: corpus.path, rows: s.gold.count,
      labels: labels, boundary: boundary, label_issues: issues,
      confusions: confusions(s, labels: labels), data_map: map,
      calibration: .init(Calibration(probabilities: s.probs, gold: s.gold, classes: s.classes)))
  }

  /// Every row's gold class and probabilities (the stored out-of-sample ones for the rows
  /// the model trained on), their margins and rivals, the dynamics that follow those rows,
  /// and what the report's figures come from.
  struct Scores {
    var classes: Int
    var gold: [Int32]
    var probs: [Float]
    var margin: [Float]
    var rival: [Int32]
    var predicted: [Int32]
    /// The stored row of each training line, when this is the training corpus.
    var rowOfLine: [Int: Int] = [:]
    var dynamics: Dynamics?
    var source: MineReport.Source

    init(model: Model, corpus: Corpus, threads: Int, encoder: FrozenEncoder?) throws {
      let c = model.labels.count
      classes = c
      gold = try model.goldLabels(of: corpus)
      probs = try Predictor(model: model, threads: threads, encoder: encoder)
        .probabilities(corpus.examples.map(\.text))
      rowOfLine = model.storedRows(of: corpus)
      let held = rowOfLine.isEmpty ? nil : model.heldOut
      if let held {
        MineReportBuilder.substitute(&probs, held: held, rowOfLine: rowOfLine, corpus: corpus)
      }
      dynamics = rowOfLine.isEmpty ? nil : (model.heldOutDynamics ?? model.dynamics)
      source =
        switch (held != nil, dynamics != nil, model.heldOutDynamics != nil) {
        case (true, _, true): .crossFit
        case (true, _, false): .dynamicsCrossFit
        case (false, true, _): .dynamics
        default: .model
        }
      (margin, rival) = Miner.margins(probabilities: probs, labels: gold, classes: c)
      predicted = Metrics.argmax(probs, classes: c)
    }
  }

  /// `p` (N×C, in `corpus`'s order) with each row whose line is in `rowOfLine` replaced by
  /// that stored row of `held` (in the model's `trainLines` order); how many were replaced.
  @discardableResult
  static func substitute(
    _ p: inout [Float], held: [Float], rowOfLine: [Int: Int], corpus: Corpus
  ) -> Int {
    let c = corpus.examples.isEmpty ? 0 : p.count / corpus.examples.count
    var replaced = 0
    for (i, e) in corpus.examples.enumerated() {
      guard let r = rowOfLine[e.line] else { continue }
      for k in 0..<c { p[i * c + k] = held[r * c + k] }
      replaced += 1
    }
    return replaced
  }

  /// (gold, predicted) pairs by count of wrong rows, with the rows whose rival lies inside
  /// the band; most confused first.
  func confusions(_ s: Scores, labels: [String]) -> [MineReport.Confusion] {
    let c = s.classes
    var wrong = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
    var near = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
    for i in s.gold.indices {
      let g = Int(s.gold[i])
      if s.predicted[i] != s.gold[i] { wrong[g][Int(s.predicted[i])] += 1 }
      if abs(s.margin[i]) <= band { near[g][Int(s.rival[i])] += 1 }
    }
    var confusions: [MineReport.Confusion] = []
    for g in 0..<c {
      for o in 0..<c where o != g && (wrong[g][o] > 0 || near[g][o] > 0) {
        confusions.append(
          .init(label: labels[g], confused_with: labels[o], count: wrong[g][o], near: near[g][o]))
      }
    }
    return confusions.sorted {
      ($0.count, $0.near) > ($1.count, $1.near)
        || (($0.count, $0.near) == ($1.count, $1.near)
          && ($0.label, $0.confused_with) < ($1.label, $1.confused_with))
    }
  }

  /// A point per row: from the dynamics that follow it, or else from its probabilities.
  func dataMap(_ s: Scores, corpus: Corpus, labels: [String]) -> [MineReport.MapPoint] {
    let c = s.classes
    return corpus.examples.enumerated().map { i, e in
      let stats: Dynamics.RowStats
      if let dynamics = s.dynamics, let r = s.rowOfLine[e.line] {
        stats = dynamics.stats(row: r, label: s.gold[i], classes: c)
      } else {
        let right = s.predicted[i] == s.gold[i]
        stats = .init(
          confidence: s.probs[i * c + Int(s.gold[i])], variability: 0,
          correctness: right ? 1 : 0, rival: right ? -1 : s.predicted[i])
      }
      return MineReport.MapPoint(
        line: e.line, label: labels[Int(s.gold[i])], confidence: stats.confidence,
        variability: stats.variability, correctness: stats.correctness)
    }
  }
}

extension Model {
  /// On the corpus this model was trained on (the same content hash), each training
  /// line's row in the per-row tensors stored with it (`trainLines`' order); empty on any
  /// other corpus.
  func storedRows(of corpus: Corpus) -> [Int: Int] {
    guard corpus.contentHashHex == metadata.corpus.contentHash, let lines = trainLines else {
      return [:]
    }
    var rowOfLine: [Int: Int] = [:]
    for (r, l) in lines.enumerated() { rowOfLine[Int(l)] = r }
    return rowOfLine
  }
}
