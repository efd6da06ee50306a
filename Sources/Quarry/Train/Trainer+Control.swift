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
    /// Called with the model as it is after every epoch (before any best-epoch choice);
    /// after a restart (`Trainer.maxRestarts`) the epochs count from 1 again.
    public var afterEpoch: ((_ epoch: Int, _ model: Classifier) -> Void)?

    public init(
      resume: TrainerState? = nil, checkpoint: ((TrainerState) throws -> Void)? = nil,
      finish: @escaping () throws -> Void = {}, stopped: @escaping () throws -> Void = {},
      shouldStop: @escaping () -> Bool = { false },
      afterEpoch: ((_ epoch: Int, _ model: Classifier) -> Void)? = nil
    ) {
      self.resume = resume
      self.checkpoint = checkpoint
      self.finish = finish
      self.stopped = stopped
      self.shouldStop = shouldStop
      self.afterEpoch = afterEpoch
    }
  }
}
