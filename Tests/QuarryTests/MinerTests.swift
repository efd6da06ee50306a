import XCTest

@testable import Quarry

/// `Miner` on hand-made probabilities, and the mined pass inside `Trainer.train`.
///
/// Probabilities are multiples of 1/16, so every margin is exact in Float and the band's
/// edge (|m| = `mineMargin`) can be tested as such.
final class MinerTests: XCTestCase {
  // MARK: Hand-made fixture

  /// Ten rows of three classes, probabilities in sixteenths (p0, p1, p2).
  ///
  ///   row label  p·16        margin·16  rival  p(rival)·16
  ///    0   0    (8, 6, 2)       2        1        6
  ///    1   0    (5,10, 1)      −5        1       10
  ///    2   0    (1,14, 1)     −13        1       14   (outside the band 0.5)
  ///    3   0    (6, 2, 8)      −2        2        8
  ///    4   1    (7, 8, 1)       1        0        7
  ///    5   1    (4,12, 0)       8        0        4   (on the band's edge: kept)
  ///    6   1   (10, 5, 1)      −5        0       10
  ///    7   1    (1,14, 1)      13        0/2      1   (outside the band)
  ///    8   2    (6, 3, 7)       1        0        6
  ///    9   2    (2, 9, 5)      −4        1        9
  ///
  /// Class sizes n = (4, 4, 2); candidates in the band 0.5 per rival class: 4, 3, 1 (so a
  /// fraction of 0.5 or 0.1 gives the same quotas whether they count rows or candidates).
  /// Word sets: rows 4 and 6 are the same set (Jaccard 1);
  /// row 9 is row 1's nine words plus one (Jaccard 9/10); row 8 shares 2 of 6 with row 6.
  static let labels: [Int32] = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
  static let sixteenths: [[Float]] = [
    [8, 6, 2], [5, 10, 1], [1, 14, 1], [6, 2, 8], [7, 8, 1],
    [4, 12, 0], [10, 5, 1], [1, 14, 1], [6, 3, 7], [2, 9, 5],
  ]
  static var probabilities: [Float] { sixteenths.flatMap { $0.map { $0 / 16 } } }
  static let words: [[Int32]] = [
    [0, 1, 2], Array(10...18), [3, 4], [5, 6, 7], [20, 21, 22, 23],
    [30, 31], [20, 21, 22, 23], [40], [20, 21, 50, 51], Array(10...19),
  ]

  /// A feature matrix whose row i has the word set `words[i]`, built by hand.
  static func matrix(_ words: [[Int32]]) -> FeatureMatrix {
    var m = FeatureMatrix()
    for w in words {
      var f = SparseFeatures()
      f.wideRows = w
      f.wideValues = [Float](repeating: 1, count: w.count)
      f.bagRows = w
      f.bagWeights = [Float](repeating: 1 / Float(max(w.count, 1)), count: w.count)
      f.tokens = w.count
      f.knownTokens = w.count
      m.append(f)
    }
    return m
  }

  func config(margin: Float = 0.5, fraction: Float = 0.5, jaccard: Float = 0.9) -> TrainingConfig {
    var c = TrainingConfig()
    c.mineMargin = margin
    c.mineFraction = fraction
    c.mineJaccard = jaccard
    return c
  }

  func select(_ c: TrainingConfig) -> Miner.Selection {
    Miner(config: c, classes: 3).select(
      probabilities: MinerTests.probabilities, labels: MinerTests.labels,
      features: MinerTests.matrix(MinerTests.words))
  }

  // MARK: margins

  func testMarginsAndRivals() {
    let (margin, rival) = Miner.margins(
      probabilities: MinerTests.probabilities, labels: MinerTests.labels, classes: 3)
    let expected: [Float] = [2, -5, -13, -2, 1, 8, -5, 13, 1, -4].map { $0 / 16 }
    XCTAssertEqual(margin, expected)
    // Row 7's two other classes tie (1/16 each): either is its rival.
    let rivals: [[Int32]] = [[1], [1], [1], [2], [0], [0], [0], [0, 2], [0], [1]]
    for i in 0..<10 {
      XCTAssertTrue(rivals[i].contains(rival[i]), "row \(i): rival \(rival[i])")
    }
  }

