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

  public struct Best: Sendable, Equatable {
    public var model: Classifier
    public var epoch: Int
    public var loss: Float

    public init(model: Classifier, epoch: Int, loss: Float) {
      self.model = model
      self.epoch = epoch
      self.loss = loss
    }
  }

  public init(
    epoch: Int, model: Classifier, rngState: UInt64, order: [Int32], step: Int,
    summaries: [EpochSummary], best: Best?, dynamics: Dynamics
  ) {
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

extension Trainer {
  /// How a run may start from a saved state, save its state after epochs, and be asked to
  /// stop (checked before every batch).
  public struct Control {
    public var resume: TrainerState?
    /// Called with the state after every epoch; it may save it in the background.
    public var checkpoint: ((TrainerState) throws -> Void)?
    /// Called when training ends, however it ends: waits for the last save.
    public var finish: () throws -> Void
    /// Called first when training ends early (a stop, or an error): saves the state after
    /// the last whole epoch, if `checkpoint` kept it without writing it.
    public var stopped: () throws -> Void
    public var shouldStop: () -> Bool

    public init(
      resume: TrainerState? = nil, checkpoint: ((TrainerState) throws -> Void)? = nil,
      finish: @escaping () throws -> Void = {}, stopped: @escaping () throws -> Void = {},
      shouldStop: @escaping () -> Bool = { false }
    ) {
      self.resume = resume
      self.checkpoint = checkpoint
      self.finish = finish
      self.stopped = stopped
      self.shouldStop = shouldStop
    }
  }
}
