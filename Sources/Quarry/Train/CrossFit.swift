/// Out-of-sample probabilities of every training row by K-fold cross-fitting: rows are
/// dealt into K folds (stratified, seeded); for each fold a model trains on the other
/// K − 1 folds and predicts the held-out one. A row's probabilities thus come from a model
/// that never saw it, which is what label-error detection needs: a model that has
/// memorised a wrong label cannot tell it is wrong.
public enum CrossFit {
  /// The folds' learning rate as a multiple of the base rate: with half the epochs
  /// (`TrainingConfig.crossFitEpochs`), a larger step fits them as closely.
  public static let lrScale: Float = 1.5

  /// What cross-fitting gives every training row, each from the model of its held-out
  /// fold: the last epoch's probabilities (N×C, row-major; for the rows the folds flag as
  /// label errors, those of the model that `confirmed` trains without them), and the
  /// training dynamics of the held-out rows, p(gold) and the arg-max after every fold
  /// epoch (out-of-sample dataset cartography). A row whose class its fold's model never
  /// saw (a class of one row or one group of identical texts, or a fold with nothing to
  /// train on) cannot be checked: it keeps its own label with probability 1 at every epoch.
  public struct Scores: Sendable {
    public var probabilities: [Float]
    public var dynamics: Dynamics
    /// How many rows the folds flagged as label errors (`confirmed` scores them with a
    /// model trained without them).
    public var flagged = 0
  }

  /// Cross-fits `folds` models on `data`, then `confirmed` the rows they flag. Rows with the
  /// same `group` (e.g. the same text) share a fold, so no row is scored by a model that
  /// trained on its twin. Folds run side
  /// by side, one thread each: a fold's model does not depend on which thread trains it,
  /// so the result is the same for any thread count.
  public static func scores(
    initial: Classifier, data: LabeledData, groups: [UInt64], folds k: Int,
    config: TrainingConfig, shouldStop: @escaping () -> Bool = { false }
  ) throws -> Scores {
    let fold = assignFolds(labels: data.labels, groups: groups, folds: k, seed: config.seed)
    let foldConfig = Self.foldConfig(config, multiLabel: data.labelSets != nil)
    let lanes = max(1, min(config.threads, k))
    var results = [Result<FoldScores, Error>?](repeating: nil, count: k)
    results.withUnsafeMutableBufferPointer { slots in
      parallelFor(lanes) { lane in
        for f in stride(from: lane, to: k, by: lanes) {
          slots[f] = Result {
            try scoreFold(
              f, of: fold, initial: initial, data: data, config: foldConfig,
              shouldStop: shouldStop)
          }
        }
      }
    }
    let merged = try merge(
      results.map { try $0!.get() }, fold: fold, data: data, classes: initial.classes,
      epochs: foldConfig.epochs)
    var confirmConfig = foldConfig
    confirmConfig.threads = config.threads
    return try confirmed(
      merged, initial: initial, data: data, config: confirmConfig, shouldStop: shouldStop)
  }

  /// `scores` with the probabilities of the rows the folds flag as label errors
  /// (`LabelIssues.find(confidence:…)` on their dynamics) replaced by those of one model
  /// trained, with `config`, on every row but the flagged ones: a flagged row then stays
  /// an issue only when a model that never saw any flagged row also prefers another class.
  /// Rows of a class that model never saw keep the folds' probabilities. Multi-label data
  /// is returned as it is: label issues are found per row's single label.
  static func confirmed(
    _ scores: Scores, initial: Classifier, data: LabeledData, config: TrainingConfig,
    shouldStop: @escaping () -> Bool = { false }
  ) throws -> Scores {
    guard data.labelSets == nil else { return scores }
    let (n, c) = (data.count, initial.classes)
    let confidence = (0..<n).map {
      scores.dynamics.stats(row: $0, label: data.labels[$0], classes: c).confidence
    }
    let flagged = LabelIssues.find(
      confidence: confidence, probabilities: scores.probabilities, labels: data.labels,
      classes: c
    ).map(\.row).sorted()
    let isFlagged = Set(flagged)
    let trainRows = (0..<n).filter { !isFlagged.contains($0) }
    guard !flagged.isEmpty, !trainRows.isEmpty else { return scores }
    let model = try Trainer(config: config).train(
      model: initial, train: data.subset(trainRows), valid: nil, recordDynamics: false,
      control: .init(shouldStop: shouldStop)
    ).model
    let p = model.probabilities(data.subset(flagged).features, threads: max(1, config.threads))
    let seen = Set(trainRows.map { data.labels[$0] })
    var out = scores
    out.flagged = flagged.count
    for (j, i) in flagged.enumerated() where seen.contains(data.labels[i]) {
      for k in 0..<c { out.probabilities[i * c + k] = p[j * c + k] }
    }
    return out
  }

  /// The fold models' settings: `crossFitEpochs` epochs on one thread, no mining, and
  /// unweighted classes for a single-label model (balanced weights let labels flipped into
  /// small classes pull the fold models hard; docs/experiments.md).
  static func foldConfig(_ config: TrainingConfig, multiLabel: Bool = false) -> TrainingConfig {
    var foldConfig = config
    foldConfig.threads = 1
    foldConfig.epochs = max(1, config.crossFitEpochs)
    foldConfig.mine = false
    // A multi-label model's thresholds are tuned on the folds' scores: they keep its
    // positive weights, which move every probability of a class.
    if !multiLabel { foldConfig.classWeighting = .uniform }
    return foldConfig
  }

