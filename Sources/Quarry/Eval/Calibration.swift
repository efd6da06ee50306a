/// Whether probabilities mean what they say, over N rows of C classes (row-major N×C
/// probabilities p, gold classes y):
///
///   ECE      = Σ_b (n_b / N) · |acc_b − conf_b|, over `bins` equal-width bins of the
///              top-label probability max_k p_k (the last bin closed at 1), where conf_b
///              is the mean top-label probability of bin b's rows and acc_b the share of
///              them whose arg-max is y;
///   log loss = −(1/N) Σ_i ln max(p_i(y_i), 10⁻¹²).
///
/// The arg-max takes the lowest class among ties, as `Metrics.argmax` does. O(N·C).
public struct Calibration: Sendable, Equatable {
  public var expectedCalibrationError: Float
  public var logLoss: Float
  /// The reliability diagram: bin b covers top-label probabilities [b/15, (b+1)/15), the
  /// last one closed at 1.
  public var reliability: [Bin]
  public static let bins = 15

  /// One bin's rows, their mean top-label probability and the share of them right (both
  /// 0 for an empty bin).
  public struct Bin: Sendable, Equatable {
    public var rows: Int
    public var confidence: Float
    public var accuracy: Float
  }

  public init(probabilities p: [Float], gold: [Int32], classes c: Int) {
    let n = gold.count
    var count = [Int](repeating: 0, count: Self.bins)
    var confidence = [Double](repeating: 0, count: Self.bins)
    var right = [Int](repeating: 0, count: Self.bins)
    let predicted = Metrics.argmax(p, classes: c)
    for i in 0..<n {
      let top = Double(p[i * c + Int(predicted[i])])
      let b = min(Self.bins - 1, max(0, Int(top * Double(Self.bins))))
      count[b] += 1
      confidence[b] += top
      if predicted[i] == gold[i] { right[b] += 1 }
    }
    var ece = 0.0
    for b in 0..<Self.bins where count[b] > 0 {
      ece += abs(Double(right[b]) - confidence[b]) / Double(max(n, 1))
    }
    expectedCalibrationError = Float(ece)
    reliability = (0..<Self.bins).map { b in
      let n = Double(max(count[b], 1))
      return Bin(
        rows: count[b], confidence: Float(confidence[b] / n), accuracy: Float(Double(right[b]) / n))
    }
    logLoss = Trainer.meanLoss(probabilities: p, gold: gold, classes: c)
  }
}
