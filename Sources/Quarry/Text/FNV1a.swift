/// FNV-1a, 64-bit: h₀ = 14695981039346656037, hᵢ = (hᵢ₋₁ ⊕ byteᵢ) · 1099511628211 (mod 2⁶⁴).
///
/// Used for every feature key (words, word n-grams, character n-grams), so that a word's
/// key is the same whether it came from a corpus or a pretrained-vector file.
public enum FNV1a {
  public static let offsetBasis: UInt64 = 14_695_981_039_346_656_037
  public static let prime: UInt64 = 1_099_511_628_211

  /// One round: the hash of the bytes so far, `h`, followed by `byte`.
  @inlinable @inline(__always)
  public static func step(_ h: UInt64, _ byte: UInt8) -> UInt64 { (h ^ UInt64(byte)) &* prime }

  /// Hash of `bytes[range]`, continuing from `seed`. O(n).
  @inlinable
  public static func hash(
    _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, seed: UInt64 = offsetBasis
  ) -> UInt64 {
    var h = seed
    for i in range {
      h = step(h, bytes[i])
    }
    return h
  }

  /// Hash of a whole byte sequence.
  public static func hash<S: Sequence>(_ bytes: S, seed: UInt64 = offsetBasis) -> UInt64
  where S.Element == UInt8 {
    var h = seed
    for b in bytes { h = step(h, b) }
    return h
  }

  /// Mixes a second key into a first one, as fastText combines word hashes into an
  /// n-gram hash: h = h₁ · 116049371 + h₂, then one FNV round with a tag byte so
  /// that n-grams of different orders and kinds never share keys by construction.
  @inlinable
  public static func combine(_ h1: UInt64, _ h2: UInt64, tag: UInt8) -> UInt64 {
    ((h1 &* 116_049_371 &+ h2) ^ UInt64(tag)) &* prime
  }
}
