/// A dense row-major float32 matrix: element (i, j) is `values[i * cols + j]`.
public struct Matrix: Sendable, Equatable {
  public var rows: Int
  public var cols: Int
  public var values: [Float]

  public init(rows: Int, cols: Int, values: [Float]) {
    precondition(values.count == rows * cols, "Matrix: \(values.count) values for \(rows)×\(cols)")
    self.rows = rows
    self.cols = cols
    self.values = values
  }

  public init(rows: Int, cols: Int, repeating v: Float = 0) {
    self.init(rows: rows, cols: cols, values: Array(repeating: v, count: rows * cols))
  }

  /// Uniform in [−scale, scale), from a seeded generator.
  public init(rows: Int, cols: Int, uniform scale: Float, rng: inout SplitMix64) {
    var v = [Float](repeating: 0, count: rows * cols)
    for i in v.indices { v[i] = (rng.nextUnitFloat() * 2 - 1) * scale }
    self.init(rows: rows, cols: cols, values: v)
  }

  public subscript(i: Int, j: Int) -> Float {
    get { values[i * cols + j] }
    set { values[i * cols + j] = newValue }
  }

  public func row(_ i: Int) -> ArraySlice<Float> { values[(i * cols)..<((i + 1) * cols)] }
}
