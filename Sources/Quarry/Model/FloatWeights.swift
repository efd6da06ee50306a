/// A weight tensor that is either owned (an array) or read in place from a mapped model
/// file: loading a large wide part then costs the page faults of the rows a prediction
/// touches, not a copy of the whole tensor. Reading never copies; the first write (or a
/// request for `values`' array) copies a mapped tensor out, after which it is owned.
///
/// A mapped tensor reads the file's pages as they are: the file must not be rewritten in
/// place while it is loaded. Quarry's own writes replace a file by renaming a new one over
/// it, which leaves a loaded model on the old file's pages.
public struct FloatWeights: Sendable, Equatable {
  private var owned: [Float]
  private var mapped: MappedFloats?

  public init(_ values: [Float]) {
    owned = values
    mapped = nil
  }

  init(_ mapped: MappedFloats) {
    owned = []
    self.mapped = mapped
  }

  public var count: Int { mapped?.count ?? owned.count }

  /// Whether the values are read in place from a mapped file.
  public var isMapped: Bool { mapped != nil }

  /// The values as an array: a copy when mapped; `_modify` makes them owned first.
  public var values: [Float] {
    get { mapped?.array ?? owned }
    set {
      owned = newValue
      mapped = nil
    }
    _modify {
      makeOwned()
      yield &owned
    }
  }

  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R)
    rethrows -> R
  {
    if let mapped {
      return try withExtendedLifetime(mapped) {
        try body(UnsafeBufferPointer(start: mapped.start, count: mapped.count))
      }
    }
    return try owned.withUnsafeBufferPointer(body)
  }

  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    makeOwned()
    return try owned.withUnsafeMutableBufferPointer(body)
  }

  /// Copies mapped values into an owned array (once); owned values stay as they are.
  private mutating func makeOwned() {
    guard let mapped else { return }
    owned = mapped.array
    self.mapped = nil
  }

  /// Equal values, wherever they live.
  public static func == (a: FloatWeights, b: FloatWeights) -> Bool {
    a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in x.elementsEqual(y) }
    }
  }
}

/// `count` floats at `start` inside a mapped file, which this object keeps mapped.
final class MappedFloats: @unchecked Sendable {
  let file: MappedFile
  let start: UnsafePointer<Float>
  let count: Int

  init(file: MappedFile, start: UnsafePointer<Float>, count: Int) {
    self.file = file
    self.start = start
    self.count = count
  }

  /// The floats, copied.
  var array: [Float] { Array(UnsafeBufferPointer(start: start, count: count)) }
}
