/// One compressed-sparse-row part of a feature matrix, as the kernels read it: document
/// d's entries are `rows[starts[d]..<starts[d+1]]`, each with its value beside it.
public struct CSRView {
  public let starts: UnsafePointer<Int>
  public let rows: UnsafePointer<Int32>
  public let values: UnsafePointer<Float>

  public init(starts: UnsafePointer<Int>, rows: UnsafePointer<Int32>, values: UnsafePointer<Float>)
  {
    self.starts = starts
    self.rows = rows
    self.values = values
  }

  /// The range of document `d`'s entries.
  @inline(__always) public func entries(of d: Int) -> Range<Int> { starts[d]..<starts[d + 1] }
}

/// A `FeatureMatrix` as the kernels read it, valid only inside `FeatureMatrix.withView`:
/// the wide part (tf-idf values), the embedding bag (word weights), and the dense rows
/// (count × `denseDim`, an encoder's pooled vectors; `denseDim` 0 when there are none).
public struct FeatureView {
  public let wide: CSRView
  public let bag: CSRView
  public let dense: UnsafePointer<Float>
  public let denseDim: Int
}
