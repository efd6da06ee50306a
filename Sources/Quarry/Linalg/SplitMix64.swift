/// SplitMix64 (Steele, Lea, Flood 2014): a seeded 64-bit generator, so that every random
/// choice in Quarry (initialisation, shuffling, splits) is a function of the seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public private(set) var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1), 24 bits.
  public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// A seeded Fisher–Yates shuffle (the standard library's shuffle is not specified to be
  /// stable across releases, this is).
  public mutating func shuffle<T>(_ a: inout [T]) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
      let j = Int(next() % UInt64(i + 1))
      a.swapAt(i, j)
    }
  }
}
