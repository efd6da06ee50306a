/// Likely label errors, by one of two rules.
///
/// On the training corpus, from out-of-sample training dynamics (`find(confidence:…)`): with
/// c_i a row's confidence, the mean over the fold epochs of its out-of-fold p̂_y, and
///
///   m_j = mean of c_i over the rows labelled j                 (per-class scale)
///
/// a row labelled y is an issue when c_i < `cut` · m_y and the other class k with the
/// largest p̂_k has p̂_k > p̂_y, with p̂ the row's stored out-of-sample probabilities (for
/// the rows the first condition picks, `CrossFit` stores those of a model trained without
/// any of them). Its score is 1 − c_i and k is the class suggested. Scaling by m_y keeps
/// a class the folds barely learn (a handful of rows) from being flagged whole. O(N·C).
///
/// Elsewhere, by confident learning (Northcutt, Jiang, Chuang 2021) on probabilities p̂
/// that should be out-of-sample:
///
///   t_j = mean of p̂_j(x) over the rows labelled j        (per-class thresholds)
///   a row labelled y is put in the confident joint at k* = argmax { p̂_k(x) : p̂_k(x) ≥ t_k }
///   it is an issue when k* exists, k* ≠ y and its score 1 − p̂_y(x) (self-confidence) is at
///   least `minScore`,
///
/// so a row counts as mislabelled only when the model is confident, by that class's own
/// standard, that it belongs elsewhere, and gives the given label at most 1 − `minScore`.
/// O(N·C). Both cuts, and the choice between the rules, are measurements with 5% of
/// labels flipped (docs/experiments.md).
public enum LabelIssues {
  public struct Issue: Sendable, Equatable {
    public var row: Int
    public var suggested: Int32
    public var score: Float
  }

  /// Issues by mean out-of-fold confidence (`confidence[i]`; p̂ N×C), highest score
  /// first.
  public static func find(
    confidence: [Float], probabilities p: [Float], labels: [Int32], classes c: Int,
    cut: Float = 0.13
  ) -> [Issue] {
    let scale = classMeans(labels: labels, classes: c) { confidence[$0] }
    let (margin, rival) = Miner.margins(probabilities: p, labels: labels, classes: c)
    let issues = labels.indices.filter {
      confidence[$0] < cut * scale[Int(labels[$0])] && margin[$0] < 0
    }.map { Issue(row: $0, suggested: rival[$0], score: 1 - confidence[$0]) }
    return sorted(issues)
  }

  /// Issues by confident learning, highest score first.
  public static func find(
    probabilities p: [Float], labels: [Int32], classes c: Int, minScore: Float = 0.8
  ) -> [Issue] {
    let threshold = classMeans(labels: labels, classes: c) { p[$0 * c + Int(labels[$0])] }
    var issues: [Issue] = []
    for (i, y) in labels.enumerated() {
      var best = -1
      for k in 0..<c where p[i * c + k] >= threshold[k] {
        if best < 0 || p[i * c + k] > p[i * c + best] { best = k }
      }
      if best >= 0, best != Int(y), 1 - p[i * c + Int(y)] >= minScore {
        issues.append(Issue(row: i, suggested: Int32(best), score: 1 - p[i * c + Int(y)]))
      }
    }
    return sorted(issues)
  }

  /// m_j = mean of `value(i)` over the rows i labelled j (1 for a class with no rows).
  static func classMeans(labels: [Int32], classes c: Int, _ value: (Int) -> Float) -> [Float] {
    var sum = [Double](repeating: 0, count: c)
    var count = [Int](repeating: 0, count: c)
    for (i, y) in labels.enumerated() {
      sum[Int(y)] += Double(value(i))
      count[Int(y)] += 1
    }
    return (0..<c).map { count[$0] > 0 ? Float(sum[$0] / Double(count[$0])) : 1 }
  }

  static func sorted(_ issues: [Issue]) -> [Issue] {
    issues.sorted { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
  }
}
