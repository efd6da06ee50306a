/// Picks each epoch's confusable negatives: for every class c, the rows of other classes
/// that the model pulls towards c, near or across the decision boundary.
///
/// With p the last epoch's probabilities of a row of gold class y, its margin is
/// m = p_y − max_{c≠y} p_c and its rival is that c. For class c the candidates are the rows
/// whose rival is c with |m| ≤ `mineMargin` (the band: rows far across the boundary are
/// more often mislabelled than hard, and are left alone). They are ranked by p_c, highest
/// first, as OHEM ranks by loss, and the top ⌈`mineFraction` · n_c⌉ are kept (n_c: rows of
/// class c), skipping any whose word set has Jaccard similarity above `mineJaccard` with a
/// row already kept for c (as OHEM drops overlapping boxes). Cost: O(N·C) plus
/// O(k²·words) for the duplicate check of k kept rows per class.
public struct Miner: Sendable {
  public let config: TrainingConfig
  public let classes: Int

  public init(config: TrainingConfig, classes: Int) {
    self.config = config
    self.classes = classes
  }

  public struct Selection: Sendable, Equatable {
    /// Training rows picked, grouped by the class they are negatives for.
    public var rows: [Int]
    /// Rows picked per class (as a negative of that class).
    public var perClass: [Int]
    /// Rows trained in the mined pass (picked rows plus their variants).
    public var trained = 0
  }

  /// The margin and rival of each row of row-major N×C probabilities.
  public static func margins(probabilities p: [Float], labels: [Int32], classes: Int) -> (
    margin: [Float], rival: [Int32]
  ) {
    let n = labels.count
    var margin = [Float](repeating: 0, count: n)
    var rival = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      let y = Int(labels[i])
      var best = -1
      for c in 0..<classes where c != y {
        if best < 0 || p[i * classes + c] > p[i * classes + best] { best = c }
      }
      rival[i] = Int32(max(best, 0))
      margin[i] = p[i * classes + y] - (best >= 0 ? p[i * classes + best] : 0)
    }
    return (margin, rival)
  }

  public func select(probabilities p: [Float], labels: [Int32], features: FeatureMatrix)
    -> Selection
  {
    let (margin, rival) = Miner.margins(probabilities: p, labels: labels, classes: classes)
    var classSize = [Int](repeating: 0, count: classes)
    for y in labels { classSize[Int(y)] += 1 }
    var candidates = [[Int]](repeating: [], count: classes)
    for i in labels.indices where abs(margin[i]) <= config.mineMargin {
      candidates[Int(rival[i])].append(i)
    }
    var rows: [Int] = []
    var perClass = [Int](repeating: 0, count: classes)
    for c in 0..<classes {
      let ranked = candidates[c].sorted {
        let a = p[$0 * classes + c]
        let b = p[$1 * classes + c]
        return a > b || (a == b && $0 < $1)
      }
      let quota = Int((config.mineFraction * Float(classSize[c])).rounded(.up))
      var kept: [[Int32]] = []
      for i in ranked where kept.count < quota {
        let words = Array(features.bagRows[features.bagStart[i]..<features.bagStart[i + 1]])
        if kept.contains(where: { Miner.jaccard($0, words) > config.mineJaccard }) { continue }
        kept.append(words)
        rows.append(i)
      }
      perClass[c] = kept.count
    }
    return Selection(rows: rows, perClass: perClass)
  }

  /// |A ∩ B| / |A ∪ B| of two sorted row lists without repeats (1 for two empty sets).
  public static func jaccard(_ a: [Int32], _ b: [Int32]) -> Float {
    if a.isEmpty && b.isEmpty { return 1 }
    var i = 0
    var j = 0
    var common = 0
    while i < a.count && j < b.count {
      if a[i] == b[j] {
        common += 1
        i += 1
        j += 1
      } else if a[i] < b[j] {
        i += 1
      } else {
        j += 1
      }
    }
    return Float(common) / Float(a.count + b.count - common)
  }
}
