import Foundation

/// Calibration by one temperature T: the model's probabilities become softmax(z / T). It
/// is fitted on out-of-sample probabilities (the cross-fit folds', after the class
/// offsets): β = 1/T minimises their mean log loss
///
///   L(β) = (1/N) Σ_i [ logsumexp_k(β·s_ik) − β·s_iy ],   s_ik = ln p_ik,
///
/// which is convex in β, so a golden-section search on [1/4, 4] finds it. The model gets
/// T = max(1, √T_folds): half-way to the folds' optimum on a log scale, and only to warm.
/// The folds train shorter, on fewer rows and without mining, so they are less confident
/// than the full model: when they are over-confident (T_folds > 1) the full model is too,
/// and half the way measured best; when they are under-confident, the full model may be
/// either, and cooling it made THUCNews and R8 worse (docs/experiments.md).
/// Dividing every weight that adds to the logits (wide, dense, output bias, encoder
/// weights) by T folds it into the classifier, so every path that scores with the model
/// applies it; the arg-max is unchanged.
public enum Temperature {
  /// Whether `finetune` fits a temperature (it needs cross-fitting). The raw value is the
  /// flag's spelling.
  public enum Mode: String, Codable, Sendable, CaseIterable {
    case fitted
    case off
  }

  /// What the model file records: the temperature folded into the weights (1: none), and
  /// the folds' own optimum with their mean log loss at T = 1 and at that optimum.
  public struct Info: Codable, Sendable, Equatable {
    public var temperature: Float
    public var foldTemperature: Float
    public var foldLogLoss: Float
    public var calibratedFoldLogLoss: Float

    public init(
      temperature: Float, foldTemperature: Float, foldLogLoss: Float, calibratedFoldLogLoss: Float
    ) {
      self.temperature = temperature
      self.foldTemperature = foldTemperature
      self.foldLogLoss = foldLogLoss
      self.calibratedFoldLogLoss = calibratedFoldLogLoss
    }
  }

  /// The search interval of β = 1/T, and its tolerance.
  static let betaRange: ClosedRange<Double> = 0.25...4
  static let tolerance = 1e-4

  /// The fitted temperature of row-major N×C probabilities `p` with gold classes `y`, the
  /// class offsets o already added (s_ik = ln p_ik + o_k), with the mean log loss at T = 1
  /// and at the fit.
  public static func fit(
    probabilities p: [Float], offsets o: [Float]? = nil, labels y: [Int32], classes c: Int
  ) -> Info {
    precondition(p.count == y.count * c && c >= 2 && (o?.count ?? c) == c)
    let s = p.indices.map { Double(logf(max(p[$0], 1e-12)) + (o?[$0 % c] ?? 0)) }
    let loss = { (beta: Double) in logLoss(s, y, classes: c, beta: beta) }
    let golden = (5.0.squareRoot() - 1) / 2
    var (lo, hi) = (betaRange.lowerBound, betaRange.upperBound)
    var a = hi - golden * (hi - lo)
    var b = lo + golden * (hi - lo)
    var (la, lb) = (loss(a), loss(b))
    while hi - lo > tolerance {
      if la <= lb {
        (hi, b, lb) = (b, a, la)
        a = hi - golden * (hi - lo)
        la = loss(a)
      } else {
        (lo, a, la) = (a, b, lb)
        b = lo + golden * (hi - lo)
        lb = loss(b)
      }
    }
    let beta = (lo + hi) / 2
    let foldT = Float(1 / beta)
    return Info(
      temperature: max(1, foldT.squareRoot()), foldTemperature: foldT, foldLogLoss: Float(loss(1)),
      calibratedFoldLogLoss: Float(loss(beta)))
  }

  /// L(β) above, each logsumexp taken from its row's largest term.
  static func logLoss(_ s: [Double], _ y: [Int32], classes c: Int, beta: Double) -> Double {
    var total = 0.0
    for i in y.indices {
      let row = s[(i * c)..<(i * c + c)]
      let top = beta * row.max()!
      let sum = row.reduce(0.0) { $0 + exp(beta * $1 - top) }
      total += top + log(sum) - beta * s[i * c + Int(y[i])]
    }
    return total / Double(max(y.count, 1))
  }
}
