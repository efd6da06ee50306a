import XCTest

@testable import Quarry

/// Fold assignment, and out-of-sample probabilities on a small separable corpus with a
/// few labels flipped on purpose.
final class CrossFitTests: XCTestCase {
  // MARK: assignFolds

  /// Labels in blocks of 31, 17 and 7 rows (classes 0, 1, 2), shuffled by a fixed order.
  static let labels: [Int32] = {
    var l =
      [Int32](repeating: 0, count: 31) + [Int32](repeating: 1, count: 17)
      + [Int32](repeating: 2, count: 7)
    var rng = SplitMix64(seed: 99)
    rng.shuffle(&l)
    return l
  }()

  /// Per fold, how many groups (counted once, by their first row's class) of each class.
  func groupsPerFold(labels: [Int32], groups: [UInt64], fold: [Int], k: Int) -> [[Int]] {
    var count = [[Int]](repeating: [0, 0, 0], count: k)
    var seen = Set<UInt64>()
    for i in labels.indices where seen.insert(groups[i]).inserted {
      count[fold[i]][Int(labels[i])] += 1
    }
    return count
  }

  func assertStratified(
    labels: [Int32], groups: [UInt64], fold: [Int], k: Int, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(fold.count, labels.count, file: file, line: line)
    XCTAssertTrue(fold.allSatisfy { (0..<k).contains($0) }, "\(fold)", file: file, line: line)
    let count = groupsPerFold(labels: labels, groups: groups, fold: fold, k: k)
    for c in 0..<3 {
      let perFold = count.map { $0[c] }
      let total = perFold.reduce(0, +)
      // About total/K each: ⌊total/K⌋ or ⌈total/K⌉.
      XCTAssertTrue(
        perFold.allSatisfy { $0 == total / k || $0 == (total + k - 1) / k },
        "class \(c): groups per fold \(perFold)", file: file, line: line)
    }
  }

  func testEveryFoldGetsItsShareOfEachClass() {
    let labels = CrossFitTests.labels
    let groups = labels.indices.map { UInt64($0) }
    for k in [2, 3, 5] {
      let fold = CrossFit.assignFolds(labels: labels, groups: groups, folds: k, seed: 1)
      assertStratified(labels: labels, groups: groups, fold: fold, k: k)
      // With one row per group, per-class row counts are the group counts: 31 rows of
      // class 0 in 5 folds → 6 or 7 each.
      if k == 5 {
        let zeros = (0..<5).map { f in
          labels.indices.filter { fold[$0] == f && labels[$0] == 0 }.count
        }
        XCTAssertTrue(zeros.allSatisfy { $0 == 6 || $0 == 7 }, "\(zeros)")
        XCTAssertEqual(zeros.reduce(0, +), 31)
      }
    }
  }

  func testGroupsShareAFold() {
    let labels = CrossFitTests.labels
    // Rows 0–2, 3–5, … share a group, whatever their labels (hashed-looking ids).
    let groups = labels.indices.map { UInt64($0 / 3) &* 0x9E37_79B9 }
    let fold = CrossFit.assignFolds(labels: labels, groups: groups, folds: 4, seed: 3)
    var foldOfGroup: [UInt64: Int] = [:]
    for (i, g) in groups.enumerated() {
      if let f = foldOfGroup[g] {
        XCTAssertEqual(fold[i], f, "row \(i) left its group's fold")
      } else {
        foldOfGroup[g] = fold[i]
      }
    }
    assertStratified(labels: labels, groups: groups, fold: fold, k: 4)
  }

