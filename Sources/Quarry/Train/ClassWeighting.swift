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

  /// For a one-vs-rest (multi-label) model, the weight α_c of the rows that carry class c
  /// in its binary loss (the rows without it weigh 1), from n_c of N rows:
  ///   balanced: α_c = ((N − n_c) / n_c)^¼,  sqrt: α_c = ((N − n_c) / n_c)^⅛,  none: 1.
  /// The fourth root of the full balance: a label on 1% of the rows weighs about 3. With
  /// the square root (about 10 there) training diverged at the default rate on the debtags
  /// corpus; with the full balance a few rare labels would take the whole step.
  public func positiveWeights(counts: [Int], rows: Int) -> [Float] {
    counts.map { k in
      guard k > 0, rows > k else { return 1 }
      let odds = Float(rows - k) / Float(k)
      switch self {
      case .balanced: return odds.squareRoot().squareRoot()
      case .sqrt: return odds.squareRoot().squareRoot().squareRoot()
      case .uniform: return 1
      }
    }
  }
}
