import Foundation
import XCTest

@testable import Quarry

/// `PlattScaling`: its fit against a grid search of the same loss, its map against the
/// formula, and the map folded into a classifier's weights against the map of its outputs.
final class PlattScalingTests: XCTestCase {
  /// Platt's loss of (a, b) on logits z and 0/1 labels, with his smoothed targets, in Double.
  static func loss(_ a: Double, _ b: Double, z: [Double], y: [Bool]) -> Double {
    let pos = Double(y.filter { $0 }.count)
    let (hi, lo) = ((pos + 1) / (pos + 2), 1 / (Double(y.count) - pos + 2))
    var s = 0.0
    for (zi, yi) in zip(z, y) {
      let q = 1 / (1 + exp(-(a * zi + b)))
      let t = yi ? hi : lo
      s -= t * log(max(q, 1e-300)) + (1 - t) * log(max(1 - q, 1e-300))
    }
    return s
  }

  /// Over-confident scores (the true odds are the scores' to the power ½, shifted): the
  /// fitted (a, b) has a loss no higher than any point of a fine grid over a ≤ 1, a is
  /// near ½, and the folds' log loss falls. Under-confident scores keep a = 1.
  func testFitIsTheMinimumOfPlattsLoss() {
    var rng = SplitMix64(seed: 4)
    let n = 400
    var p = [Float](repeating: 0, count: n * 2)
    var sets: [[Int32]] = []
    for i in 0..<n {
      let z = 6 * (rng.nextUnitFloat() - 0.5)
      let truth = 1 / (1 + expf(-(0.5 * z - 0.3)))
      let carries = rng.nextUnitFloat() < truth
      p[i * 2] = 1 / (1 + expf(-z))
      p[i * 2 + 1] = 0.5
      sets.append(carries ? [0, 1] : [1])
    }
    let info = PlattScaling.fit(probabilities: p, labelSets: sets, classes: 2)
    let z = (0..<n).map { Double(PlattScaling.logit(p[$0 * 2])) }
    let y = sets.map { $0.contains(0) }
    let fitted = Self.loss(Double(info.scales[0]), Double(info.shifts[0]), z: z, y: y)
    for a in stride(from: 0.1, through: 1.0, by: 0.02) {
      for b in stride(from: -1.0, through: 1.0, by: 0.02) {
        XCTAssertLessThanOrEqual(fitted, Self.loss(a, b, z: z, y: y) + 1e-3, "a \(a), b \(b)")
      }
    }
    XCTAssertEqual(info.scales[0], 0.5, accuracy: 0.15)
    XCTAssertLessThan(info.calibratedFoldLogLoss, info.foldLogLoss)
    // The same rows scored at a third of their logits: under-confident, a stays 1.
    let soft = p.enumerated().map { i, q in
      i % 2 == 0 ? 1 / (1 + expf(-PlattScaling.logit(q) / 3)) : q
    }
    let unsharpened = PlattScaling.fit(probabilities: soft, labelSets: sets, classes: 2)
    XCTAssertEqual(unsharpened.scales[0], 1, accuracy: 1e-6)
  }

  /// `apply` is σ(a · logit(p) + b), entry by entry, class by class.
  func testApplyIsTheFormula() {
    let p: [Float] = [0.1, 0.5, 0.9, 0.99, 0.01, 0.3]
    let out = PlattScaling.apply(p, scales: [2, 0.5, 1], shifts: [0, 1, -1])
    for (i, q) in p.enumerated() {
      let (a, b) = ([2.0, 0.5, 1.0][i % 3], [0.0, 1.0, -1.0][i % 3])
      let want = 1 / (1 + exp(-(a * log(Double(q) / (1 - Double(q))) + b)))
      XCTAssertEqual(Double(out[i]), want, accuracy: 1e-5, "entry \(i)")
    }
  }

  /// A sigmoid classifier with its class logits mapped scores what its probabilities
  /// mapped by `apply` are.
  func testMappedLogitsScoreAsTheMappedProbabilities() throws {
    let model = try MultiLabelTrainingTests.model.get()
    let texts = MultiLabelTrainingTests.rows(count: 30, seed: 9).map(\.text)
    let before = try Predictor(model: model, threads: 1).probabilities(texts)
    let c = model.classifier.classes
    let scales = (0..<c).map { 0.5 + Float($0) * 0.3 }
    let shifts = (0..<c).map { Float($0) * 0.2 - 0.4 }
    var mapped = model
    mapped.classifier.mapClassLogits(scales: scales, shifts: shifts)
    let after = try Predictor(model: mapped, threads: 1).probabilities(texts)
    let want = PlattScaling.apply(before, scales: scales, shifts: shifts)
    // Compared away from 0 and 1, where `apply`'s clamp of p (at 1e-7) and Float's
    // resolution would differ from the logits' own map.
    var compared = 0
    for i in after.indices where before[i] > 1e-4 && before[i] < 1 - 1e-4 {
      XCTAssertEqual(after[i], want[i], accuracy: 2e-4, "entry \(i)")
      compared += 1
    }
    XCTAssertGreaterThan(compared, after.count / 4)
  }
}
