import XCTest

@testable import Quarry

/// The temperature fit against a brute-force scan of its loss, its direction on over- and
/// under-confident scores, and its folding into the classifier's weights.
final class TemperatureTests: XCTestCase {
  /// N rows of C classes whose probabilities are softmax(sharpness · z), z a seeded
  /// gold-leaning logit: sharpness > 1 makes them over-confident for the rate at which
  /// the gold class wins, < 1 under-confident.
  func scores(n: Int, classes c: Int, seed: UInt64, sharpness: Float) -> (p: [Float], y: [Int32]) {
    var rng = SplitMix64(seed: seed)
    var p: [Float] = []
    var y: [Int32] = []
    for i in 0..<n {
      let gold = i % c
      y.append(Int32(gold))
      // Gumbel noise on a gold-leaning logit: the gold class wins with the softmax
      // probability of the noiseless logit, so sharpness 1 is calibrated.
      var z = (0..<c).map { _ in Float(0) }
      z[gold] = 1
      let sampled = (0..<c).map { k in z[k] - logf(-logf(max(rng.nextUnitFloat(), 1e-7))) }
      let winner = sampled.indices.max { sampled[$0] < sampled[$1] }!
      y[i] = Int32(winner)
      let e = z.map { expf(sharpness * $0) }
      let sum = e.reduce(0, +)
      p += e.map { $0 / sum }
    }
    return (p, y)
  }

  func testFitFindsTheMinimumOfItsLoss() {
    for (seed, sharpness) in [(UInt64(1), Float(0.5)), (2, 1), (3, 2.5)] {
      let (p, y) = scores(n: 600, classes: 4, seed: seed, sharpness: sharpness)
      let offsets: [Float] = [0.3, -0.2, 0, 0.1]
      let info = Temperature.fit(probabilities: p, offsets: offsets, labels: y, classes: 4)
      let s = p.indices.map { Double(logf(max(p[$0], 1e-12)) + offsets[$0 % 4]) }
      let scan = stride(from: 0.25, through: 4, by: 0.002).map {
        (beta: $0, loss: Temperature.logLoss(s, y, classes: 4, beta: $0))
      }
      let best = scan.min { $0.loss < $1.loss }!
      XCTAssertEqual(Double(1 / info.foldTemperature), best.beta, accuracy: 0.003, "seed \(seed)")
      XCTAssertLessThanOrEqual(Double(info.calibratedFoldLogLoss), best.loss + 1e-5)
      XCTAssertEqual(
        Double(info.foldLogLoss), Temperature.logLoss(s, y, classes: 4, beta: 1), accuracy: 1e-5)
      XCTAssertEqual(info.temperature, max(1, info.foldTemperature.squareRoot()), accuracy: 1e-6)
    }
  }

  /// Over-confident scores want T > 1, under-confident ones T < 1, calibrated ones T ≈ 1.
  func testTheFitCoolsUnderConfidentAndWarmsOverConfidentScores() {
    let under = scores(n: 3000, classes: 3, seed: 7, sharpness: 0.5)
    let fair = scores(n: 3000, classes: 3, seed: 8, sharpness: 1)
    let over = scores(n: 3000, classes: 3, seed: 9, sharpness: 2)
    let tUnder = Temperature.fit(probabilities: under.p, labels: under.y, classes: 3)
    let tFair = Temperature.fit(probabilities: fair.p, labels: fair.y, classes: 3)
    let tOver = Temperature.fit(probabilities: over.p, labels: over.y, classes: 3)
    XCTAssertEqual(tUnder.foldTemperature, 0.5, accuracy: 0.1)
    XCTAssertEqual(tFair.foldTemperature, 1, accuracy: 0.15)
    XCTAssertEqual(tOver.foldTemperature, 2, accuracy: 0.4)
    XCTAssertLessThan(tUnder.calibratedFoldLogLoss, tUnder.foldLogLoss)
    // Only warming is applied: under-confident folds leave the model as it is.
    XCTAssertEqual(tUnder.temperature, 1)
    XCTAssertEqual(tOver.temperature, tOver.foldTemperature.squareRoot(), accuracy: 1e-6)
    XCTAssertLessThan(tOver.calibratedFoldLogLoss, tOver.foldLogLoss)
  }