  func testMarginsOfTwoClassesAndOfTheWrongWinner() {
    // Row 0: gold 1 at 0.25, other 0.75 → −0.5, rival 0. Row 1: gold 0 at 1 → 1, rival 1.
    let (margin, rival) = Miner.margins(
      probabilities: [0.75, 0.25, 1, 0], labels: [1, 0], classes: 2)
    XCTAssertEqual(margin, [-0.5, 1])
    XCTAssertEqual(rival, [0, 1])
    // Four classes: the rival is the largest *other* class even when gold is the largest.
    let (m4, r4) = Miner.margins(
      probabilities: [0.125, 0.5, 0.0625, 0.3125], labels: [1], classes: 4)
    XCTAssertEqual(m4, [0.1875])
    XCTAssertEqual(r4, [3])
  }

  // MARK: select

  /// Band 0.5, fraction 0.5 (quotas ⌈2⌉, ⌈1.5⌉, ⌈0.5⌉), Jaccard 0.9:
  ///   class 0: candidates 6 (10), 4 (7), 8 (6), 5 (4); 4 is row 6's word set → 6, 8;
  ///   class 1: candidates 1 (10), 9 (9), 0 (6); 9 vs 1 is exactly 0.9, not above → 1, 9;
  ///   class 2: candidate 3 → 3.
  func testSelectDefaultBand() {
    let s = select(config())
    XCTAssertEqual(s.rows, [6, 8, 1, 9, 3])
    XCTAssertEqual(s.perClass, [2, 2, 1])
    XCTAssertEqual(s.trained, 0)
  }

  /// A Jaccard cut below 0.9 now drops row 9 (row 1's near twin) and takes row 0.
  func testSelectSkipsNearDuplicatesAboveTheCut() {
    let s = select(config(jaccard: 0.85))
    XCTAssertEqual(s.rows, [6, 8, 1, 0, 3])
    XCTAssertEqual(s.perClass, [2, 2, 1])
  }

  /// Band 0.25: rows 1, 5, 6 (|m| = 5/16, 8/16, 5/16) leave; 9 (|m| = 4/16) is on the edge.
  /// Fraction 1, so every candidate left is taken whether the quota counts the class's rows
  /// or its candidates:
  ///   class 0: 4 (7), 8 (6) → 4, 8 (row 6 is gone, so its twin 4 is kept);
  ///   class 1: 9 (9), 0 (6) → 9, 0;   class 2: 3.
  func testSelectNarrowBand() {
    let s = select(config(margin: 0.25, fraction: 1))
    XCTAssertEqual(s.rows, [4, 8, 9, 0, 3])
    XCTAssertEqual(s.perClass, [2, 2, 1])
  }

  /// Fraction 1: every candidate that is not a near twin.
  func testSelectWholeClassQuota() {
    let s = select(config(fraction: 1))
    XCTAssertEqual(s.rows, [6, 8, 5, 1, 9, 0, 3])
    XCTAssertEqual(s.perClass, [3, 3, 1])
  }

  /// Fraction 0.1: quotas ⌈0.4⌉, ⌈0.3⌉, ⌈0.1⌉ (of 4, 3, 1 candidates) = 1 each: the top
  /// candidate of each class.
  func testSelectQuotaRoundsUp() {
    let s = select(config(fraction: 0.1))
    XCTAssertEqual(s.rows, [6, 1, 3])
    XCTAssertEqual(s.perClass, [1, 1, 1])
  }

  /// The quota is ⌈`mineFraction` · (candidates of c)⌉, as Miner.swift documents it now
  /// (it was ⌈`mineFraction` · n_c⌉, n_c the rows of class c). Class 2 has two rows and
  /// three candidates (rows of class 0 whose rival is 2): fraction 0.5 keeps ⌈1.5⌉ = 2 of
  /// them (the old rule kept ⌈0.5 · 2⌉ = 1), ranked by p2: row 1 (0.625), row 2 (0.5625).
  func testQuotaIsAShareOfTheClassCandidates() {
    // Labels 0,0,0,2,2; rows 0–2 all have rival 2 inside the band.
    let p: [Float] = [
      0.5, 0, 0.5,
      0.375, 0, 0.625,
      0.4375, 0, 0.5625,
      0, 0, 1,
      0, 0, 1,
    ]
    let labels: [Int32] = [0, 0, 0, 2, 2]
    let m = MinerTests.matrix([[1], [2], [3], [4], [5]])
    let half = Miner(config: config(fraction: 0.5), classes: 3).select(
      probabilities: p, labels: labels, features: m)
    XCTAssertEqual(half.rows, [1, 2])
    XCTAssertEqual(half.perClass, [0, 0, 2])
    // ⌈0.3 · 3⌉ = 1.
    let third = Miner(config: config(fraction: 0.3), classes: 3).select(
      probabilities: p, labels: labels, features: m)
    XCTAssertEqual(third.rows, [1])
  }

