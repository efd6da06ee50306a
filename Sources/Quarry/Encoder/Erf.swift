/// A branch-free float32 error function, erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt, as the rational
/// approximation x·P(x²) / Q(x²) on x clamped to [−4, 4] (outside it erf is ±1 in float32),
/// with P of degree 6 and Q of degree 4 in x² (the coefficients Eigen uses for `erf`).
/// Within 5e-7 of the true function everywhere; it vectorises, unlike libm's `erff`.
enum Erf {
  @inline(__always)
  static func value(_ v: Float) -> Float {
    let x = min(max(v, -4), 4)
    let x2 = x * x
    var p: Float = -2.726_142_258_013_06e-10
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 - 2.101_024_020_825_08e-06
    p = p * x2 - 5.692_506_394_623_46e-05
    p = p * x2 - 7.349_906_303_268_55e-04
    p = p * x2 - 2.954_599_808_540_25e-03
    p = p * x2 - 1.609_603_332_624_15e-02
    var q: Float = -1.456_607_184_649_96e-05
    q = q * x2 - 2.133_740_552_789_05e-04
    q = q * x2 - 1.682_826_974_382_03e-03
    q = q * x2 - 7.373_329_167_204_68e-03
    q = q * x2 - 1.426_473_905_141_89e-02
    return x * p / q
  }
}
