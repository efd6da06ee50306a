/// Training dynamics (dataset cartography, Swayamdipta et al. 2020): for every training
/// row, p(gold) after each epoch and whether the arg-max was right. From them:
///   confidence  = mean_e p_e(gold),
///   variability = std_e p_e(gold),
///   correctness = (1/E) Σ_e [argmax_e = gold],
/// and the class preferred most often when it was not the gold one.
public struct Dynamics: Sendable, Equatable {
  public let rows: Int
  /// Epoch-major: pGold[e * rows + i].
  public private(set) var pGold: [Float] = []
  /// Epoch-major arg-max class.
  public private(set) var predicted: [Int32] = []

  public init(rows: Int) {
    self.rows = rows
  }

  /// Rebuilds stored dynamics; nil when the lengths disagree.
  public init?(rows: Int, pGold: [Float], predicted: [Int32]) {
    guard rows > 0, pGold.count == predicted.count, pGold.count % rows == 0 else { return nil }
    self.rows = rows
    self.pGold = pGold
    self.predicted = predicted
  }

  public var epochs: Int { rows == 0 ? 0 : pGold.count / rows }

  mutating func record(probabilities p: [Float], labels: [Int32], classes: Int) {
    let pred = Metrics.argmax(p, classes: classes)
    for i in 0..<rows {
      pGold.append(p[i * classes + Int(labels[i])])
      predicted.append(pred[i])
    }
  }

  public struct RowStats: Sendable, Equatable {
    public var confidence: Float
    public var variability: Float
    public var correctness: Float
    /// The wrong class predicted in most epochs (-1 when always right).
    public var rival: Int32
  }

  /// The statistics of row i (gold class `label`).
  public func stats(row i: Int, label: Int32, classes: Int) -> RowStats {
    let e = epochs
    guard e > 0 else { return RowStats(confidence: 0, variability: 0, correctness: 0, rival: -1) }
    var sum: Double = 0
    var sum2: Double = 0
    var right = 0
    var wrongCounts = [Int](repeating: 0, count: classes)
    for k in 0..<e {
      let v = Double(pGold[k * rows + i])
      sum += v
      sum2 += v * v
      let p = predicted[k * rows + i]
      if p == label { right += 1 } else { wrongCounts[Int(p)] += 1 }
    }
    let mean = sum / Double(e)
    let variance = max(0, sum2 / Double(e) - mean * mean)
    var rival: Int32 = -1
    var most = 0
    for (c, k) in wrongCounts.enumerated() where k > most {
      most = k
      rival = Int32(c)
    }
    return RowStats(
      confidence: Float(mean), variability: Float(variance.squareRoot()),
      correctness: Float(right) / Float(e), rival: rival)
  }
}
