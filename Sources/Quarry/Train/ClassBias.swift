import Foundation

/// Per-class offsets b on the logits, fitted on out-of-sample probabilities (the
/// cross-fit folds') to raise macro-F1. The model then predicts argmax_k (z_k + b_k) with
/// probabilities softmax(z + b): a shift of the class priors, which the classifier's
/// output bias absorbs, so that `predict`, `evaluate`, `serve` and the C library all
/// apply it without knowing of it. Since ln p_k = z_k − logsumexp(z), the same b added to
/// the folds' ln p_k gives the decision b would give them.
///
/// The fit is coordinate ascent on the folds' macro-F1 (as `Metrics` defines it):
/// `rounds` passes over the classes in order, each b_k set to the value of `grid` with the
/// highest macro-F1 while the others stay fixed (a move must raise it; the lowest such
/// value wins ties). The offsets are kept only when they raise the folds' macro-F1 by at
/// least `minimumGain`, and then added at `shrink` times their size: each fold's model
/// saw (K − 1)/K of the rows, so it under-rates a small class more than the model trained
/// on all of them. The measurements behind the three constants are in
/// docs/experiments.md.
public enum ClassBias {
  /// −1.5, −1.25, …, 1.5.
  public static let grid: [Float] = (-6...6).map { Float($0) / 4 }
  public static let rounds = 3
  public static let shrink: Float = 0.5
  public static let minimumGain: Float = 0.05

  /// Whether `finetune` fits class offsets (it needs cross-fitting). The raw value is the
  /// flag's spelling.
  public enum Mode: String, Codable, Sendable, CaseIterable {
    case tuned
    case off
  }

  /// What the model file records of a fit that was kept.
  public struct Info: Codable, Sendable, Equatable {
    /// What was added to each class's logit: `shrink` × the fitted b.
    public var offsets: [Float]
    /// The folds' macro-F1 by arg-max, and with the fitted b.
    public var foldMacroF1: Float
    public var tunedFoldMacroF1: Float

    public init(offsets: [Float], foldMacroF1: Float, tunedFoldMacroF1: Float) {
      self.offsets = offsets
      self.foldMacroF1 = foldMacroF1
      self.tunedFoldMacroF1 = tunedFoldMacroF1
    }
  }

  /// The fitted offsets b of row-major N×C probabilities `p` with gold classes `y`, and
  /// the folds' macro-F1 before and after.
  public struct Fit: Sendable, Equatable {
    public var offsets: [Float]
    public var before: Float
    public var after: Float

    /// Whether the fit raised the folds' macro-F1 by at least `minimumGain`.
    public var kept: Bool { after - before >= ClassBias.minimumGain }

    /// What the model records: the offsets at `shrink` times their size.
    public var info: Info {
      Info(
        offsets: offsets.map { $0 * ClassBias.shrink }, foldMacroF1: before, tunedFoldMacroF1: after
      )
    }
  }

  /// Coordinate ascent as above. Every row keeps its two best classes under s + b
  /// (s = ln p): the best class other than k is then one of them, and a candidate b_k
  /// costs O(N + C). Moving b_k rescans only the rows whose two best it can change, so a
  /// pass costs O(N·C) for the top-two upkeep and O(C·|grid|·(N + C)) for the candidates.
  public static func fit(probabilities p: [Float], labels y: [Int32], classes c: Int) -> Fit {
    let n = y.count
    precondition(p.count == n * c && c >= 2)
    let s = p.map { logf(max($0, 1e-12)) }
    var gold = [Int](repeating: 0, count: c)
    for g in y { gold[Int(g)] += 1 }
    var b = [Float](repeating: 0, count: c)
    var top = (0..<n).map { TopTwo(row: s[($0 * c)..<($0 * c + c)], offsets: b) }
    var predicted = top.map { Int32($0.first) }
    let before = macroF1(predicted: predicted, gold: y, goldCounts: gold)
    var current = before
    for _ in 0..<rounds {
      for k in 0..<c {
        var chosen = (value: current, offset: b[k])
        for g in grid where g != b[k] {
          for i in 0..<n {
            let o = top[i].first == k ? top[i].second : top[i].first
            let other = s[i * c + o] + b[o]
            let v = s[i * c + k] + g
            predicted[i] = v > other || (v == other && k < o) ? Int32(k) : Int32(o)
          }
          let m = macroF1(predicted: predicted, gold: y, goldCounts: gold)
          if m > chosen.value + 1e-6 { chosen = (m, g) }
        }
        guard chosen.offset != b[k] else { continue }
        b[k] = chosen.offset
        current = chosen.value
        for i in 0..<n
        where top[i].first == k || top[i].second == k
          || s[i * c + k] + b[k] >= s[i * c + top[i].second] + b[top[i].second]
        {
          top[i] = TopTwo(row: s[(i * c)..<(i * c + c)], offsets: b)
        }
      }
    }
    return Fit(offsets: b, before: before, after: current)
  }

  /// The best and second-best class of one row under s + b (ties: the lower class first).
  struct TopTwo {
    var first: Int
    var second: Int

    init(row s: ArraySlice<Float>, offsets b: [Float]) {
      let base = s.startIndex
      var (first, second) = (-1, -1)
      var (v1, v2) = (-Float.infinity, -Float.infinity)
      for j in 0..<b.count {
        let v = s[base + j] + b[j]
        if first < 0 || v > v1 {
          (second, v2) = (first, v1)
          (first, v1) = (j, v)
        } else if second < 0 || v > v2 {
          (second, v2) = (j, v)
        }
      }
      (self.first, self.second) = (first, second)
    }
  }

  /// `Metrics.macroF1` from counts: F1_k = 2·TP_k / (gold_k + predicted_k), averaged over
  /// the classes with any gold or predicted row.
  static func macroF1(predicted: [Int32], gold y: [Int32], goldCounts: [Int]) -> Float {
    let c = goldCounts.count
    var tp = [Int](repeating: 0, count: c)
    var pred = [Int](repeating: 0, count: c)
    for (p, g) in zip(predicted, y) {
      pred[Int(p)] += 1
      if p == g { tp[Int(p)] += 1 }
    }
    var sum: Float = 0
    var present = 0
    for k in 0..<c where goldCounts[k] + pred[k] > 0 {
      sum += 2 * Float(tp[k]) / Float(goldCounts[k] + pred[k])
      present += 1
    }
    return present > 0 ? sum / Float(present) : 0
  }
}
