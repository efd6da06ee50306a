import COpenBLAS

/// An open-addressing hash table from 64-bit feature keys to dense rows 0..<count.
///
/// Capacity is a power of two at least twice the count; key 0 marks an empty slot (a real
/// key of 0 is stored as 1, a collision of probability 2⁻⁶⁴). Lookups are O(1) expected,
/// and the two arrays are stored in the model file as they are, so loading builds nothing.
public struct FeatureIndex: Sendable, Equatable {
  public private(set) var slotKeys: [UInt64]
  public private(set) var slotRows: [Int32]
  public private(set) var count: Int

  public init(capacity: Int = 1024) {
    var cap = 16
    while cap < capacity * 2 { cap <<= 1 }
    slotKeys = Array(repeating: 0, count: cap)
    slotRows = Array(repeating: -1, count: cap)
    count = 0
  }

  /// Rebuilds a table from stored slots; fails when the arrays cannot be a table.
  public init?(slotKeys: [UInt64], slotRows: [Int32], count: Int) {
    let cap = slotKeys.count
    guard cap >= 16, cap & (cap - 1) == 0, slotRows.count == cap, count >= 0, count * 2 <= cap
    else { return nil }
    var filled = 0
    for s in 0..<cap where slotKeys[s] != 0 {
      let r = slotRows[s]
      guard r >= 0, Int(r) < count else { return nil }
      filled += 1
    }
    guard filled == count else { return nil }
    self.slotKeys = slotKeys
    self.slotRows = slotRows
    self.count = count
    // Every row once, and every key where probing finds it.
    var seen = [Bool](repeating: false, count: count)
    for s in 0..<cap where slotKeys[s] != 0 {
      let r = Int(slotRows[s])
      guard !seen[r], row(slotKeys[s]) == slotRows[s] else { return nil }
      seen[r] = true
    }
  }

  @inline(__always) static func stored(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

  @inline(__always) static func slot(_ key: UInt64, _ mask: Int) -> Int {
    Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9) >> 32) & mask
  }

  /// The row of `key`, or -1.
  @inline(__always)
  public func row(_ key: UInt64) -> Int32 {
    let k = FeatureIndex.stored(key)
    let mask = slotKeys.count - 1
    var s = FeatureIndex.slot(k, mask)
    while true {
      let sk = slotKeys[s]
      if sk == k { return slotRows[s] }
      if sk == 0 { return -1 }
      s = (s + 1) & mask
    }
  }

  /// Starts loading the slot where a probe for `key` begins, so that `row(key)` a little
  /// later finds it in cache: the table is megabytes, and the keys of a text land in it
  /// at random, so a lookup issued on its own waits for memory.
  @inline(__always)
  public func prefetch(_ key: UInt64) {
    let s = FeatureIndex.slot(FeatureIndex.stored(key), slotKeys.count - 1)
    slotKeys.withUnsafeBufferPointer { quarry_prefetch($0.baseAddress! + s) }
  }

  /// The row of `key`, inserting it as row `count` when absent.
  @discardableResult
  public mutating func insert(_ key: UInt64) -> (row: Int32, inserted: Bool) {
    if (count + 1) * 2 > slotKeys.count { grow() }
    let k = FeatureIndex.stored(key)
    let mask = slotKeys.count - 1
    var s = FeatureIndex.slot(k, mask)
    while true {
      let sk = slotKeys[s]
      if sk == k { return (slotRows[s], false) }
      if sk == 0 {
        slotKeys[s] = k
        slotRows[s] = Int32(count)
        count += 1
        return (Int32(count - 1), true)
      }
      s = (s + 1) & mask
    }
  }

  private mutating func grow() {
    var bigger = FeatureIndex(capacity: slotKeys.count)
    bigger.slotKeys = Array(repeating: 0, count: slotKeys.count * 2)
    bigger.slotRows = Array(repeating: -1, count: slotKeys.count * 2)
    let mask = bigger.slotKeys.count - 1
    for s in 0..<slotKeys.count where slotKeys[s] != 0 {
      var t = FeatureIndex.slot(slotKeys[s], mask)
      while bigger.slotKeys[t] != 0 { t = (t + 1) & mask }
      bigger.slotKeys[t] = slotKeys[s]
      bigger.slotRows[t] = slotRows[s]
    }
    bigger.count = count
    self = bigger
  }
}
