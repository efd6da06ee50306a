import XCTest

@testable import Quarry

/// The class-offset fit against a naive coordinate ascent that recomputes every arg-max,
/// and on folds' scores that under-rate one class on purpose.
final class ClassBiasTests: XCTestCase {
  /// Coordinate ascent as `ClassBias.fit` documents it, each candidate scored by
  /// `Metrics` on a full arg-max of ln p + b.
  func naiveFit(_ p: [Float], _ y: [Int32], classes c: Int) -> ClassBias.Fit {
    let s = p.map { logf(max($0, 1e-12)) }
    func macro(_ b: [Float]) -> Float {
      let shifted = s.indices.map { s[$0] + b[$0 % c] }
      return Metrics(probabilities: shifted, gold: y, classes: c).macroF1
    }
    var b = [Float](repeating: 0, count: c)
    let before = macro(b)
    var current = before
    for _ in 0..<ClassBias.rounds {
      for k in 0..<c {
        var chosen = (value: current, offset: b[k])
        for g in ClassBias.grid {
          var trial = b
          trial[k] = g
          let m = macro(trial)
          if m > chosen.value + 1e-6 { chosen = (m, g) }
        }
        b[k] = chosen.offset
        current = chosen.value
      }
    }
    return ClassBias.Fit(offsets: b, before: before, after: current)
  }

  /// N rows of C classes: a seeded softmax of a gold-leaning logit plus noise, with the
  /// logits of `underRated` lowered by `shift` (a fold model that has seen too few of
  /// its rows).
  func scores(n: Int, classes c: Int, seed: UInt64, underRated: Int? = nil, shift: Float = 0)
    -> (p: [Float], y: [Int32])
  {
    var rng = SplitMix64(seed: seed)
    var p = [Float](repeating: 0, count: n * c)
    var y = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      y[i] = Int32(i % c)
      var z = (0..<c).map { _ in rng.nextUnitFloat() * 2 }
      z[Int(y[i])] += 1.2
      if let u = underRated { z[u] -= shift }
      let m = z.max()!
      let e = z.map { expf($0 - m) }
      let sum = e.reduce(0, +)
      for k in 0..<c { p[i * c + k] = e[k] / sum }
    }
    return (p, y)
  }

  func testFitMatchesTheNaiveAscent() {
    for (seed, c) in [(UInt64(1), 2), (2, 3), (3, 5), (4, 7)] {
      let (p, y) = scores(n: 240, classes: c, seed: seed, underRated: c - 1, shift: 0.8)
      let fast = ClassBias.fit(probabilities: p, labels: y, classes: c)
      let naive = naiveFit(p, y, classes: c)
      XCTAssertEqual(fast.offsets, naive.offsets, "seed \(seed), \(c) classes")
      XCTAssertEqual(fast.before, naive.before, accuracy: 1e-5)
      XCTAssertEqual(fast.after, naive.after, accuracy: 1e-5)
    }
  }

  /// Ties between classes go to the lower class, as `Metrics.argmax` breaks them. With
  /// probabilities drawn from four values, many rows give two classes the same ln p, so
  /// ln p_k + b_k ties whenever two offsets are equal: both fits must decide those rows alike.
  func testTiesAreBrokenAsArgmaxBreaksThem() {
    let c = 4
    let values: [Float] = [0.1, 0.2, 0.3, 0.4]
    for seed in UInt64(1)...6 {
      var rng = SplitMix64(seed: seed)
      var p: [Float] = []
      var y: [Int32] = []
      for i in 0..<200 {
        y.append(Int32(i % c))
        p += (0..<c).map { _ in values[Int(rng.next() % 4)] }
      }
      let fast = ClassBias.fit(probabilities: p, labels: y, classes: c)
      let naive = naiveFit(p, y, classes: c)
      XCTAssertEqual(fast.offsets, naive.offsets, "seed \(seed)")
      XCTAssertEqual(fast.before, naive.before, accuracy: 1e-5, "seed \(seed)")
      XCTAssertEqual(fast.after, naive.after, accuracy: 1e-5, "seed \(seed)")
    }
  }

  func testAnUnderRatedClassGetsARaisedOffsetThatIsKept() {
    let (p, y) = scores(n: 400, classes: 4, seed: 11, underRated: 2, shift: 1.5)
    let fit = ClassBias.fit(probabilities: p, labels: y, classes: 4)
    XCTAssertGreaterThan(
      fit.offsets[2], fit.offsets.enumerated().filter { $0.0 != 2 }.map(\.1).max()!)
    XCTAssertGreaterThanOrEqual(fit.after - fit.before, ClassBias.minimumGain)
    XCTAssertTrue(fit.kept)
    XCTAssertEqual(fit.info.offsets, fit.offsets.map { $0 * ClassBias.shrink })
  }

  /// Scores that already decide every row right leave nothing to gain: no offset moves.
  func testSeparatedScoresKeepNoOffset() {
    let c = 3
    var p: [Float] = []
    var y: [Int32] = []
    for i in 0..<90 {
      let gold = i % c
      y.append(Int32(gold))
      p += (0..<c).map { $0 == gold ? 0.9 : 0.05 }
    }
    let fit = ClassBias.fit(probabilities: p, labels: y, classes: c)
    XCTAssertEqual(fit.offsets, [0, 0, 0])
    XCTAssertEqual(fit.before, 1, accuracy: 1e-6)
    XCTAssertFalse(fit.kept)
  }

  /// The offsets go into the output bias, so the model decides argmax (z + b); taking
  /// them out gives back the model's own bias.
  func testOffsetsLandInTheOutputBiasAndComeBackOut() throws {
    // The fixture's own offsets and temperature, if finetune fitted any, taken out first.
    var model = try TrainingFixtures.tinyModel.get().withoutClassBias().withoutTemperature()
    let plain = model.classifier.bias
    let offsets: [Float] = [0.5, -0.25, 0.75]
    model.metadata.classBias = ClassBias.Info(
      offsets: offsets, foldMacroF1: 0.5, tunedFoldMacroF1: 0.6)
    model.classifier = Finetune.postProcessed(
      model.classifier, classBias: model.metadata.classBias, temperature: nil)
    for k in 0..<3 { XCTAssertEqual(model.classifier.bias[k], plain[k] + offsets[k]) }
    let back = try ModelFile.decode(try ModelFile.encode(model), path: "m.qmodel")
    XCTAssertEqual(back.metadata.classBias, model.metadata.classBias)
    let without = back.withoutClassBias()
    XCTAssertNil(without.metadata.classBias)
    for k in 0..<3 { XCTAssertEqual(without.classifier.bias[k], plain[k], accuracy: 1e-6) }
    XCTAssertEqual(without.withoutClassBias().classifier.bias, without.classifier.bias)
  }
}
