import XCTest

@testable import Quarry

/// Confident learning on hand-made probabilities, with the per-class thresholds worked
/// out by hand.
final class LabelIssuesTests: XCTestCase {
  /// Nine rows, three classes.
  ///
  ///   row label  p̂
  ///    0   0   (0.90, 0.05, 0.05)
  ///    1   0   (0.70, 0.20, 0.10)
  ///    2   0   (0.05, 0.90, 0.05)   looks like a 1
  ///    3   0   (0.04, 0.46, 0.50)   arg-max 2, but only class 1 clears its threshold
  ///    4   1   (0.10, 0.80, 0.10)
  ///    5   1   (0.30, 0.10, 0.60)   score 0.9, yet no class clears its threshold
  ///    6   2   (0.10, 0.10, 0.80)
  ///    7   2   (0.60, 0.10, 0.30)   looks like a 0, score 0.7 only
  ///    8   2   (0.00, 0.05, 0.95)
  ///
  /// Thresholds: t0 = (0.90 + 0.70 + 0.05 + 0.04)/4 = 0.4225, t1 = (0.80 + 0.10)/2 = 0.45,
  /// t2 = (0.80 + 0.30 + 0.95)/3 = 0.68333.
  ///   row 2: above threshold only p̂1 = 0.90 ≥ 0.45 → k* = 1 ≠ 0, score 0.95;
  ///   row 3: p̂1 = 0.46 ≥ 0.45, p̂2 = 0.50 < 0.6833 → k* = 1 ≠ 0, score 0.96;
  ///   row 5: 0.30 < 0.4225, 0.10 < 0.45, 0.60 < 0.6833 → no k*, never an issue;
  ///   row 7: p̂0 = 0.60 ≥ 0.4225 → k* = 0 ≠ 2, score 0.70 (an issue only below 0.8);
  ///   rows 0, 1, 4, 6, 8: k* is the label.
  static let labels: [Int32] = [0, 0, 0, 0, 1, 1, 2, 2, 2]
  static let p: [Float] = [
    0.90, 0.05, 0.05,
    0.70, 0.20, 0.10,
    0.05, 0.90, 0.05,
    0.04, 0.46, 0.50,
    0.10, 0.80, 0.10,
    0.30, 0.10, 0.60,
    0.10, 0.10, 0.80,
    0.60, 0.10, 0.30,
    0.00, 0.05, 0.95,
  ]

  func find(minScore: Float? = nil) -> [LabelIssues.Issue] {
    if let minScore {
      return LabelIssues.find(
        probabilities: LabelIssuesTests.p, labels: LabelIssuesTests.labels, classes: 3,
        minScore: minScore)
    }
    return LabelIssues.find(
      probabilities: LabelIssuesTests.p, labels: LabelIssuesTests.labels, classes: 3)
  }

  func testDefaultMinScore() {
    let issues = find()
    XCTAssertEqual(issues.map(\.row), [3, 2])
    XCTAssertEqual(issues.map(\.suggested), [1, 1])
    XCTAssertEqual(issues[0].score, 0.96, accuracy: 1e-6)
    XCTAssertEqual(issues[1].score, 0.95, accuracy: 1e-6)
  }

  func testMinScoreZeroAddsTheLessSureRowOnly() {
    let issues = find(minScore: 0)
    XCTAssertEqual(issues.map(\.row), [3, 2, 7])
    XCTAssertEqual(issues.map(\.suggested), [1, 1, 0])
    XCTAssertEqual(issues[2].score, 0.7, accuracy: 1e-6)
    // Row 5 has the highest score of all rows not listed (0.9) but no confident class.
    XCTAssertFalse(issues.contains { $0.row == 5 })
    XCTAssertTrue(zip(issues, issues.dropFirst()).allSatisfy { $0.score >= $1.score })
  }

  func testMinScoreBetweenScores() {
    XCTAssertEqual(find(minScore: 0.69).map(\.row), [3, 2, 7])
    XCTAssertEqual(find(minScore: 0.955).map(\.row), [3])
    XCTAssertEqual(find(minScore: 0.97).map(\.row), [])
  }

  /// Both cuts are inclusive, on exact binary fractions: t1 = (1 + 0.5)/2 = 0.75 and
  /// row 3 (label 0) has p̂1 = 0.75 ≥ t1, score 1 − 0.25 = 0.75 ≥ minScore 0.75.
  /// Row 2 (label 1): p̂0 = 0.5 < t0 = (1 + 0.25)/2, p̂1 = 0.5 < 0.75 → none.
  func testThresholdAndMinScoreAreInclusive() {
    let labels: [Int32] = [0, 1, 1, 0]
    let p: [Float] = [1, 0, 0, 1, 0.5, 0.5, 0.25, 0.75]
    let at = LabelIssues.find(probabilities: p, labels: labels, classes: 2, minScore: 0.75)
    XCTAssertEqual(at, [LabelIssues.Issue(row: 3, suggested: 1, score: 0.75)])
    XCTAssertEqual(
      LabelIssues.find(probabilities: p, labels: labels, classes: 2, minScore: 0.7500001), [])
  }

