/// Everything the training loop carries from one epoch to the next. A run restarted from
/// the state after epoch `epoch` goes on exactly as if it had not stopped: the next
/// epoch's shuffle continues `rngState` from `order`, the learning rate continues from
/// `step`, and the miner's scores are recomputed from `model` (a pure function of it).
public struct TrainerState: Sendable, Equatable {
  /// Epochs completed.
  public var epoch: Int
  public var model: Classifier
  /// The shuffling generator's state after the last epoch.
  public var rngState: UInt64
  /// The order of the last epoch (each epoch shuffles the previous order in place).
  public var order: [Int32]
  /// SGD steps taken (the linear learning-rate decay counts them).
  public var step: Int
  public var summaries: [EpochSummary]
  /// The epoch with the lowest validation loss so far, when there is a validation set.
  public var best: Best?
  public var dynamics: Dynamics
  /// The base learning rate the run trains at: the configured one, or less after a
  /// restart (`Trainer.maxRestarts`). nil in a checkpoint from before it was stored.
  public var learningRate: Float?

  public struct Best: Sendable, Equatable {
    public var model: Classifier
    public var epoch: Int
    public var loss: Float
  }

  public init(
    epoch: Int, model: Classifier, rngState: UInt64, order: [Int32], step: Int,
    summaries: [EpochSummary], best: Best?, dynamics: Dynamics, learningRate: Float? = nil
  ) {
    self.learningRate = learningRate
    self.epoch = epoch
    self.model = model
    self.rngState = rngState
    self.order = order
    self.step = step
    self.summaries = summaries
    self.best = best
    self.dynamics = dynamics
  }
}
