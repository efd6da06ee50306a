import XCTest

@testable import Quarry

/// Training dynamics recorded from hand-made probabilities, and the per-row statistics
/// worked out by hand (confidence = mean, variability = population standard deviation).
final class DynamicsTests: XCTestCase {
  /// Three rows (gold 0, 1, 2), three classes, three epochs; values in eighths.
  ///
  ///   epoch 1: (4,2,2) (4,2,2) (1,6,1)   → predicted 0, 0, 1
  ///   epoch 2: (6,1,1) (2,2,4) (2,4,2)   → predicted 0, 2, 1
  ///   epoch 3: (8,0,0) (4,2,2) (1,1,6)   → predicted 0, 0, 2
  static let labels: [Int32] = [0, 1, 2]
  static let epochs: [[Float]] = [
    [4, 2, 2, 4, 2, 2, 1, 6, 1],
    [6, 1, 1, 2, 2, 4, 2, 4, 2],
    [8, 0, 0, 4, 2, 2, 1, 1, 6],
  ].map { $0.map { $0 / 8 } }

  func recorded(epochs count: Int = 3) -> Dynamics {
    var d = Dynamics(rows: 3)
    for p in DynamicsTests.epochs.prefix(count) {
      d.record(probabilities: p, labels: DynamicsTests.labels, classes: 3)
    }
    return d
  }

  func testRecordKeepsGoldProbabilityAndArgmaxEpochMajor() {
    var d = Dynamics(rows: 3)
    XCTAssertEqual(d.epochs, 0)
    d.record(probabilities: DynamicsTests.epochs[0], labels: DynamicsTests.labels, classes: 3)
    XCTAssertEqual(d.epochs, 1)
    d.record(probabilities: DynamicsTests.epochs[1], labels: DynamicsTests.labels, classes: 3)
    XCTAssertEqual(d.epochs, 2)
    XCTAssertEqual(d.pGold, [0.5, 0.25, 0.125, 0.75, 0.25, 0.25])
    XCTAssertEqual(d.predicted, [0, 0, 1, 0, 2, 1])
    d.record(probabilities: DynamicsTests.epochs[2], labels: DynamicsTests.labels, classes: 3)
    XCTAssertEqual(d.epochs, 3)
    XCTAssertEqual(d.pGold, [0.5, 0.25, 0.125, 0.75, 0.25, 0.25, 1, 0.25, 0.75])
    XCTAssertEqual(d.predicted, [0, 0, 1, 0, 2, 1, 0, 0, 2])
  }

  /// Row 0: p = 0.5, 0.75, 1 → mean 0.75, variance (0.0625 + 0 + 0.0625)/3 = 1/24,
  /// std = 0.2041241 (the sample std would be 0.25); right every epoch.
  func testStatsOfARowAlwaysRight() {
    let s = recorded().stats(row: 0, label: 0, classes: 3)
    XCTAssertEqual(s.confidence, 0.75, accuracy: 1e-6)
    XCTAssertEqual(s.variability, Float((1.0 / 24).squareRoot()), accuracy: 1e-6)
    XCTAssertEqual(s.correctness, 1)
    XCTAssertEqual(s.rival, -1)
  }

  /// Row 1: p = 0.25 every epoch → std 0; predicted 0, 2, 0 → never right, rival 0.
  func testStatsOfARowNeverRight() {
    let s = recorded().stats(row: 1, label: 1, classes: 3)
    XCTAssertEqual(s.confidence, 0.25, accuracy: 1e-6)
    XCTAssertEqual(s.variability, 0, accuracy: 1e-6)
    XCTAssertEqual(s.correctness, 0)
    XCTAssertEqual(s.rival, 0)
  }

  /// Row 2: p = 0.125, 0.25, 0.75 → mean 0.375, deviations −0.25, −0.125, 0.375,
  /// variance 0.21875/3, std 0.2700309; right in epoch 3 only; wrong as 1 twice.
  func testStatsOfARowLearnedLate() {
    let s = recorded().stats(row: 2, label: 2, classes: 3)
    XCTAssertEqual(s.confidence, 0.375, accuracy: 1e-6)
    XCTAssertEqual(s.variability, Float((0.21875 / 3).squareRoot()), accuracy: 1e-6)
    XCTAssertEqual(s.correctness, 1.0 / 3, accuracy: 1e-6)
    XCTAssertEqual(s.rival, 1)
  }

  /// After two epochs only: row 2 has p = 0.125, 0.25 → mean 0.1875, std 0.0625, never
  /// right, rival 1.
  func testStatsUseTheEpochsRecordedSoFar() {
    let s = recorded(epochs: 2).stats(row: 2, label: 2, classes: 3)
    XCTAssertEqual(s.confidence, 0.1875, accuracy: 1e-6)
    XCTAssertEqual(s.variability, 0.0625, accuracy: 1e-6)
    XCTAssertEqual(s.correctness, 0)
    XCTAssertEqual(s.rival, 1)
  }

  func testStatsWithoutEpochs() {
    let s = Dynamics(rows: 4).stats(row: 0, label: 0, classes: 2)
    XCTAssertEqual(s.confidence, 0)
    XCTAssertEqual(s.variability, 0)
    XCTAssertEqual(s.correctness, 0)
    XCTAssertEqual(s.rival, -1)
  }

  func testRebuildFromStoredArrays() throws {
    let d = recorded()
    let back = try XCTUnwrap(Dynamics(rows: 3, pGold: d.pGold, predicted: d.predicted))
    XCTAssertEqual(back, d)
    XCTAssertEqual(back.epochs, 3)
    XCTAssertEqual(back.rows, 3)
    XCTAssertEqual(back.stats(row: 2, label: 2, classes: 3), d.stats(row: 2, label: 2, classes: 3))
  }

  func testRebuildRejectsMismatchedLengths() {
    // pGold and predicted differ in length.
    XCTAssertNil(Dynamics(rows: 2, pGold: [0.5, 0.5, 0.5, 0.5], predicted: [0, 1, 0]))
    // Not a whole number of epochs.
    XCTAssertNil(Dynamics(rows: 2, pGold: [0.5, 0.5, 0.5], predicted: [0, 1, 0]))
    // No rows.
    XCTAssertNil(Dynamics(rows: 0, pGold: [], predicted: []))
    XCTAssertNotNil(Dynamics(rows: 2, pGold: [0.5, 0.5, 0.5, 0.5], predicted: [0, 1, 0, 1]))
  }
}
