import Foundation
import XCTest

@testable import Quarry

/// `Calibration` against a reference written the slow way, and on cases whose answer is
/// known.
final class CalibrationTests: XCTestCase {
  /// ECE by the definition: each row's bin by its top probability, then the weighted gap
  /// between each bin's accuracy and its mean confidence.
  func referenceECE(_ p: [Float], _ gold: [Int32], _ c: Int) -> Double {
    var rowsOfBin: [Int: [Int]] = [:]
    for i in gold.indices {
      let row = Array(p[(i * c)..<(i * c + c)])
      let top = row.max()!
      rowsOfBin[min(14, Int(Double(top) * 15)), default: []].append(i)
    }
    var ece = 0.0
    for (_, rows) in rowsOfBin {
      let conf = rows.map { i in Double(p[(i * c)..<(i * c + c)].max()!) }.reduce(0, +)
      let acc = rows.filter { i in
        let row = Array(p[(i * c)..<(i * c + c)])
        return row.firstIndex(of: row.max()!) == Int(gold[i])
      }.count
      ece += abs(Double(acc) - conf) / Double(gold.count)
    }
    return ece
  }

  func testMatchesTheReferenceOnRandomProbabilities() {
    var rng = SplitMix64(seed: 11)
    for (n, c) in [(1, 2), (50, 3), (400, 7)] {
      var p: [Float] = []
      var gold: [Int32] = []
      for _ in 0..<n {
        let raw = (0..<c).map { _ in Float(rng.next() % 1000 + 1) }
        let sum = raw.reduce(0, +)
        p += raw.map { $0 / sum }
        gold.append(Int32(rng.next() % UInt64(c)))
      }
      let cal = Calibration(probabilities: p, gold: gold, classes: c)
      XCTAssertEqual(Double(cal.expectedCalibrationError), referenceECE(p, gold, c), accuracy: 1e-6)
      let ll = -gold.indices.map { log(Double(p[$0 * c + Int(gold[$0])])) }.reduce(0, +) / Double(n)
      XCTAssertEqual(Double(cal.logLoss), ll, accuracy: 1e-4)
    }
  }

  /// The reliability bins: 0.9 on four rows (two right) lands in bin 13 (0.867–0.933),
  /// 0.6 on two rows (both right) in bin 9; the others are empty.
  func testReliabilityBins() {
    let p: [Float] = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.4, 0.6]
    let cal = Calibration(probabilities: p, gold: [0, 0, 1, 1, 0, 1], classes: 2)
    XCTAssertEqual(cal.reliability.count, Calibration.bins)
    XCTAssertEqual(cal.reliability[13].rows, 4)
    XCTAssertEqual(cal.reliability[13].confidence, 0.9, accuracy: 1e-6)
    XCTAssertEqual(cal.reliability[13].accuracy, 0.5, accuracy: 1e-6)
    XCTAssertEqual(cal.reliability[9].rows, 2)
    XCTAssertEqual(cal.reliability[9].accuracy, 1, accuracy: 1e-6)
    XCTAssertEqual(cal.reliability.map(\.rows).reduce(0, +), 6)
    for (b, bin) in cal.reliability.enumerated() where b != 9 && b != 13 {
      XCTAssertEqual(bin, Calibration.Bin(rows: 0, confidence: 0, accuracy: 0))
    }
    // ECE is the rows' share-weighted gap of the bins: 4/6 · 0.4 + 2/6 · 0.4.
    XCTAssertEqual(cal.expectedCalibrationError, 0.4, accuracy: 1e-6)
  }

  func testKnownCases() {
    // Always right with probability 1: no gap, no loss.
    let sure = Calibration(probabilities: [1, 0, 0, 1], gold: [0, 1], classes: 2)
    XCTAssertEqual(sure.expectedCalibrationError, 0)
    XCTAssertEqual(sure.logLoss, 0, accuracy: 1e-7)
    // 0.9 on every row, right on half of them: the gap is 0.4.
    let over = Calibration(
      probabilities: [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1], gold: [0, 0, 1, 1], classes: 2)
    XCTAssertEqual(over.expectedCalibrationError, 0.4, accuracy: 1e-6)
    // 0.7 on every row, right on 7 of 10: calibrated.
    var p: [Float] = []
    for _ in 0..<10 { p += [0.7, 0.3] }
    let gold: [Int32] = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]
    XCTAssertEqual(
      Calibration(probabilities: p, gold: gold, classes: 2).expectedCalibrationError, 0,
      accuracy: 1e-6)
  }
}
