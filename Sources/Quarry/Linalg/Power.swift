/// xⁿ for a non-negative integer n by repeated squaring: ⌈log₂ n⌉ squarings and at most as
/// many products, no libm call, the same bits on every machine.
@inline(__always)
func power<T: BinaryFloatingPoint>(_ x: T, _ n: Int) -> T {
  var result: T = 1
  var base = x
  var e = n
  while e > 0 {
    if e & 1 == 1 { result *= base }
    base *= base
    e >>= 1
  }
  return result
}