  func testNothingInTheBandSelectsNothing() {
    let p: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    let s = Miner(config: config(), classes: 3).select(
      probabilities: p, labels: [0, 1, 2], features: MinerTests.matrix([[1], [2], [3]]))
    XCTAssertEqual(s.rows, [])
    XCTAssertEqual(s.perClass, [0, 0, 0])
  }

  // MARK: jaccard

  func testJaccard() {
    XCTAssertEqual(Miner.jaccard([], []), 1)
    XCTAssertEqual(Miner.jaccard([1, 2, 3], []), 0)
    XCTAssertEqual(Miner.jaccard([], [4]), 0)
    XCTAssertEqual(Miner.jaccard([1, 2, 3], [1, 2, 3]), 1)
    XCTAssertEqual(Miner.jaccard([1, 2, 3], [4, 5]), 0)
    // {2, 3} of {1, 2, 3, 4}.
    XCTAssertEqual(Miner.jaccard([1, 2, 3], [2, 3, 4]), 0.5)
    // {3, 7} of {1, 3, 5, 7}; the same either way round.
    XCTAssertEqual(Miner.jaccard([1, 3, 5, 7], [3, 7]), 0.5)
    XCTAssertEqual(Miner.jaccard([3, 7], [1, 3, 5, 7]), 0.5)
    // 1 of 5, interleaved.
    XCTAssertEqual(Miner.jaccard([0, 2, 4], [1, 2, 3]), 0.2, accuracy: 1e-7)
    XCTAssertEqual(Miner.jaccard(Array(10...18), Array(10...19)), 0.9, accuracy: 1e-7)
  }

  // MARK: Mining inside the trainer

  static func trainingConfig(seed: UInt64 = 1, threads: Int = 1) -> TrainingConfig {
    var c = TrainingFixtures.keywordConfig(
      epochs: 5, learningRate: 0.2, wordNgrams: 1, seed: seed, threads: threads, crossFit: 0)
    c.mine = true
    c.mineWarmup = 1
    c.mineFraction = 0.25
    c.mineMargin = 0.5
    c.mineJaccard = 0.9
    c.augment = true
    return c
  }

  /// What one run of the trainer did: its result and every call of `augment`.
  struct Run {
    var result: Trainer.Result
    var calls: [(rows: [Int], epoch: Int)]
  }

  final class CallLog {
    var calls: [(rows: [Int], epoch: Int)] = []
  }

  /// The trainer on `rows` rows of two classes (sport 0, money 1), so that p(other) =
  /// 1 − p(gold) and the scores the miner saw in epoch e can be rebuilt from the training
  /// dynamics of epoch e − 1. Each text holds two keywords of its class, in a third of the
  /// rows one of the other class, and two noise words, so that early epochs leave rows in
  /// the band.
  func run(_ config: TrainingConfig, rows: Int = 80) throws -> (Run, LabeledData) {
    setBLASThreads(1)
    let (data, initial) = KeywordCorpus.setup(
      KeywordCorpus.rows(count: rows, seed: 42, classes: ["sport", "money"], strays: true),
      config: config, classes: 2)
    let log = CallLog()
    // Two "variants" per mined row: copies of it, so a pass trains 3 rows per pick.
    let augment: Trainer.Augment = { rows, epoch in
      log.calls.append((rows, epoch))
      return data.subset(rows + rows)
    }
    let result = try Trainer(config: config).train(
      model: initial, train: data, valid: nil, augment: augment)
    return (Run(result: result, calls: log.calls), data)
  }

  /// The documented selection for two classes, from p(gold) alone: row i of gold y is a
  /// candidate for class 1 − y when |2·p − 1| ≤ band; candidates are ranked by
  /// p(rival) = 1 − p, highest first, and the top ⌈fraction · candidates⌉ taken, skipping any
  /// whose word set has Jaccard above the cut with one already taken.
  static func expectedSelection(pGold: ArraySlice<Float>, data: LabeledData, config: TrainingConfig)
    -> (rows: [Int], perClass: [Int])
  {
    let n = data.count
    let p = Array(pGold)
    func words(_ i: Int) -> Set<Int32> {
      let f = data.features
      return Set(f.bagRows[f.bagStart[i]..<f.bagStart[i + 1]])
    }
    var rows: [Int] = []
    var perClass = [0, 0]
    for c in 0..<2 {
      let candidates = (0..<n).filter {
        Int(data.labels[$0]) != c && abs(2 * p[$0] - 1) <= config.mineMargin
      }
      .sorted { a, b in
        let pa = 1 - p[a]
        let pb = 1 - p[b]
        return pa > pb || (pa == pb && a < b)
      }
      let quota = Int((config.mineFraction * Float(candidates.count)).rounded(.up))
      var kept: [Set<Int32>] = []
      for i in candidates where kept.count < quota {
        let w = words(i)
        let near = kept.contains { k in
          let union = k.union(w).count
          let j: Float = union == 0 ? 1 : Float(k.intersection(w).count) / Float(union)
          return j > config.mineJaccard
        }
        if near { continue }
        kept.append(w)
        rows.append(i)
      }
      perClass[c] = kept.count
    }
    return (rows, perClass)
  }

