/// The one way a long run ends early: the `shouldStop` it was given said yes. Every loop
/// that asks it (reading a streamed corpus, the epochs, the encoder's tuning) throws this.
public struct Stopped: Error, Equatable, CustomStringConvertible {
  public enum Stage: Sendable, Equatable {
    /// Before training: reading and counting a streamed corpus.
    case reading
    /// Before a batch of this epoch (1-based).
    case epoch(Int)
    /// Encoding the corpus for, or training, the encoder's tuned layers.
    case encoderTuning
  }

  public let stage: Stage

  public init(_ stage: Stage) {
    self.stage = stage
  }

  /// Where it stopped, in words: "reading", "epoch 3", "the encoder's tuning".
  public var stageWords: String {
    switch stage {
    case .reading: return "reading"
    case .epoch(let e): return "epoch \(e)"
    case .encoderTuning: return "the encoder's tuning"
    }
  }

  public var description: String { "stopped during \(stageWords)" }
}
