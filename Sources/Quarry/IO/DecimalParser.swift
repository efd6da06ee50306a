/// Parses one decimal floating-point number from `p` without reading at or past `end`:
/// `[+-]digits[.digits][(e|E)[+-]digits]`. The significand's first 19 digits are kept
/// exactly in a UInt64 and scaled by a power of ten in Double, then rounded once to Float,
/// so values written with up to 9 significant digits (as float32 round-trips) come back
/// bit-exact but for rare double-rounding ties. Returns nil on anything else ("nan",
/// "inf", hex), which the caller reports. O(length).
@inline(__always)
func parseDecimal(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> (
  Float, UnsafePointer<UInt8>
)? {
  var q = p
  var negative = false
  if q < end, q.pointee == 0x2D || q.pointee == 0x2B {
    negative = q.pointee == 0x2D
    q += 1
  }
  var mantissa: UInt64 = 0
  var digits = 0
  var scale = 0
  var any = false
  while q < end, q.pointee &- 0x30 < 10 {
    if digits < 19 {
      mantissa = mantissa &* 10 &+ UInt64(q.pointee &- 0x30)
      if mantissa != 0 { digits += 1 }
    } else {
      scale += 1
    }
    any = true
    q += 1
  }
  if q < end, q.pointee == 0x2E {
    q += 1
    while q < end, q.pointee &- 0x30 < 10 {
      if digits < 19 {
        mantissa = mantissa &* 10 &+ UInt64(q.pointee &- 0x30)
        if mantissa != 0 { digits += 1 }
        scale -= 1
      }
      any = true
      q += 1
    }
  }
  guard any else { return nil }
  if q < end, q.pointee == 0x65 || q.pointee == 0x45 {
    var r = q + 1
    var expNegative = false
    if r < end, r.pointee == 0x2D || r.pointee == 0x2B {
      expNegative = r.pointee == 0x2D
      r += 1
    }
    var e = 0
    var expDigits = false
    while r < end, r.pointee &- 0x30 < 10 {
      if e < 10_000 { e = e * 10 + Int(r.pointee &- 0x30) }
      expDigits = true
      r += 1
    }
    guard expDigits else { return nil }
    scale += expNegative ? -e : e
    q = r
  }
  var v = Double(mantissa)
  if scale != 0 && mantissa != 0 {
    if scale > 0 {
      v *= scale <= 22 ? powersOfTen[scale] : power(10.0, scale)
    } else {
      v /= -scale <= 22 ? powersOfTen[-scale] : power(10.0, -scale)
    }
  }
  let f = Float(negative ? -v : v)
  return (f, q)
}

private let powersOfTen: [Double] = (0...22).map { power(10.0, $0) }
