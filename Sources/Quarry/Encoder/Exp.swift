/// A branch-free float32 exponential for the softmax, which vectorises (libm's `expf` does
/// not). With n = round(x / ln 2) and r = x − n·ln 2 (ln 2 split in two parts so r is
/// exact), eˣ = 2ⁿ · eʳ, where eʳ on |r| ≤ ln 2 / 2 is 1 + r + r²·P(r), P of degree 5
/// (Cephes' `expf` coefficients), and 2ⁿ is built from its exponent bits. x is clamped to
/// [−87, 88], so the result is never 0 or ∞ (e⁻⁸⁷ ≈ 1.6e-38 stands for anything smaller).
/// Within 1e-7 relative of the true function.
enum Exp {
  @inline(__always)
  static func value(_ v: Float) -> Float {
    let x = min(max(v, -87), 88)
    // Round to nearest by adding and subtracting 1.5·2²³ (no libm call, so it vectorises).
    let n = (x * 1.442_695_040_888_963_4 + 12_582_912) - 12_582_912
    var r = x - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p: Float = 1.987_569_150_0e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let e = p * r * r + r + 1
    return e * Float(bitPattern: UInt32(truncatingIfNeeded: Int32(n) + 127) << 23)
  }
}