  /// Thresholds are per class. Class 0's rows are sure of it (t0 = (0.95 + 0.95 + 0.62)/3
  /// = 0.84), class 1's are not (t1 = (0.25 + 0.35)/2 = 0.30). Row 2, labelled 0 and
  /// arg-max 0, has p̂0 = 0.62 < 0.84 but p̂1 = 0.38 ≥ 0.30: k* = 1, score 0.38.
  /// Row 3 (label 1, arg-max 0): 0.75 < 0.84 and 0.25 < 0.30 → none.
  /// Row 4 (label 1): p̂1 = 0.35 ≥ 0.30 and p̂0 = 0.65 < 0.84 → k* = 1, its label.
  func testThresholdsArePerClass() {
    let labels: [Int32] = [0, 0, 0, 1, 1]
    let p: [Float] = [
      0.95, 0.05,
      0.95, 0.05,
      0.62, 0.38,
      0.75, 0.25,
      0.65, 0.35,
    ]
    let issues = LabelIssues.find(probabilities: p, labels: labels, classes: 2, minScore: 0)
    XCTAssertEqual(issues.map(\.row), [2])
    XCTAssertEqual(issues.first?.suggested, 1)
    XCTAssertEqual(issues.first?.score ?? 0, 0.38, accuracy: 1e-6)
    XCTAssertEqual(LabelIssues.find(probabilities: p, labels: labels, classes: 2), [])
  }

  func testEqualScoresInRowOrder() {
    // Two identical mislabelled rows (2 and 3) and a clean pair.
    let labels: [Int32] = [0, 1, 0, 0]
    let p: [Float] = [1, 0, 0, 1, 0, 1, 0, 1]
    let issues = LabelIssues.find(probabilities: p, labels: labels, classes: 2)
    XCTAssertEqual(issues.map(\.row), [2, 3])
    XCTAssertEqual(issues.map(\.score), [1, 1])
  }

  func testCleanDataHasNoIssues() {
    let p: [Float] = [0.9, 0.1, 0.2, 0.8, 0.7, 0.3]
    XCTAssertEqual(LabelIssues.find(probabilities: p, labels: [0, 1, 0], classes: 2), [])
  }

  // MARK: by mean out-of-fold confidence

  /// The nine rows above with confidences c by hand. Class means m = (0.9 + 0.8 + 0.02 +
  /// 0.05)/4 = 0.4425, (0.7 + 0.09)/2 = 0.395, (0.8 + 0.1 + 0.95)/3 = 0.61667.
  ///   cut 0.13: bars 0.0575, 0.0514, 0.0802 → rows 2 (0.02) and 3 (0.05);
  ///   cut 0.25: bars 0.1106, 0.0988, 0.1542 → also rows 5 (0.09) and 7 (0.1).
  /// Suggested: the largest p̂_k with k ≠ label (row 3's is 2, though 1 was confident
  /// learning's choice; row 5's is 2).
  func testConfidenceRuleCutsAtAShareOfTheClassMean() {
    let confidence: [Float] = [0.9, 0.8, 0.02, 0.05, 0.7, 0.09, 0.8, 0.1, 0.95]
    func find(_ cut: Float?) -> [LabelIssues.Issue] {
      let (p, labels) = (LabelIssuesTests.p, LabelIssuesTests.labels)
      guard let cut else {
        return LabelIssues.find(
          confidence: confidence, probabilities: p, labels: labels, classes: 3)
      }
      return LabelIssues.find(
        confidence: confidence, probabilities: p, labels: labels, classes: 3, cut: cut)
    }
    XCTAssertEqual(find(nil).map(\.row), [2, 3])
    XCTAssertEqual(find(0.13), find(nil))
    let looser = find(0.25)
    XCTAssertEqual(looser.map(\.row), [2, 3, 5, 7])
    XCTAssertEqual(looser.map(\.suggested), [1, 2, 2, 0])
    for (issue, score) in zip(looser, [Float(0.98), 0.95, 0.91, 0.9]) {
      XCTAssertEqual(issue.score, score, accuracy: 1e-6)
    }
  }

  /// A class the folds never learn (every row near 0) is not flagged whole: its bar is
  /// 0.13 × 0.05 = 0.0065. An absolute bar of 0.1 would flag rows 1–4.
  func testAClassWithLowConfidenceThroughoutIsNotFlaggedWhole() {
    let issues = twoClasses(
      labels: [0, 0, 1, 1, 1], confidence: [0.9, 0.02, 0.05, 0.04, 0.06],
      p: [0.9, 0.1, 0.03, 0.97, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    XCTAssertEqual(issues.map(\.row), [1])
    XCTAssertEqual(issues.first?.suggested, 1)
  }

  /// A row under the bar whose stored probabilities still favour its label (the model
  /// trained without the flagged rows gave it back) is not an issue.
  func testConfidenceRuleNeedsAnotherClassAhead() {
    let issues = twoClasses(
      labels: [0, 0, 0, 1, 1], confidence: [0.9, 0.9, 0.01, 0.9, 0.01],
      p: [0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.1, 0.9, 0.7, 0.3])
    XCTAssertEqual(issues.map(\.row), [4])
    XCTAssertEqual(issues.first?.suggested, 0)
  }

  func twoClasses(labels: [Int32], confidence: [Float], p: [Float]) -> [LabelIssues.Issue] {
    LabelIssues.find(confidence: confidence, probabilities: p, labels: labels, classes: 2)
  }
}
