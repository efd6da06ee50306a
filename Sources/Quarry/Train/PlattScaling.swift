import Foundation

/// Per-class Platt scaling of a one-vs-rest (multi-label) model, fitted on out-of-sample
/// scores: for class c, with z = logit(p_c) the folds' logit of a row,
///   p'_c = σ(a_c · z + b_c),
/// (a_c, b_c) minimising the binary log loss against Platt's smoothed targets,
/// (n₊ + 1)/(n₊ + 2) for a row carrying c and 1/(n₋ + 2) for one without, by Newton's
/// method from (1, 0) with step halving (a is kept in [`minScale`, `maxScale`]). The map
/// is increasing, so a class's ranking, and with its threshold mapped the same way its
/// predictions, do not change.
///
/// a never exceeds 1: the map softens or shifts, never sharpens. The folds train half the
/// model's epochs on three quarters of its rows and are the less confident; an a above 1
/// fitted on them sharpened a model of a small keyword corpus until every label it printed
/// read 1.0000 (as the temperature only warms: `Temperature`).
public enum PlattScaling {
  public static let minScale: Float = 0.05
  public static let maxScale: Float = 1

  /// What the model file stores: each class's (a, b), already folded into the weights,
  /// and the folds' mean summed binary log loss before and after.
  public struct Info: Codable, Sendable, Equatable {
    public var scales: [Float]
    public var shifts: [Float]
    public var foldLogLoss: Float
    public var calibratedFoldLogLoss: Float
  }

  public static func fit(probabilities p: [Float], labelSets: [[Int32]], classes c: Int)
    -> Info
  {
    let n = labelSets.count
    var carries = [[Bool]](repeating: [Bool](repeating: false, count: n), count: c)
    for (i, set) in labelSets.enumerated() { for y in set { carries[Int(y)][i] = true } }
    var scales = [Float](repeating: 1, count: c)
    var shifts = [Float](repeating: 0, count: c)
    for k in 0..<c {
      let z = (0..<n).map { Double(logit(p[$0 * c + k])) }
      let positives = Double(carries[k].filter { $0 }.count)
      let hi = (positives + 1) / (positives + 2)
      let lo = 1 / (Double(n) - positives + 2)
      let t = carries[k].map { $0 ? hi : lo }
      let (a, b) = newton(z: z, targets: t)
      scales[k] = Float(a)
      shifts[k] = Float(b)
    }
    let calibrated = apply(p, scales: scales, shifts: shifts)
    return Info(
      scales: scales, shifts: shifts,
      foldLogLoss: MultiLabelMetrics.logLoss(p, gold: labelSets, classes: c),
      calibratedFoldLogLoss: MultiLabelMetrics.logLoss(calibrated, gold: labelSets, classes: c))
  }

  /// σ(a_c · logit(p) + b_c) of every entry of row-major N×C probabilities.
  public static func apply(_ p: [Float], scales: [Float], shifts: [Float]) -> [Float] {
    let c = scales.count
    return p.indices.map { i in
      let k = i % c
      return sigmoid(scales[k] * logit(p[i]) + shifts[k])
    }
  }

  /// ln(p / (1 − p)), p clamped to [1e-7, 1 − 1e-7].
  public static func logit(_ p: Float) -> Float {
    let q = min(max(p, 1e-7), 1 - 1e-7)
    return logf(q / (1 - q))
  }

  public static func sigmoid(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
  }

  /// (a, b) minimising Σ_i −[t_i ln σ(a z_i + b) + (1 − t_i) ln(1 − σ(a z_i + b))].
  static func newton(z: [Double], targets t: [Double]) -> (Double, Double) {
    func loss(_ a: Double, _ b: Double) -> Double {
      var s = 0.0
      for (zi, ti) in zip(z, t) {
        let x = a * zi + b
        // −[t ln σ(x) + (1 − t) ln σ(−x)] = softplus(x) − t·x
        s += max(x, 0) + log1p(exp(-abs(x))) - ti * x
      }
      return s
    }
    var (a, b) = (1.0, 0.0)
    var current = loss(a, b)
    for _ in 0..<30 {
      var (ga, gb, haa, hab, hbb) = (0.0, 0.0, 0.0, 0.0, 0.0)
      for (zi, ti) in zip(z, t) {
        let x = a * zi + b
        let q = x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
        let r = q - ti
        let w = max(q * (1 - q), 1e-12)
        ga += r * zi
        gb += r
        haa += w * zi * zi
        hab += w * zi
        hbb += w
      }
      let det = haa * hbb - hab * hab
      guard det > 1e-12 else { break }
      var da = -(hbb * ga - hab * gb) / det
      var db = -(haa * gb - hab * ga) / det
      var step = false
      for _ in 0..<20 {
        let na = min(max(a + da, Double(minScale)), Double(maxScale))
        let nb = b + db
        let l = loss(na, nb)
        if l < current {
          (a, b, current) = (na, nb, l)
          step = true
          break
        }
        da /= 2
        db /= 2
      }
      if !step || abs(da) + abs(db) < 1e-7 { break }
    }
    return (a, b)
  }
}
