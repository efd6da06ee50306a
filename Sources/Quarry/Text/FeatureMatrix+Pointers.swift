/// One sparse part of a `FeatureMatrix` as the kernels read it (compressed sparse rows):
/// document d's entries are `rows[starts[d]..<starts[d+1]]` with `values` beside them.
public struct SparsePointers {
  public let starts: UnsafePointer<Int>
  public let rows: UnsafePointer<Int32>
  public let values: UnsafePointer<Float>
}

extension FeatureMatrix {
  /// Runs `body` with the embedding bag's and the wide part's pointers, which are valid
  /// only inside it: the six array accesses that every batched kernel call needs.
  public func withSparsePointers<R>(
    _ body: (_ bag: SparsePointers, _ wide: SparsePointers) throws -> R
  ) rethrows -> R {
    try bagStart.withUnsafeBufferPointer { bs in
      try bagRows.withUnsafeBufferPointer { br in
        try bagWeights.withUnsafeBufferPointer { bw in
          try wideStart.withUnsafeBufferPointer { ws in
            try wideRows.withUnsafeBufferPointer { wr in
              try wideValues.withUnsafeBufferPointer { wv in
                try body(
                  SparsePointers(starts: bs.base, rows: br.base, values: bw.base),
                  SparsePointers(starts: ws.base, rows: wr.base, values: wv.base))
              }
            }
          }
        }
      }
    }
  }
}
