/// What the trainer reports while it runs; the caller decides how to show it.
public enum TrainingEvent: Sendable {
  /// Part of an epoch done: `done` of `total` examples, mean loss so far.
  case step(epoch: Int, done: Int, total: Int, loss: Float, examplesPerSecond: Double)
  /// An epoch ended, after `seconds` at `examplesPerSecond` over the training rows. Of
  /// those seconds, `miningSeconds` went to the miner (scoring every row, choosing) and
  /// `minedPassSeconds` to augmenting and training the mined rows.
  case epoch(
    EpochSummary, seconds: Double, examplesPerSecond: Double, miningSeconds: Double,
    minedPassSeconds: Double)
  /// The mean loss of `epoch` rose from `firstLoss` (epoch 1) to `loss` (or was not
  /// finite): training starts again from the initial model at base rate `learningRate`.
  case restarted(epoch: Int, loss: Float, firstLoss: Float, learningRate: Float)
}

/// What an epoch leaves in the model file: no timings, so that the same seed and thread
/// count give the same bytes.
public struct EpochSummary: Sendable, Codable, Equatable {
  public var epoch: Int
  public var loss: Float
  public var validLoss: Float?
  public var validAccuracy: Float?
  public var validMacroF1: Float?
  /// Rows the miner picked per class (as negatives of that class), and the rows of the
  /// mined pass (picked rows and their variants); nil before mining starts.
  public var minedPerClass: [Int]? = nil
  public var minedTrained: Int? = nil
  /// This epoch is the best so far on the validation set (and is the one kept).
  public var isBest: Bool
}