  /// Scaling the weights by f gives softmax(f · z): the same as softmax(f · ln p) of the
  /// unscaled model's probabilities, row by row; and the arg-max does not move.
  func testScalingTheWeightsScalesTheLogits() throws {
    let model = try TrainingFixtures.tinyModel.get()
    let texts = ["pizza pasta dinner", "stocks bank money", "match goal team", "the a big"]
    let before = try Predictor(model: model).probabilities(texts)
    var scaled = model
    scaled.classifier.scaleLogits(by: 0.6)
    let after = try Predictor(model: scaled).probabilities(texts)
    let c = model.classifier.classes
    for i in 0..<texts.count {
      let z = (0..<c).map { 0.6 * logf(before[i * c + $0]) }
      let m = z.max()!
      let e = z.map { expf($0 - m) }
      let sum = e.reduce(0, +)
      for k in 0..<c { XCTAssertEqual(after[i * c + k], e[k] / sum, accuracy: 1e-5) }
    }
    XCTAssertEqual(Metrics.argmax(after, classes: c), Metrics.argmax(before, classes: c))
  }

  /// Offsets then a temperature, as finetune applies them (z ↦ (z + o) / T, on a
  /// classifier with encoder weights), stored and taken back out in either order, give
  /// back the plain weights.
  func testOffsetsAndTemperatureComeBackOutInEitherOrder() throws {
    // The fixture's own offsets and temperature, if finetune fitted any, taken out first.
    var model = try TrainingFixtures.tinyModel.get().withoutClassBias().withoutTemperature()
    let t = model.classifier
    var rng = SplitMix64(seed: 3)
    let plain = try XCTUnwrap(
      Classifier(
        classes: 3, featureCount: t.featureCount, wordCount: t.wordCount, dim: t.dim,
        wide: t.wide, embedding: t.embedding, dense: t.dense, bias: t.bias, encoderDim: 4,
        encoderWeights: (0..<12).map { _ in rng.nextUnitFloat() - 0.5 }))
    let offsets: [Float] = [0.5, -0.25, 0.75]
    model.metadata.classBias = ClassBias.Info(
      offsets: offsets, foldMacroF1: 0.5, tunedFoldMacroF1: 0.6)
    model.metadata.temperature = Temperature.Info(
      temperature: 1.25, foldTemperature: 1.5625, foldLogLoss: 0.4, calibratedFoldLogLoss: 0.3)
    model.classifier = Finetune.postProcessed(
      plain, classBias: model.metadata.classBias, temperature: model.metadata.temperature)
    for k in 0..<3 {
      XCTAssertEqual(model.classifier.bias[k], (plain.bias[k] + offsets[k]) / 1.25, accuracy: 1e-6)
    }
    for i in plain.encoderWeights.indices {
      XCTAssertEqual(
        model.classifier.encoderWeights[i], plain.encoderWeights[i] / 1.25, accuracy: 1e-6)
    }
    // The metadata survives the model file (written with the fixture's own classifier: a
    // file's encoder weights need an encoder in its metadata).
    var stored = try TrainingFixtures.tinyModel.get()
    stored.metadata.temperature = model.metadata.temperature
    let read = try ModelFile.decode(try ModelFile.encode(stored), path: "m.qmodel")
    XCTAssertEqual(read.metadata.temperature, model.metadata.temperature)
    for restored in [
      model.withoutClassBias().withoutTemperature(), model.withoutTemperature().withoutClassBias(),
    ] {
      XCTAssertNil(restored.metadata.classBias)
      XCTAssertNil(restored.metadata.temperature)
      for k in 0..<3 { XCTAssertEqual(restored.classifier.bias[k], plain.bias[k], accuracy: 1e-5) }
      for i in plain.wide.indices {
        XCTAssertEqual(restored.classifier.wide[i], plain.wide[i], accuracy: 1e-5)
      }
      for i in plain.dense.indices {
        XCTAssertEqual(restored.classifier.dense[i], plain.dense[i], accuracy: 1e-5)
      }
      for i in plain.encoderWeights.indices {
        XCTAssertEqual(
          restored.classifier.encoderWeights[i], plain.encoderWeights[i], accuracy: 1e-5)
      }
    }
  }
}
