import Foundation
import XCTest

@testable import Quarry

/// `Thresholds.fit` against a brute-force scan of every cut of every class, and the floor
/// it raises them to against the folds' micro- and macro-F1 computed naively.
final class ThresholdsTests: XCTestCase {
  /// F1 of predicting a class for the rows whose score is ≥ t, as the definition has it.
  static func f1(_ t: Float, scores: [Float], gold: [Bool]) -> Float {
    var (tp, predicted, positives) = (0, 0, 0)
    for (s, g) in zip(scores, gold) {
      if s >= t { predicted += 1 }
      if s >= t && g { tp += 1 }
      if g { positives += 1 }
    }
    return 2 * Float(tp) / Float(max(predicted + positives, 1))
  }

  /// Every threshold that cuts between two distinct scores (their midpoint) or under the
  /// lowest one (half of it), highest first.
  static func cuts(_ scores: [Float]) -> [Float] {
    let distinct = Array(Set(scores)).sorted(by: >)
    var out: [Float] = []
    for (j, v) in distinct.enumerated() {
      let next = j + 1 < distinct.count ? distinct[j + 1] : 0
      if next < v { out.append((v + next) / 2) }
    }
    return out
  }

  /// A class's threshold by brute force: ½ unless a cut beats ½'s F1; among the cuts of
  /// the highest F1, the highest; at most `Thresholds.highest`.
  static func naiveThreshold(scores: [Float], gold: [Bool]) -> Float {
    guard gold.contains(true) else { return 0.5 }
    var best = (f1: f1(0.5, scores: scores, gold: gold), t: Float(0.5))
    for t in cuts(scores) {
      let f = f1(t, scores: scores, gold: gold)
      if f > best.f1 { best = (f, t) }
    }
    return min(best.t, Thresholds.highest)
  }

  /// Micro- plus macro-F1 of the sets predicted at `thresholds`, counted naively.
  static func naiveScores(_ p: [Float], sets: [[Int32]], classes c: Int, thresholds: [Float])
    -> (micro: Float, macro: Float)
  {
    var (tp, fp, fn) = (
      [Int](repeating: 0, count: c), [Int](repeating: 0, count: c), [Int](repeating: 0, count: c)
    )
    for (i, set) in sets.enumerated() {
      for k in 0..<c {
        let predicted = p[i * c + k] >= thresholds[k]
        let gold = set.contains(Int32(k))
        if predicted && gold { tp[k] += 1 }
        if predicted && !gold { fp[k] += 1 }
        if !predicted && gold { fn[k] += 1 }
      }
    }
    let (t, f, n) = (tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
    let micro = 2 * t + f + n > 0 ? Float(2 * t) / Float(2 * t + f + n) : 0
    let present = (0..<c).filter { tp[$0] + fp[$0] + fn[$0] > 0 }
    let macro =
      present.isEmpty
      ? 0
      : present.map { Float(2 * tp[$0]) / Float(2 * tp[$0] + fp[$0] + fn[$0]) }.reduce(0, +)
        / Float(present.count)
    return (micro, macro)
  }

  /// Folds' scores of `n` rows and `c` classes on a grid of 1/64 (so that scores tie and
  /// midpoints are exact). Class k's positives score around `centre[k]`, its negatives
  /// lower, both with noise; every row has one to three classes.
  static func foldScores(n: Int, centres: [Float], seed: UInt64) -> (p: [Float], sets: [[Int32]]) {
    var rng = SplitMix64(seed: seed)
    let c = centres.count
    var sets: [[Int32]] = []
    var p = [Float](repeating: 0, count: n * c)
    for i in 0..<n {
      var set = (0..<Int32(c)).filter { _ in rng.next() % 3 == 0 }
      if set.isEmpty { set = [Int32(rng.next() % UInt64(c))] }
      sets.append(Array(set.prefix(3)))
      for k in 0..<c {
        let centre = sets[i].contains(Int32(k)) ? centres[k] : centres[k] * 0.4
        let v = centre + 0.35 * (rng.nextUnitFloat() - 0.5)
        p[i * c + k] = (min(max(v, 0), 1) * 64).rounded() / 64
      }
    }
    return (p, sets)
  }

  func column(_ p: [Float], _ k: Int, _ c: Int) -> [Float] {
    stride(from: k, to: p.count, by: c).map { p[$0] }
  }

  /// Each returned threshold is max(the class's brute-force best, f) for one floor f of
  /// `Thresholds.floors`, the first floor of the highest naive micro-F1 (or ½ for every
  /// class when no floor beats it); and a threshold above the floor scores the best F1 of
  /// every cut.
  func testMatchesTheBruteForceScanAndTheBestFloor() {
    let centres: [[Float]] = [
      [0.7, 0.5, 0.3, 0.2, 0.12], [0.6, 0.6, 0.15, 0.08, 0.4, 0.25], [0.5, 0.1],
    ]
    for (trial, centre) in centres.enumerated() {
      for seed: UInt64 in [1, 2, 3] {
        let c = centre.count
        let (p, sets) = Self.foldScores(n: 90, centres: centre, seed: seed)
        let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: c)
        let what = "trial \(trial), seed \(seed)"
        XCTAssertEqual(info.thresholds.count, c, what)
        let naive = (0..<c).map { k in
          Self.naiveThreshold(
            scores: column(p, k, c), gold: sets.map { $0.contains(Int32(k)) })
        }
        // The floor of the highest naive micro-F1 (the first of equals), unless ½ for every
        // class scores at least as high.
        let micros = Thresholds.floors.map { f in
          Self.naiveScores(p, sets: sets, classes: c, thresholds: naive.map { max($0, f) }).micro
        }
        let halfMicro = Self.naiveScores(
          p, sets: sets, classes: c, thresholds: [Float](repeating: 0.5, count: c)
        ).micro
        let best = micros.max()!
        guard best > halfMicro + 1e-6 else {
          XCTAssertEqual(info.thresholds, [Float](repeating: 0.5, count: c), what)
          continue
        }
        let floor = Thresholds.floors[micros.firstIndex(where: { $0 >= best - 1e-6 })!]
        XCTAssertEqual(info.thresholds, naive.map { max($0, floor) }, "\(what): floor \(floor)")
        // Tie-free check of the per-class search: above the floor, no cut beats it.
        for k in 0..<c where info.thresholds[k] > floor && info.thresholds[k] < Thresholds.highest {
          let scores = column(p, k, c)
          let gold = sets.map { $0.contains(Int32(k)) }
          let here = Self.f1(info.thresholds[k], scores: scores, gold: gold)
          for t in Self.cuts(scores) + [0.5] {
            XCTAssertGreaterThanOrEqual(
              here, Self.f1(t, scores: scores, gold: gold), "\(what), class \(k), cut \(t)")
          }
        }
      }
    }
  }