  func testMinedPassFollowsTheWarmupAndGetsTheMinedRows() throws {
    let config = MinerTests.trainingConfig()
    let (run, data) = try run(config)
    let epochs = run.result.epochs
    XCTAssertEqual(epochs.map(\.epoch), Array(1...5))
    // Epoch 1 is the warm-up: no mining.
    XCTAssertNil(epochs[0].minedPerClass)
    XCTAssertNil(epochs[0].minedTrained)
    XCTAssertFalse(run.calls.contains { $0.epoch == 1 })
    let n = data.count
    let dyn = run.result.dynamics
    XCTAssertEqual(dyn.epochs, 5)
    var expectedCalls: [(rows: [Int], epoch: Int)] = []
    for e in 2...5 {
      let summary = epochs[e - 1]
      let perClass = try XCTUnwrap(summary.minedPerClass, "epoch \(e) should report mining")
      // The scores of epoch e's mined pass are the probabilities after epoch e − 1.
      let want = MinerTests.expectedSelection(
        pGold: dyn.pGold[((e - 2) * n)..<((e - 1) * n)], data: data, config: config)
      XCTAssertEqual(perClass, want.perClass, "epoch \(e)")
      // Picked rows plus two variants each.
      XCTAssertEqual(summary.minedTrained, 3 * want.rows.count, "epoch \(e)")
      if !want.rows.isEmpty { expectedCalls.append((want.rows, e)) }
    }
    XCTAssertFalse(expectedCalls.isEmpty, "the corpus should leave rows in the band")
    XCTAssertEqual(run.calls.map(\.epoch), expectedCalls.map(\.epoch))
    for (got, want) in zip(run.calls, expectedCalls) {
      XCTAssertEqual(got.rows, want.rows, "rows passed to augment in epoch \(got.epoch)")
    }
  }

  func testLongerWarmupStartsMiningLater() throws {
    var config = MinerTests.trainingConfig()
    config.mineWarmup = 3
    let (run, _) = try run(config)
    XCTAssertEqual(
      run.result.epochs.map { $0.minedPerClass == nil }, [true, true, true, false, false])
    XCTAssertTrue(run.calls.allSatisfy { $0.epoch > 3 }, "\(run.calls.map(\.epoch))")
  }

  func testNoAugmentNoMineNoCalls() throws {
    var config = MinerTests.trainingConfig()
    config.augment = false
    let (plain, _) = try run(config)
    XCTAssertTrue(plain.calls.isEmpty)
    for s in plain.result.epochs.dropFirst() {
      let perClass = try XCTUnwrap(s.minedPerClass)
      // Without variants the pass trains exactly the picked rows.
      XCTAssertEqual(s.minedTrained, perClass.reduce(0, +))
    }
    config.mine = false
    let (off, _) = try run(config)
    XCTAssertTrue(off.calls.isEmpty)
    XCTAssertTrue(
      off.result.epochs.allSatisfy { $0.minedPerClass == nil && $0.minedTrained == nil })
  }

  func testMiningIsDeterministicAndIndependentOfThreads() throws {
    let (a, _) = try run(MinerTests.trainingConfig(seed: 7, threads: 1))
    let (b, _) = try run(MinerTests.trainingConfig(seed: 7, threads: 1))
    let (two, _) = try run(MinerTests.trainingConfig(seed: 7, threads: 2))
    for (other, what) in [(b, "same seed"), (two, "two threads")] {
      XCTAssertEqual(other.result.model, a.result.model, what)
      XCTAssertEqual(other.result.epochs, a.result.epochs, what)
      XCTAssertEqual(other.result.dynamics, a.result.dynamics, what)
      XCTAssertEqual(other.calls.map(\.rows), a.calls.map(\.rows), what)
      XCTAssertEqual(other.calls.map(\.epoch), a.calls.map(\.epoch), what)
    }
    XCTAssertFalse(a.calls.isEmpty)
    let (c, _) = try run(MinerTests.trainingConfig(seed: 8, threads: 1))
    XCTAssertNotEqual(c.result.model, a.result.model, "another seed shuffles differently")
  }
}
