/// How much each row of class c counts in the loss, for N rows over C classes of which
/// n_c are in class c. The raw value is the flag's spelling and what the model's metadata
/// stores.
public enum ClassWeighting: String, Codable, Sendable, CaseIterable {
  /// w_c = N / (C·n_c): every class weighs as much in total as an even share of the rows.
  case balanced
  /// w_c = √(N / (C·n_c)).
  case sqrt
  /// w_c = 1.
  case uniform = "none"

  /// w_c for each class from its row count; a class with no rows gets 1.
  public func weights(counts: [Int]) -> [Float] {
    let classes = Float(counts.count)
    let n = Float(counts.reduce(0, +))
    return counts.map { k in
      guard k > 0 else { return 1 }
      let w = n / (classes * Float(k))
      switch self {
      case .balanced: return w
      case .sqrt: return w.squareRoot()
      case .uniform: return 1
      }
    }
  }

  /// The same from each row's label.
  public func weights(labels: [Int32], classes: Int) -> [Float] {
    var counts = [Int](repeating: 0, count: classes)
    for y in labels { counts[Int(y)] += 1 }
    return weights(counts: counts)
  }
}
