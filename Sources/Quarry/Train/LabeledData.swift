/// Featurized documents with their gold class indices: one class a row (`labels`), and for
/// a multi-label corpus every class of each row (`labelSets`, whose first entry is
/// `labels`' own).
public struct LabeledData: Sendable {
  public var features: FeatureMatrix
  public var labels: [Int32]
  /// Each row's classes, when the data is multi-label; nil for single-label data.
  public var labelSets: [[Int32]]?

  public init(features: FeatureMatrix, labels: [Int32]) {
    precondition(features.count == labels.count)
    self.features = features
    self.labels = labels
    self.labelSets = nil
  }

  /// Multi-label data: `labels` are the first class of each set.
  public init(features: FeatureMatrix, labelSets: [[Int32]]) {
    precondition(features.count == labelSets.count && labelSets.allSatisfy { !$0.isEmpty })
    self.features = features
    self.labels = labelSets.map { $0[0] }
    self.labelSets = labelSets
  }

  public var count: Int { labels.count }

  /// The rows `rows` (indices into this data), in that order.
  public func subset(_ rows: [Int]) -> LabeledData {
    var out = LabeledData(features: features.rows(rows), labels: rows.map { labels[$0] })
    out.labelSets = labelSets.map { sets in rows.map { sets[$0] } }
    return out
  }

  /// Appends the rows of `other` (both single-label, or both multi-label).
  public mutating func append(_ other: LabeledData) {
    precondition((labelSets == nil) == (other.labelSets == nil))
    features.append(contentsOf: other.features)
    labels += other.labels
    if labelSets != nil { labelSets! += other.labelSets! }
  }

  /// How many rows carry each of `classes` classes (every class of a row counts).
  public func classCounts(classes: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: classes)
    if let labelSets {
      for set in labelSets { for y in set { counts[Int(y)] += 1 } }
    } else {
      for y in labels { counts[Int(y)] += 1 }
    }
    return counts
  }
}
