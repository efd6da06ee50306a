import Foundation
import XCTest

@testable import Quarry

/// `MultiLabelMetrics` against a naive implementation written here from the definitions.
final class MultiLabelMetricsTests: XCTestCase {
  /// The figures restated: per class, TP/FP/FN by scanning every (row, class) pair.
  struct Naive {
    var tp, fp, fn: [Int]
    var microF1, macroF1, subsetAccuracy, hammingLoss, meanPredicted, meanGold: Double

    init(predicted: [[Int32]], gold: [[Int32]], classes: Int) {
      tp = [Int](repeating: 0, count: classes)
      fp = tp
      fn = tp
      var exact = 0
      var predictedLabels = 0
      var goldLabels = 0
      for (p, g) in zip(predicted, gold) {
        var same = true
        for c in 0..<classes {
          let inP = p.contains(Int32(c))
          let inG = g.contains(Int32(c))
          if inP && inG { tp[c] += 1 }
          if inP && !inG { fp[c] += 1 }
          if !inP && inG { fn[c] += 1 }
          if inP != inG { same = false }
          if inP { predictedLabels += 1 }
          if inG { goldLabels += 1 }
        }
        if same { exact += 1 }
      }
      let (t, f, n) = (tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
      microF1 = 2 * t + f + n > 0 ? Double(2 * t) / Double(2 * t + f + n) : 0
      var sum = 0.0
      var present = 0
      for c in 0..<classes where tp[c] + fp[c] + fn[c] > 0 {
        sum += Double(2 * tp[c]) / Double(2 * tp[c] + fp[c] + fn[c])
        present += 1
      }
      macroF1 = present > 0 ? sum / Double(present) : 0
      let rows = Double(gold.count)
      subsetAccuracy = Double(exact) / rows
      hammingLoss = Double(f + n) / (rows * Double(classes))
      meanPredicted = Double(predictedLabels) / rows
      meanGold = Double(goldLabels) / rows
    }
  }

  /// `n` random subsets of `classes` classes, each in a random order; gold sets are never
  /// empty, predicted ones may be. The last class is left out of both, always.
  func randomSets(_ n: Int, classes: Int, rng: inout SplitMix64, allowEmpty: Bool) -> [[Int32]] {
    (0..<n).map { _ in
      var set = (0..<Int32(classes - 1)).filter { _ in rng.next() % 3 == 0 }
      if set.isEmpty && !allowEmpty { set = [Int32(rng.next() % UInt64(classes - 1))] }
      rng.shuffle(&set)
      return set
    }
  }

  func testMatchesTheNaiveCountsOnRandomSets() {
    var rng = SplitMix64(seed: 12)
    for trial in 0..<20 {
      let classes = 2 + trial % 6
      let n = 1 + Int(rng.next() % 40)
      let gold = randomSets(n, classes: classes, rng: &rng, allowEmpty: false)
      var predicted = randomSets(n, classes: classes, rng: &rng, allowEmpty: true)
      // Some rows predicted exactly, in another order, so that subset accuracy is not 0.
      for i in 0..<n where rng.next() % 4 == 0 { predicted[i] = gold[i].reversed() }
      let m = MultiLabelMetrics(predicted: predicted, gold: gold, classes: classes)
      let want = Naive(predicted: predicted, gold: gold, classes: classes)
      let what = "trial \(trial): \(classes) classes, \(n) rows"
      XCTAssertEqual(Double(m.microF1), want.microF1, accuracy: 1e-6, what)
      XCTAssertEqual(Double(m.macroF1), want.macroF1, accuracy: 1e-6, what)
      XCTAssertEqual(Double(m.subsetAccuracy), want.subsetAccuracy, accuracy: 1e-6, what)
      XCTAssertEqual(Double(m.hammingLoss), want.hammingLoss, accuracy: 1e-6, what)
      XCTAssertEqual(Double(m.meanPredicted), want.meanPredicted, accuracy: 1e-6, what)
      XCTAssertEqual(Double(m.meanGold), want.meanGold, accuracy: 1e-6, what)
      let (t, f, fn) = (want.tp.reduce(0, +), want.fp.reduce(0, +), want.fn.reduce(0, +))
      XCTAssertEqual(
        Double(m.microPrecision), t + f > 0 ? Double(t) / Double(t + f) : 0, accuracy: 1e-6, what)
      XCTAssertEqual(
        Double(m.microRecall), t + fn > 0 ? Double(t) / Double(t + fn) : 0, accuracy: 1e-6, what)
      for c in 0..<classes {
        let (tp, fp, fnc) = (want.tp[c], want.fp[c], want.fn[c])
        XCTAssertEqual(m.support[c], tp + fnc, "\(what), class \(c)")
        let p = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
        let r = tp + fnc > 0 ? Double(tp) / Double(tp + fnc) : 0
        let f1 = tp > 0 ? Double(2 * tp) / Double(2 * tp + fp + fnc) : 0
        XCTAssertEqual(Double(m.precision[c]), p, accuracy: 1e-6, "\(what), class \(c)")
        XCTAssertEqual(Double(m.recall[c]), r, accuracy: 1e-6, "\(what), class \(c)")
        XCTAssertEqual(Double(m.f1[c]), f1, accuracy: 1e-6, "\(what), class \(c)")
      }
    }
  }

