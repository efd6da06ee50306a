import XCTest

@testable import Quarry

final class MetricsTests: XCTestCase {
  /// gold 0 0 0 0 1 1 2, predicted 0 0 1 2 1 0 1, over 4 classes (class 3 never occurs).
  ///   confusion (gold × predicted): [[2,1,1,0], [1,1,0,0], [0,1,0,0], [0,0,0,0]]
  ///   precision: 2/3, 1/3, 0, 0    recall: 2/4, 1/2, 0/1, 0
  ///   F1_0 = 2·(2/3)(1/2)/(7/6) = 4/7, F1_1 = 2·(1/3)(1/2)/(5/6) = 2/5, F1_2 = 0
  ///   macro-F1 over the 3 classes that occur = (4/7 + 2/5 + 0)/3 = 34/105, accuracy 3/7.
  func testHandBuiltConfusion() {
    let gold: [Int32] = [0, 0, 0, 0, 1, 1, 2]
    let predicted: [Int32] = [0, 0, 1, 2, 1, 0, 1]
    let m = Metrics(predicted: predicted, gold: gold, classes: 4)
    XCTAssertEqual(m.confusion, [[2, 1, 1, 0], [1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    XCTAssertEqual(m.accuracy, 3.0 / 7, accuracy: 1e-6)
    let p: [Float] = [2.0 / 3, 1.0 / 3, 0, 0]
    let r: [Float] = [0.5, 0.5, 0, 0]
    let f: [Float] = [4.0 / 7, 2.0 / 5, 0, 0]
    for k in 0..<4 {
      XCTAssertEqual(m.precision[k], p[k], accuracy: 1e-6, "precision \(k)")
      XCTAssertEqual(m.recall[k], r[k], accuracy: 1e-6, "recall \(k)")
      XCTAssertEqual(m.f1[k], f[k], accuracy: 1e-6, "f1 \(k)")
    }
    XCTAssertEqual(m.support, [4, 2, 1, 0])
    XCTAssertEqual(m.macroF1, 34.0 / 105, accuracy: 1e-6)
  }

  func testPerfectAndEmpty() {
    let perfect = Metrics(predicted: [0, 1, 1, 2], gold: [0, 1, 1, 2], classes: 3)
    XCTAssertEqual(perfect.accuracy, 1)
    XCTAssertEqual(perfect.macroF1, 1)
    XCTAssertEqual(perfect.f1, [1, 1, 1])
    let empty = Metrics(predicted: [], gold: [], classes: 2)
    XCTAssertEqual(empty.accuracy, 0)
    XCTAssertEqual(empty.macroF1, 0)
    XCTAssertEqual(empty.confusion, [[0, 0], [0, 0]])
  }

  /// A class that is only ever predicted (no gold rows) counts in macro-F1 with F1 = 0.
  func testPredictedOnlyClassCountsInMacroF1() {
    let m = Metrics(predicted: [0, 1, 2], gold: [0, 1, 1], classes: 3)
    // F1_0 = 1; class 1: P = 1, R = 1/2, F1 = 2/3; class 2: P = 0 → F1 = 0.
    XCTAssertEqual(m.macroF1, (1 + 2.0 / 3 + 0) / 3, accuracy: 1e-6)
  }

  func testArgmaxAndProbabilityInit() {
    let probs: [Float] = [0.1, 0.7, 0.2, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5]
    XCTAssertEqual(Metrics.argmax(probs, classes: 3), [1, 0, 2], "ties go to the first class")
    let m = Metrics(probabilities: probs, gold: [1, 1, 2], classes: 3)
    XCTAssertEqual(m.accuracy, 2.0 / 3, accuracy: 1e-6)
  }

  func testMeanLoss() {
    let p: [Float] = [0.25, 0.75, 1, 0]
    // −(ln 0.75 + ln 1e-12)/2: a zero probability is clamped.
    XCTAssertEqual(
      Double(Trainer.meanLoss(probabilities: p, gold: [1, 1], classes: 2)),
      -(log(0.75) + log(1e-12)) / 2, accuracy: 1e-4)
    XCTAssertEqual(Trainer.meanLoss(probabilities: [], gold: [], classes: 2), 0)
  }
}
