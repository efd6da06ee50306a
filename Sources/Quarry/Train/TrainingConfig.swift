/// Every setting of a training run, flat and Codable: stored in the model file as is.
public struct TrainingConfig: Codable, Sendable, Equatable {
  public var features = FeatureConfig()
  /// Features seen in fewer training documents than this are dropped.
  public var minCount = 1
  /// Embedding width when no pretrained file gives one.
  public var dim = 50
  public var epochs = 20
  /// Per-example learning rate of the wide part and the dense layer; decays linearly to 0.
  public var learningRate: Float = 0.5
  /// Learning rate of the embedding rows, as a multiple of `learningRate`.
  public var embeddingLRScale: Float = 1
  public var batchSize = 32
  /// Class weights: "balanced" (w_c = N / (C·n_c)), "sqrt" (its square root) or "none".
  public var classWeighting = "balanced"
  /// Share of the training corpus held out for choosing the best epoch, when no
  /// validation file is given (0 keeps every row for training and the last epoch).
  public var validFraction: Float = 0.1
  public var seed: UInt64 = 1
  public var threads = 2

  public init() {}
}