  /// 3 rows, 4 classes (class 3 in no set): gold {0,1} {2} {0}, predicted {1,0} {2,1} {}.
  ///   TP (1,1,1,0), FP (0,1,0,0), FN (1,0,0,0): micro-F1 6/8, F1 (2/3, 2/3, 1, 0),
  ///   macro-F1 over the three classes that occur 7/9, subset accuracy 1/3 (row 0 alone:
  ///   the order of a set does not count), Hamming loss 2/12.
  func testHandWorkedExample() {
    let m = MultiLabelMetrics(
      predicted: [[1, 0], [2, 1], []], gold: [[0, 1], [2], [0]], classes: 4)
    XCTAssertEqual(m.microF1, 6.0 / 8, accuracy: 1e-6)
    for (f, want) in zip(m.f1, [2.0 / 3, 2.0 / 3, 1, 0]) {
      XCTAssertEqual(Double(f), want, accuracy: 1e-6, "\(m.f1)")
    }
    XCTAssertEqual(m.macroF1, 7.0 / 9, accuracy: 1e-6)
    XCTAssertEqual(m.subsetAccuracy, 1.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(m.hammingLoss, 2.0 / 12, accuracy: 1e-6)
    XCTAssertEqual(m.support, [2, 1, 1, 0])
  }

  /// Every class at or above its own threshold, most probable first, ties to the lower
  /// class, at most k; against a sort of all classes.
  func testPredictedSetsOrderAndCap() {
    var rng = SplitMix64(seed: 4)
    let (n, c) = (50, 6)
    // Probabilities in sixteenths, so that ties are common.
    let p = (0..<(n * c)).map { _ in Float(rng.next() % 17) / 16 }
    let thresholds = (0..<c).map { _ in Float(1 + rng.next() % 15) / 16 }
    for k in [nil, 1, 2, 10] as [Int?] {
      let sets = MultiLabelMetrics.predictedSets(p, thresholds: thresholds, k: k)
      XCTAssertEqual(sets.count, n)
      for i in 0..<n {
        let ranked = (0..<c).sorted {
          let (a, b) = (p[i * c + $0], p[i * c + $1])
          return a != b ? a > b : $0 < $1
        }
        var want = ranked.filter { p[i * c + $0] >= thresholds[$0] }.map(Int32.init)
        if let k { want = Array(want.prefix(k)) }
        XCTAssertEqual(sets[i], want, "row \(i), k \(String(describing: k))")
      }
    }
    // At exactly the threshold a class is in; just under it, out.
    XCTAssertEqual(
      MultiLabelMetrics.predictedSets([0.5, 0.4999, 0.7], thresholds: [0.5, 0.5, 0.8]), [[0]])
    let viaPredictor = Predictor.aboveThresholds(p, thresholds: thresholds, k: 2)
    let direct = MultiLabelMetrics.predictedSets(p, thresholds: thresholds, k: 2)
    for i in 0..<n {
      XCTAssertEqual(viaPredictor[i].map { Int32($0.label) }, direct[i])
      XCTAssertEqual(viaPredictor[i].map(\.probability), direct[i].map { p[i * c + Int($0)] })
    }
  }

  /// Share of rows whose arg-max (ties: the lower class) is one of their gold classes.
  func testPrecisionAt1MatchesNaive() {
    var rng = SplitMix64(seed: 9)
    let (n, c) = (80, 5)
    let p = (0..<(n * c)).map { _ in Float(rng.next() % 9) / 8 }
    let gold = randomSets(n, classes: c + 1, rng: &rng, allowEmpty: false)
    var hits = 0
    for i in 0..<n {
      var best = 0
      for k in 1..<c where p[i * c + k] > p[i * c + best] { best = k }
      if gold[i].contains(Int32(best)) { hits += 1 }
    }
    XCTAssertEqual(
      Double(MultiLabelMetrics.precisionAt1(p, gold: gold, classes: c)), Double(hits) / Double(n),
      accuracy: 1e-6)
    XCTAssertEqual(MultiLabelMetrics.precisionAt1([], gold: [], classes: c), 0)
  }

  /// Mean over rows of −Σ_c [t ln p + (1 − t) ln(1 − p)], in Double; a probability of 0 or
  /// 1 is clamped to 1e-7 from the end, so the loss stays finite (about −ln 1e-7 each).
  func testLogLossMatchesNaive() {
    var rng = SplitMix64(seed: 21)
    let (n, c) = (40, 4)
    let p = (0..<(n * c)).map { _ in 0.001 + 0.998 * rng.nextUnitFloat() }
    let gold = randomSets(n, classes: c + 1, rng: &rng, allowEmpty: false)
    var total = 0.0
    for i in 0..<n {
      for k in 0..<c {
        let q = Double(p[i * c + k])
        total -= gold[i].contains(Int32(k)) ? log(q) : log(1 - q)
      }
    }
    XCTAssertEqual(
      Double(MultiLabelMetrics.logLoss(p, gold: gold, classes: c)), total / Double(n),
      accuracy: 1e-5 * total / Double(n))
    // One row, two classes: class 0 present at p = 0, class 1 absent at p = 1.
    let clamped = Double(MultiLabelMetrics.logLoss([0, 1], gold: [[0]], classes: 2))
    XCTAssertTrue(clamped.isFinite)
    XCTAssertEqual(clamped, -2 * log(1e-7), accuracy: 0.4)
    // Right and sure: near 0.
    XCTAssertLessThan(MultiLabelMetrics.logLoss([1, 0], gold: [[0]], classes: 2), 1e-5)
  }
}
