import Foundation
import XCTest

@testable import Quarry

/// `sigmoidFocalForwardBackward` (the multi-label loss) against central finite differences
/// and against naive restatements in Double; `sigmoidInPlace` against 1/(1 + e^(−x)).
final class SigmoidFocalLossTests: XCTestCase {
  /// A batch of B×C logits (a few at ±30 and ±12, the rest in [−4, 4]), 0/1 targets, row
  /// weights in [0.25, 2] and positive weights in [1, 3].
  struct Batch {
    var z: [Float]
    var t: [Float]
    var w: [Float]
    var alpha: [Float]
    let b: Int
    let c: Int

    init(b: Int, c: Int, seed: UInt64) {
      var rng = SplitMix64(seed: seed)
      self.b = b
      self.c = c
      z = randomFloats(b * c, &rng, scale: 4)
      let large: [(k: Int, z: Float)] = [
        (0, 30), (1, -30), (c + 2, 12), (2 * c + 1, -12), (2 * c + 3, 30),
      ]
      for (k, v) in large where k < b * c { z[k] = v }
      t = (0..<(b * c)).map { _ in rng.next() % 2 == 0 ? 1 : 0 }
      // Large logits on both sides of their targets: confidently right and wrong.
      if b * c > 2 * c + 3 {
        t[0] = 1
        t[1] = 1
        t[2 * c + 3] = 0
      }
      w = (0..<b).map { _ in 0.25 + 1.75 * rng.nextUnitFloat() }
      alpha = (0..<c).map { _ in 1 + 2 * rng.nextUnitFloat() }
    }

    /// L and ∂L/∂Z as the kernel computes them (into a separate buffer).
    func run(gamma: Float, logits: [Float]? = nil) -> (loss: Float, grad: [Float]) {
      var grad = [Float](repeating: .nan, count: b * c)
      let loss = sigmoidFocalForwardBackward(
        logits: logits ?? z, targets: t, weights: w, positiveWeight: alpha, gamma: gamma,
        batch: b, classes: c, dLogits: &grad)
      return (loss, grad)
    }

    /// The loss restated naively in Double: Σ_i w_i Σ_c α · −(1 − p_t)^γ ln p_t, with
    /// p_t = 1/(1 + e^(−s·z)).
    func naiveLoss(gamma: Double, logits: [Double]) -> Double {
      var total = 0.0
      for i in 0..<b {
        for k in 0..<c {
          let j = i * c + k
          let present = t[j] == 1
          let s = present ? 1.0 : -1.0
          let pt = 1 / (1 + exp(-s * logits[j]))
          let a = present ? Double(alpha[k]) : 1
          total += Double(w[i]) * a * -pow(1 - pt, gamma) * log(pt)
        }
      }
      return total
    }
  }

  /// Central differences of the kernel's own (Float) loss, one logit at a time, against
  /// the gradient it writes, for γ = 0, 1, 2.
  func testGradientMatchesFiniteDifferencesOfItsOwnLoss() {
    for gamma: Float in [0, 1, 2] {
      let batch = Batch(b: 4, c: 5, seed: 17 + UInt64(gamma))
      let (_, grad) = batch.run(gamma: gamma)
      let eps: Float = 1e-2
      var z = batch.z
      var failures = 0
      for k in z.indices {
        let saved = z[k]
        z[k] = saved + eps
        let up = Double(batch.run(gamma: gamma, logits: z).loss)
        z[k] = saved - eps
        let down = Double(batch.run(gamma: gamma, logits: z).loss)
        z[k] = saved
        let numeric = (up - down) / (Double(saved + eps) - Double(saved - eps))
        if !isClose(Double(grad[k]), numeric, rel: 1e-2, abs: 2e-3) {
          failures += 1
          XCTFail("γ \(gamma), z[\(k)] = \(saved): analytic \(grad[k]) vs numeric \(numeric)")
        }
      }
      XCTAssertEqual(failures, 0, "γ \(gamma)")
    }
  }