  /// The folds' figures that `Info` reports are those of the sets at ½ and at the
  /// thresholds, recounted naively.
  func testReportedFoldScoresAreThoseOfTheThresholds() {
    let (p, sets) = Self.foldScores(n: 70, centres: [0.6, 0.35, 0.2, 0.5], seed: 8)
    let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: 4)
    let half = Self.naiveScores(p, sets: sets, classes: 4, thresholds: [0.5, 0.5, 0.5, 0.5])
    let tuned = Self.naiveScores(p, sets: sets, classes: 4, thresholds: info.thresholds)
    XCTAssertEqual(try XCTUnwrap(info.foldMicroF1), half.micro, accuracy: 1e-6)
    XCTAssertEqual(try XCTUnwrap(info.foldMacroF1), half.macro, accuracy: 1e-6)
    XCTAssertEqual(try XCTUnwrap(info.tunedFoldMicroF1), tuned.micro, accuracy: 1e-6)
    XCTAssertEqual(try XCTUnwrap(info.tunedFoldMacroF1), tuned.macro, accuracy: 1e-6)
  }

  /// Where every class's positives score 0.2 to 0.45 and its negatives under 0.15, ½ tags
  /// nothing and the tuned thresholds separate the two: their folds' micro- and macro-F1
  /// are 1, where ½'s are 0.
  func testLowThresholdsThatClearlyHelpAreFound() throws {
    var rng = SplitMix64(seed: 30)
    let (n, c) = (60, 3)
    var sets: [[Int32]] = []
    var p = [Float](repeating: 0, count: n * c)
    for i in 0..<n {
      let set = (0..<Int32(c)).filter { _ in rng.next() % 2 == 0 }
      sets.append(set.isEmpty ? [Int32(i % c)] : set)
      for k in 0..<c {
        p[i * c + k] =
          sets[i].contains(Int32(k))
          ? 0.2 + 0.25 * rng.nextUnitFloat() : 0.15 * rng.nextUnitFloat()
      }
    }
    let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: c)
    let before = try XCTUnwrap(info.foldMicroF1) + XCTUnwrap(info.foldMacroF1)
    let after = try XCTUnwrap(info.tunedFoldMicroF1) + XCTUnwrap(info.tunedFoldMacroF1)
    XCTAssertEqual(before, 0, accuracy: 1e-6)
    XCTAssertEqual(after, 2, accuracy: 1e-6, "\(info)")
    XCTAssertGreaterThanOrEqual(after, before)
    for k in 0..<c {
      let scores = column(p, k, c)
      let positives = sets.indices.filter { sets[$0].contains(Int32(k)) }.map { scores[$0] }
      let negatives = sets.indices.filter { !sets[$0].contains(Int32(k)) }.map { scores[$0] }
      let t = info.thresholds[k]
      XCTAssertTrue(
        t > negatives.max()! && t <= positives.min()!, "class \(k): \(info.thresholds)")
    }
    let m = MultiLabelMetrics(
      predicted: MultiLabelMetrics.predictedSets(p, thresholds: info.thresholds), gold: sets,
      classes: c)
    XCTAssertEqual(m.subsetAccuracy, 1)
  }

  /// A class that ten of twelve rows carry, the two that lack it scoring highest: its best
  /// cut is under the lowest score (half of it, 0.1), tagging every row (F1 20/22).
  func testACutUnderTheLowestScoreTagsEveryRow() {
    let scores: [Float] = [0.6, 0.6, 0.2, 0.25, 0.3, 0.35, 0.4, 0.22, 0.27, 0.32, 0.37, 0.38]
    let sets: [[Int32]] = scores.indices.map { $0 < 2 ? [1] : [0, 1] }
    let p: [Float] = scores.flatMap { [$0, 0.9] as [Float] }
    let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: 2)
    XCTAssertEqual(info.thresholds[0], 0.1, accuracy: 1e-7, "\(info)")
    XCTAssertEqual(
      Self.f1(info.thresholds[0], scores: scores, gold: sets.map { $0.contains(0) }), 20.0 / 22,
      accuracy: 1e-6)
  }

  /// Degenerate folds: scores all 0, all 1, all tied, a class no row carries, a class every
  /// row carries, positives at 1 over negatives at 0.999. Every threshold stays in (0, 1).
  func testThresholdsStayStrictlyBetweenZeroAndOne() {
    let n = 12
    let c = 6
    var p = [Float](repeating: 0, count: n * c)
    var sets: [[Int32]] = []
    for i in 0..<n {
      var set: [Int32] = [4]  // every row carries class 4
      if i % 2 == 0 { set += [0, 1, 2] }
      if i % 3 == 0 { set.append(5) }
      sets.append(set)
      p[i * c + 0] = 0  // class 0: every score 0
      p[i * c + 1] = 1  // class 1: every score 1
      p[i * c + 2] = 0.5  // class 2: all tied
      p[i * c + 3] = i % 2 == 0 ? 0.9 : 0.1  // class 3: carried by no row
      p[i * c + 4] = 0.7
      p[i * c + 5] = i % 3 == 0 ? 1 : 0.999
    }
    let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: c)
    XCTAssertEqual(info.thresholds.count, c)
    for (k, t) in info.thresholds.enumerated() {
      XCTAssertTrue(t.isFinite && t > 0 && t < 1, "class \(k): \(t) of \(info.thresholds)")
      XCTAssertLessThanOrEqual(t, Thresholds.highest, "class \(k)")
      XCTAssertGreaterThanOrEqual(t, Thresholds.floors.min()!, "class \(k)")
    }
  }

  /// Folds on which the per-class cuts, at any floor, score a lower micro-F1 than ½ for
  /// every class (rare positives far below a crowd of ties): the thresholds stay ½.
  func testNeverWorseThanHalfOnTheFolds() throws {
    var rows: [([Float], [Int32])] = []
    rows += [([0.9, 0, 0], [0])]
    rows += Array(repeating: ([0.01, 0, 0], [0]), count: 9)
    rows += Array(repeating: ([0.2, 0, 0.9], [2]), count: 20)
    rows += [([0, 0.6, 0], [1])]
    rows += Array(repeating: ([0, 0.12, 0], [1]), count: 5)
    rows += Array(repeating: ([0, 0.35, 0.9], [2]), count: 20)
    let p = rows.flatMap(\.0)
    let sets = rows.map(\.1)
    let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: 3)
    let half = Self.naiveScores(p, sets: sets, classes: 3, thresholds: [0.5, 0.5, 0.5])
    let tuned = Self.naiveScores(p, sets: sets, classes: 3, thresholds: info.thresholds)
    XCTAssertGreaterThanOrEqual(tuned.micro, half.micro, "\(info.thresholds)")
    XCTAssertGreaterThanOrEqual(
      try XCTUnwrap(info.tunedFoldMicroF1), try XCTUnwrap(info.foldMicroF1))
  }

  /// Positives one ulp above the negatives: the midpoint of the two rounds to the lower
  /// score, so the threshold must be the upper one, which separates them (F1 1).
  func testAdjacentScoresAreSeparated() {
    for low: Float in [0.3, 0.15] {
      let high = low.nextUp
      let scores: [Float] = [high, high, high, low, low, low]
      let sets: [[Int32]] = scores.indices.map { $0 < 3 ? [0, 1] : [1] }
      let p = scores.flatMap { [$0, 0.9] as [Float] }
      let info = Thresholds.fit(probabilities: p, labelSets: sets, classes: 2)
      XCTAssertEqual(
        Self.f1(info.thresholds[0], scores: scores, gold: sets.map { $0.contains(0) }), 1,
        "low \(low): threshold \(info.thresholds[0])")
    }
  }
}
