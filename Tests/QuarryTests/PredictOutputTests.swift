import Foundation
import XCTest

@testable import Quarry

/// What `predict` prints: probabilities as "%.4f" would print them, and the k best labels.
final class PredictOutputTests: XCTestCase {
  func testProbabilityTextEqualsPrintf() {
    var rng = SplitMix64(seed: 51)
    var values: [Float] = [
      0, 1, 0.5, 0.03125, 0.00005, 0.99995, 0.99996, 0.00004, 0.12345, 1e-30, 0.0001,
      Float(1).nextDown, Float.leastNonzeroMagnitude,
    ]
    // Ties at a multiple of 2⁻¹⁰ (exact halves of 10⁻⁴ steps round half to even).
    values += (0..<1024).map { Float($0) / 1024 }
    values += (0..<20_000).map { _ in rng.nextUnitFloat() }
    values += (0..<2_000).map { _ in powf(rng.nextUnitFloat(), 8) }
    for v in values {
      XCTAssertEqual(probabilityText(v), String(format: "%.4f", v), "\(v)")
    }
    // Outside [0, 1] it still prints something printf would.
    XCTAssertEqual(probabilityText(-0.25), String(format: "%.4f", Float(-0.25)))
    XCTAssertEqual(probabilityText(.nan), String(format: "%.4f", Float.nan))
  }

  func testTopKEqualsSortingByProbabilityThenLabel() {
    var rng = SplitMix64(seed: 52)
    let classes = 7
    // Probabilities from a few levels, so that ties are common.
    let probs = (0..<(300 * classes)).map { _ in Float(rng.next() % 5) / 4 }
    for k in [1, 2, 3, 7, 9] {
      let got = Predictor.topK(probs, classes: classes, k: k)
      XCTAssertEqual(got.count, 300)
      for i in 0..<300 {
        let row = (0..<classes).map { (label: $0, probability: probs[i * classes + $0]) }
        let want = row.sorted {
          $0.probability > $1.probability
            || ($0.probability == $1.probability && $0.label < $1.label)
        }.prefix(min(k, classes))
        XCTAssertEqual(got[i].map(\.label), want.map(\.label), "row \(i), k \(k)")
        XCTAssertEqual(got[i].map(\.probability), want.map(\.probability), "row \(i), k \(k)")
      }
    }
  }
}