  /// The same gradient against central differences of the Double restatement (tight: no
  /// Float rounding in the loss), and the loss itself against that restatement.
  func testGradientAndLossMatchTheDoubleRestatement() {
    for gamma in [0.0, 1.0, 2.0] {
      let batch = Batch(b: 6, c: 7, seed: 5 + UInt64(gamma))
      let (loss, grad) = batch.run(gamma: Float(gamma))
      var z = batch.z.map(Double.init)
      XCTAssertEqual(
        Double(loss), batch.naiveLoss(gamma: gamma, logits: z),
        accuracy: 1e-5 * max(1, Double(loss)), "γ \(gamma): loss")
      let h = 1e-5
      for k in z.indices {
        let saved = z[k]
        z[k] = saved + h
        let up = batch.naiveLoss(gamma: gamma, logits: z)
        z[k] = saved - h
        let down = batch.naiveLoss(gamma: gamma, logits: z)
        z[k] = saved
        let numeric = (up - down) / (2 * h)
        XCTAssertTrue(
          isClose(Double(grad[k]), numeric, rel: 1e-4, abs: 1e-6),
          "γ \(gamma), z[\(k)] = \(saved) (t \(batch.t[k])): analytic \(grad[k]) vs numeric \(numeric)"
        )
      }
    }
  }

  /// γ = 0 is weighted binary cross-entropy, Σ w α (−t ln σ − (1 − t) ln(1 − σ)), whose
  /// gradient is w α (σ(z) − t).
  func testGammaZeroIsWeightedBinaryCrossEntropy() {
    let batch = Batch(b: 5, c: 4, seed: 3)
    let (loss, grad) = batch.run(gamma: 0)
    var total = 0.0
    for i in 0..<batch.b {
      for k in 0..<batch.c {
        let j = i * batch.c + k
        let z = Double(batch.z[j])
        let t = Double(batch.t[j])
        let a = t == 1 ? Double(batch.alpha[k]) : 1
        let wa = Double(batch.w[i]) * a
        // ln σ(z) and ln(1 − σ(z)) written stably: −log1p(e^(−z)) and −z − log1p(e^(−z)).
        let logSigma = z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z))
        let logOneMinus = logSigma - z
        total += wa * (-t * logSigma - (1 - t) * logOneMinus)
        let sigma = 1 / (1 + exp(-z))
        XCTAssertEqual(Double(grad[j]), wa * (sigma - t), accuracy: 1e-6 * max(1, wa), "z[\(j)]")
      }
    }
    XCTAssertEqual(Double(loss), total, accuracy: 1e-5 * total)
  }

  /// `dLogits` may be the logits' own buffer, as the trainer passes it.
  func testGradientWrittenOverTheLogitsIsTheSame() {
    let batch = Batch(b: 3, c: 6, seed: 8)
    for gamma: Float in [0, 2] {
      let (loss, grad) = batch.run(gamma: gamma)
      var z = batch.z
      let inPlace = z.withUnsafeMutableBufferPointer { p in
        sigmoidFocalForwardBackward(
          logits: p.baseAddress!, targets: batch.t, weights: batch.w,
          positiveWeight: batch.alpha, gamma: gamma, batch: batch.b, classes: batch.c,
          dLogits: p.baseAddress!)
      }
      XCTAssertEqual(inPlace, loss, "γ \(gamma)")
      XCTAssertEqual(z, grad, "γ \(gamma)")
    }
  }

  /// σ in Float against 1/(1 + e^(−x)) in Double, to a few ulps, across the range where
  /// the result is a normal Float, and at its ends.
  func testSigmoidInPlaceMatchesDouble() {
    var rng = SplitMix64(seed: 2)
    var xs = randomFloats(2000, &rng, scale: 87)
    xs += [0, 1e-8, -1e-8, 15, -15, 17, -17, 30, -30, 50, -50, 87, -87, 88.7]
    var p = xs
    sigmoidInPlace(&p, count: p.count)
    var worst = 0.0
    for (x, y) in zip(xs, p) {
      let want = 1 / (1 + exp(-Double(x)))
      let rel = abs(Double(y) - want) / want
      worst = max(worst, rel)
      XCTAssertLessThanOrEqual(rel, 4e-7, "σ(\(x)) = \(y), want \(want)")
      XCTAssertTrue((0...1).contains(y), "σ(\(x)) = \(y)")
    }
    // Far out: 0 or a tiny value below, exactly 1 above; never NaN.
    var ends: [Float] = [-200, -104, 200, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
    sigmoidInPlace(&ends, count: ends.count)
    XCTAssertEqual(ends[2], 1)
    XCTAssertEqual(ends[3], 1)
    for v in [ends[0], ends[1], ends[4]] { XCTAssertTrue(v >= 0 && v < 1e-40, "\(ends)") }
  }
}
