/// Featurized documents with their gold class indices.
public struct LabeledData: Sendable {
  public var features: FeatureMatrix
  public var labels: [Int32]

  public init(features: FeatureMatrix, labels: [Int32]) {
    precondition(features.count == labels.count)
    self.features = features
    self.labels = labels
  }

  public var count: Int { labels.count }

  /// The rows `rows` (indices into this data), in that order.
  public func subset(_ rows: [Int]) -> LabeledData {
    LabeledData(features: features.rows(rows), labels: rows.map { labels[$0] })
  }

  /// Appends the rows of `other`.
  public mutating func append(_ other: LabeledData) {
    features.append(contentsOf: other.features)
    labels += other.labels
  }
}
