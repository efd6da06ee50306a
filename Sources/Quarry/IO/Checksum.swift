/// A fast 64-bit checksum over bytes, eight at a time: h ← (h ⊕ w) · p, then a rotation,
/// over little-endian 64-bit words w, the tail bytes folded in one by one, and the length
/// mixed in last. Each step is a bijection of h for a fixed word, so changing any one
/// word (any bit flip inside it) always changes the result. Not cryptographic.
public enum Checksum {
  public static func of(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBufferPointer { of(UnsafeRawBufferPointer($0)) }
  }

  public static func of(_ raw: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    let p: UInt64 = 0x9E37_79B9_7F4A_7C15
    let n = raw.count
    let words = n / 8
    for i in 0..<words {
      let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
      h = (h ^ w) &* p
      h = (h << 31) | (h >> 33)
    }
    for i in (words * 8)..<n {
      h = (h ^ UInt64(raw[i])) &* p
    }
    h ^= UInt64(n)
    h = (h ^ (h >> 32)) &* p
    return h ^ (h >> 29)
  }

  /// The same checksum over bytes that arrive in pieces: `Checksum.Stream` fed the pieces
  /// of `b` in order finishes with `Checksum.of(b)`.
  public struct Stream {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    var count = 0
    var pending: [UInt8] = []

    public init() {}

    public mutating func update(_ raw: UnsafeRawBufferPointer) {
      let p: UInt64 = 0x9E37_79B9_7F4A_7C15
      var i = 0
      count += raw.count
      while !pending.isEmpty && pending.count < 8 && i < raw.count {
        pending.append(raw[i])
        i += 1
      }
      if pending.count == 8 {
        let w = pending.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        h = (h ^ w) &* p
        h = (h << 31) | (h >> 33)
        pending.removeAll(keepingCapacity: true)
      }
      while i + 8 <= raw.count {
        let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        h = (h ^ w) &* p
        h = (h << 31) | (h >> 33)
        i += 8
      }
      while i < raw.count {
        pending.append(raw[i])
        i += 1
      }
    }

    public func finish() -> UInt64 {
      let p: UInt64 = 0x9E37_79B9_7F4A_7C15
      var h = self.h
      for b in pending { h = (h ^ UInt64(b)) &* p }
      h ^= UInt64(count)
      h = (h ^ (h >> 32)) &* p
      return h ^ (h >> 29)
    }
  }
}
