/// Picks each epoch's confusable negatives: for every class c, the rows of other classes
/// that the model pulls towards c, near or across the decision boundary.
///
/// With p the last epoch's probabilities of a row of gold class y, its margin is
/// m = p_y − max_{c≠y} p_c and its rival is that c. For class c the candidates are the rows
/// whose rival is c with |m| ≤ `mineMargin` (the band: rows far across the boundary are
/// more often mislabelled than hard, and are left alone). They are ranked by p_c, highest
/// first, as OHEM ranks by loss, and the top ⌈`mineFraction` · (candidates of c)⌉ are kept
/// (a share of each class's candidates, so the mined pass keeps the corpus's class balance:
/// a quota by class size starved the small classes and cost 6 points of macro-F1 on R8
/// subsets of 200 rows), skipping any whose word set has Jaccard similarity above `mineJaccard` with a
/// row already kept for c (as OHEM drops overlapping boxes). Only rows that share one of
/// four MinHash values with a kept row are compared: sets with Jaccard J share a given
/// MinHash with probability J, so a near-duplicate (J > 0.9) escapes all four with
/// probability below 10⁻⁴. Cost: O(N·C + N·words).
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

  /// The selection; with `maxRows`, the share per class shrinks to
  /// min(`mineFraction`, maxRows / candidates) so that the hardest rows of every class
  /// come first within the budget.
  public func select(
    probabilities p: [Float], labels: [Int32], features: FeatureMatrix, maxRows: Int? = nil
  ) -> Selection {
    let (margin, rival) = Miner.margins(probabilities: p, labels: labels, classes: classes)
    var candidates = [[Int]](repeating: [], count: classes)
    for i in labels.indices where abs(margin[i]) <= config.mineMargin {
      candidates[Int(rival[i])].append(i)
    }
    let total = candidates.reduce(0) { $0 + $1.count }
    var share = config.mineFraction
    if let maxRows, total > 0 { share = min(share, Float(maxRows) / Float(total)) }
    var rows: [Int] = []
    var perClass = [Int](repeating: 0, count: classes)
    for c in 0..<classes {
      let ranked = candidates[c].sorted {
        let a = p[$0 * classes + c]
        let b = p[$1 * classes + c]
        return a > b || (a == b && $0 < $1)
      }
      let quota = Int((share * Float(ranked.count)).rounded(.up))
      var kept: [[Int32]] = []
      var buckets: [UInt64: [Int]] = [:]  // MinHash value (tagged by function) → kept rows
      for i in ranked where kept.count < quota {
        let words = Array(features.bagRows[features.bagStart[i]..<features.bagStart[i + 1]])
        let signature = Miner.minHashes(words)
        let near = signature.flatMap { buckets[$0] ?? [] }
        if near.contains(where: { Miner.jaccard(kept[$0], words) > config.mineJaccard }) {
          continue
        }
        for h in signature { buckets[h, default: []].append(kept.count) }
        kept.append(words)
        rows.append(i)
      }
      perClass[c] = kept.count
    }
    return Selection(rows: rows, perClass: perClass)
  }

  /// Four MinHash values of a word set, each tagged with its function's index so that
  /// they can share one bucket table.
  static func minHashes(_ words: [Int32]) -> [UInt64] {
    (0..<4).map { f -> UInt64 in
      var m = UInt64.max
      for w in words {
        var z = UInt64(UInt32(bitPattern: w)) &+ UInt64(f + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        m = min(m, z ^ (z >> 31))
      }
      return (m >> 2) | (UInt64(f) << 62)
    }
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
