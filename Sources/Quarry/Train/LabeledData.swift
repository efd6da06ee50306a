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
}