  func testDeterministicForASeedAndDifferentAcrossSeeds() {
    let labels = CrossFitTests.labels
    let groups = labels.indices.map { UInt64($0) }
    let a = CrossFit.assignFolds(labels: labels, groups: groups, folds: 5, seed: 11)
    let b = CrossFit.assignFolds(labels: labels, groups: groups, folds: 5, seed: 11)
    let c = CrossFit.assignFolds(labels: labels, groups: groups, folds: 5, seed: 12)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, c)
  }

  // MARK: probabilities

  static let flipped = [4, 31, 56, 80]

  func config(threads: Int = 2) -> TrainingConfig {
    // epochs is not used: the folds train crossFitEpochs.
    TrainingFixtures.keywordConfig(epochs: 99, threads: threads, crossFitEpochs: 8)
  }

  /// 90 rows with the rows in `flipped` relabelled to the next class; the data, initial
  /// model and the rows' text hashes as groups, as `Finetune.run` builds them.
  func setup(_ config: TrainingConfig) -> (LabeledData, Classifier, [UInt64], [Int32]) {
    var rows = KeywordCorpus.rows(count: 90, seed: 100)
    let truth = rows.map(\.label)
    for i in CrossFitTests.flipped { rows[i].label = (rows[i].label + 1) % 3 }
    let texts = rows.map(\.text)
    let (data, initial) = KeywordCorpus.setup(rows, config: config, classes: 3)
    return (data, initial, texts.map { FNV1a.hash($0.utf8) }, truth)
  }

  /// Row 2's first class (2) is on no row that its fold's model trained on. Single-label,
  /// it keeps its label at probability 1; multi-label, it keeps its fold's sigmoid scores,
  /// which are out-of-sample for every class.
  func testMergeKeepsEveryMultiLabelRowsFoldScores() {
    let (all, _) = KeywordCorpus.setup(
      KeywordCorpus.rows(count: 4, seed: 1), config: config(), classes: 3)
    var data = all.subset([0, 1, 2, 3])
    data.labels = [0, 1, 2, 0]
    let fold = [0, 0, 1, 1]
    let folds = [
      CrossFit.FoldScores(
        rows: [0, 1], last: [0.7, 0.2, 0.1, 0.3, 0.6, 0.05], pGold: [[0.7, 0.6]],
        predicted: [[0, 1]]),
      CrossFit.FoldScores(
        rows: [2, 3], last: [0.4, 0.3, 0.2, 0.8, 0.1, 0.3], pGold: [[0.2, 0.8]],
        predicted: [[0, 0]]),
    ]
    let single = CrossFit.merge(folds, fold: fold, data: data, classes: 3, epochs: 1)
    XCTAssertEqual(Array(single.probabilities[6..<9]), [0, 0, 1])
    XCTAssertEqual(Array(single.probabilities[9..<12]), [0.8, 0.1, 0.3])
    data.labelSets = [[0, 1], [1], [2, 0], [0]]
    let multi = CrossFit.merge(folds, fold: fold, data: data, classes: 3, epochs: 1)
    XCTAssertEqual(Array(multi.probabilities[6..<9]), [0.4, 0.3, 0.2])
    XCTAssertEqual(Array(multi.probabilities[9..<12]), [0.8, 0.1, 0.3])
    XCTAssertEqual(multi.dynamics.pGold[2], 0.2)
  }

  func testOutOfSampleProbabilitiesExposeFlippedLabels() throws {
    setBLASThreads(1)
    let config = config()
    let (data, initial, groups, truth) = setup(config)
    let scores = try CrossFit.scores(
      initial: initial, data: data, groups: groups, folds: 3, config: config)
    let p = scores.probabilities
    XCTAssertEqual(p.count, 90 * 3)
    for i in 0..<90 {
      let row = p[(i * 3)..<(i * 3 + 3)]
      XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-4, "row \(i)")
      XCTAssertTrue(row.allSatisfy { $0 >= 0 && $0 <= 1 }, "row \(i): \(Array(row))")
    }
    func given(_ i: Int) -> Float { p[i * 3 + Int(data.labels[i])] }
    func pTrue(_ i: Int) -> Float { p[i * 3 + Int(truth[i])] }
    let flipped = CrossFitTests.flipped
    let clean = (0..<90).filter { !flipped.contains($0) }
    let cleanGiven = clean.map(given).sorted()
    // The models that scored the flipped rows never saw them: their keywords point to the
    // true class, so the given label gets little.
    for i in flipped {
      XCTAssertLessThan(given(i), 0.34, "flipped row \(i): p(given) = \(given(i))")
      XCTAssertGreaterThan(pTrue(i), given(i), "flipped row \(i)")
    }
    let median = cleanGiven[cleanGiven.count / 2]
    XCTAssertGreaterThan(median, 0.55, "clean rows should mostly be right out of sample")
    // Every flipped row gets less for its given label than any clean row does (seen: at
    // most 0.17 against at least 0.44).
    XCTAssertLessThan(flipped.map(given).max()!, cleanGiven.first!)
    // Confident learning on these probabilities finds them (score ≥ 0.8 by default).
    let issues = LabelIssues.find(probabilities: p, labels: data.labels, classes: 3)
    let found = Set(issues.map(\.row)).intersection(flipped)
    XCTAssertGreaterThanOrEqual(found.count, 3, "found \(found.sorted()) of \(flipped)")
    for issue in issues where flipped.contains(issue.row) {
      XCTAssertEqual(issue.suggested, truth[issue.row], "row \(issue.row)")
    }

    // The out-of-fold dynamics: one record per fold epoch, the last equal to the
    // probabilities; a flipped row's confidence over the epochs is below every clean
    // row's median, and its most frequent wrong class is the true one.
    // (The rows the folds flag keep the probabilities of the model that confirms them.)
    let dyn = scores.dynamics
    XCTAssertEqual(dyn.rows, 90)
    XCTAssertEqual(dyn.epochs, config.crossFitEpochs)
    let last = (dyn.epochs - 1) * 90
    let stats = (0..<90).map { dyn.stats(row: $0, label: data.labels[$0], classes: 3) }
    let flaggedByFolds = Set(
      LabelIssues.find(
        confidence: stats.map(\.confidence), probabilities: p, labels: data.labels, classes: 3
      ).map(\.row))
    for i in 0..<90 where !flaggedByFolds.contains(i) {
      XCTAssertEqual(dyn.pGold[last + i], given(i), "row \(i)")
    }
    let cleanConfidence = clean.map { stats[$0].confidence }.sorted()
    for i in flipped {
      XCTAssertLessThan(
        stats[i].confidence, cleanConfidence[cleanConfidence.count / 2], "flipped row \(i)")
      XCTAssertEqual(stats[i].rival, truth[i], "flipped row \(i)")
    }
  }

  /// Hand-made fold scores in which the flipped rows have low confidence and a rival
  /// class: `confirmed` replaces exactly their probabilities with those of a model trained
  /// (same settings, same initial weights) on the other 86 rows, which gives them their
  /// true class; every other row is left as it was.
  func testFlaggedRowsAreScoredByAModelTrainedWithoutThem() throws {
    setBLASThreads(1)
    var config = config()
    config.epochs = config.crossFitEpochs
    config.mine = false
    config.classWeighting = .uniform
    let (data, initial, _, truth) = setup(config)
    let flipped = CrossFitTests.flipped
    var probabilities = [Float](repeating: 0, count: 90 * 3)
    var pGold = [Float](repeating: 0.9, count: 90)
    for i in 0..<90 {
      let shown = flipped.contains(i) ? (Int(data.labels[i]) + 1) % 3 : Int(data.labels[i])
      probabilities[i * 3 + shown] = 1
      if flipped.contains(i) { pGold[i] = 0.02 }
    }
    let scores = CrossFit.Scores(
      probabilities: probabilities,
      dynamics: try XCTUnwrap(
        Dynamics(rows: 90, pGold: pGold, predicted: data.labels.map { $0 })))
    let out = try CrossFit.confirmed(scores, initial: initial, data: data, config: config)
    let others = (0..<90).filter { !flipped.contains($0) }
    let confirmer = try Trainer(config: config).train(
      model: initial, train: data.subset(others), valid: nil, recordDynamics: false
    ).model
    let expected = confirmer.probabilities(data.subset(flipped).features, threads: 1)
    for (j, i) in flipped.enumerated() {
      XCTAssertEqual(
        Array(out.probabilities[(i * 3)..<(i * 3 + 3)]), Array(expected[(j * 3)..<(j * 3 + 3)]),
        "row \(i)")
    }
    for i in others {
      XCTAssertEqual(
        Array(out.probabilities[(i * 3)..<(i * 3 + 3)]),
        Array(probabilities[(i * 3)..<(i * 3 + 3)]), "row \(i)")
    }
    XCTAssertEqual(out.dynamics, scores.dynamics)
    let issues = LabelIssues.find(
      confidence: pGold, probabilities: out.probabilities, labels: data.labels, classes: 3)
    XCTAssertEqual(Set(issues.map(\.row)), Set(flipped))
    for issue in issues { XCTAssertEqual(issue.suggested, truth[issue.row], "row \(issue.row)") }
  }

  func testSameForAnyThreadCountAndSeedDependent() throws {
    setBLASThreads(1)
    let (data, initial, groups, _) = setup(config(threads: 1))
    let one = try CrossFit.scores(
      initial: initial, data: data, groups: groups, folds: 3, config: config(threads: 1))
    let two = try CrossFit.scores(
      initial: initial, data: data, groups: groups, folds: 3, config: config(threads: 2))
    XCTAssertEqual(one.probabilities, two.probabilities)
    XCTAssertEqual(one.dynamics, two.dynamics)
    var other = config(threads: 2)
    other.seed = 2
    let reseeded = try CrossFit.scores(
      initial: initial, data: data, groups: groups, folds: 3, config: other)
    XCTAssertNotEqual(one.probabilities, reseeded.probabilities)
  }
}