  /// One fold's held-out rows, their probabilities after the last epoch (rows × C), and
  /// their p(gold) and arg-max after each epoch (E × rows): only the last epoch's
  /// probabilities are kept whole, so memory stays that of one N×C table.
  struct FoldScores {
    var rows: [Int]
    var last: [Float] = []
    var pGold: [[Float]] = []
    var predicted: [[Int32]] = []
  }

  /// Trains fold `f`'s model on the rows of the other folds and scores its own after every
  /// epoch. A fold with no rows to train on or to hold out scores nothing.
  static func scoreFold(
    _ f: Int, of fold: [Int], initial: Classifier, data: LabeledData, config: TrainingConfig,
    shouldStop: @escaping () -> Bool
  ) throws -> FoldScores {
    let n = data.count
    let c = initial.classes
    let trainRows = (0..<n).filter { fold[$0] != f }
    var scores = FoldScores(rows: (0..<n).filter { fold[$0] == f })
    guard !scores.rows.isEmpty, !trainRows.isEmpty else { return scores }
    let held = data.subset(scores.rows)
    _ = try Trainer(config: config).train(
      model: initial, train: data.subset(trainRows), valid: nil, recordDynamics: false,
      control: .init(
        shouldStop: shouldStop,
        afterEpoch: { epoch, model in
          // A restarted run (`Trainer.maxRestarts`) counts its epochs from 1 again.
          scores.pGold.removeLast(max(0, scores.pGold.count - (epoch - 1)))
          scores.predicted.removeLast(max(0, scores.predicted.count - (epoch - 1)))
          let p = model.probabilities(held.features, threads: 1)
          scores.pGold.append(held.labels.enumerated().map { p[$0 * c + Int($1)] })
          scores.predicted.append(Metrics.argmax(p, classes: c))
          scores.last = p
        }))
    return scores
  }

  /// Every row's scores from its fold's: a single-label row whose class its fold's model
  /// never saw, or a row of a fold that scored nothing, keeps its own label with
  /// probability 1. A multi-label row is always its fold's: each sigmoid output is a
  /// held-out score whether or not the fold saw the class (an unseen one stays near its
  /// prior), and a stand-in of 1 and 0s would read as confident errors on its other labels.
  static func merge(
    _ folds: [FoldScores], fold: [Int], data: LabeledData, classes c: Int, epochs: Int
  ) -> Scores {
    let n = data.count
    var out = [Float](repeating: 0, count: n * c)
    var pGold = [Float](repeating: 1, count: epochs * n)
    var predicted = [Int32](repeating: 0, count: epochs * n)
    for e in 0..<epochs { for i in 0..<n { predicted[e * n + i] = data.labels[i] } }
    for (f, scores) in folds.enumerated() {
      let heldOut = scores.rows
      for i in heldOut { out[i * c + Int(data.labels[i])] = 1 }
      guard !scores.last.isEmpty else { continue }
      let seen = Set((0..<n).filter { fold[$0] != f }.map { data.labels[$0] })
      let checked =
        data.labelSets != nil
        ? Array(heldOut.indices)
        : heldOut.indices.filter { seen.contains(data.labels[heldOut[$0]]) }
      for j in checked {
        let i = heldOut[j]
        for k in 0..<c { out[i * c + k] = scores.last[j * c + k] }
      }
      for e in scores.pGold.indices {
        for j in checked {
          pGold[e * n + heldOut[j]] = scores.pGold[e][j]
          predicted[e * n + heldOut[j]] = scores.predicted[e][j]
        }
      }
    }
    return Scores(
      probabilities: out,
      dynamics: Dynamics(rows: n, pGold: pGold, predicted: predicted) ?? Dynamics(rows: n))
  }

  /// Fold of each row: per class (of a group's first row), a seeded shuffle of the groups
  /// dealt round-robin, so each fold holds about 1/K of every class and whole groups.
  public static func assignFolds(labels: [Int32], groups: [UInt64], folds k: Int, seed: UInt64)
    -> [Int]
  {
    var rng = SplitMix64(seed: seed &+ 0xF01D)
    var fold = [Int](repeating: 0, count: labels.count)
    let classes = (labels.max().map { Int($0) } ?? -1) + 1
    var members: [UInt64: [Int]] = [:]
    var firstOfGroup: [Int] = []
    for (i, g) in groups.enumerated() {
      if members[g] == nil { firstOfGroup.append(i) }
      members[g, default: []].append(i)
    }
    var byClass = [[Int]](repeating: [], count: classes)
    for i in firstOfGroup { byClass[Int(labels[i])].append(i) }
    var next = 0
    for var heads in byClass {
      rng.shuffle(&heads)
      for h in heads {
        for i in members[groups[h]] ?? [] { fold[i] = next % k }
        next += 1
      }
    }
    return fold
  }
}
