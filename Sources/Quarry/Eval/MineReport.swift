/// What `mine-report` finds in a labelled corpus under a model: the rows nearest the
/// decision boundary, the rows whose label is probably wrong, the class pairs confused
/// most, and the data map of dataset cartography. Rendered as text, JSON or HTML.
///
/// JSON field names follow the command-line contract (snake_case).
public struct MineReport: Codable, Sendable, Equatable {
  /// Where the report's figures come from.
  public enum Source: String, Codable, Sendable {
    /// The training corpus: every figure from the cross-fitted fold models, none of which
    /// trained on the row they score (their last epoch's probabilities, and for the data
    /// map their epochs' dynamics).
    case crossFit = "cross-fit"
    /// The training corpus under a model file that stores the folds' last probabilities
    /// but not their dynamics: boundary, confusions and label issues from the former, the
    /// data map from the model's own training dynamics.
    case dynamicsCrossFit = "dynamics+cross-fit"
    /// The training corpus of a model trained with `--cross-fit 0`: the data map from its
    /// training dynamics, the label issues from its own probabilities.
    case dynamics
    /// Any other corpus: everything from the model's own probabilities.
    case model

    /// The source in words, for the text and HTML pages.
    public var words: String {
      switch self {
      case .crossFit:
        return "out-of-fold models that never trained on the rows they score"
      case .dynamicsCrossFit:
        return "out-of-fold probabilities; the data map from training dynamics"
      case .dynamics: return "training dynamics stored with the model"
      case .model: return "the model's probabilities"
      }
    }

    /// The models that suggest a label for a likely label error.
    public var suggester: Suggester {
      self == .crossFit || self == .dynamicsCrossFit ? .outOfFold : .model
    }
  }

  /// The models whose probabilities suggest a row's likely label.
  public enum Suggester: String, Codable, Sendable {
    /// The cross-fitted fold models, none of which trained on the row: their pick may
    /// differ from the full model's, which did.
    case outOfFold = "out-of-fold"
    /// The model itself.
    case model
  }

  public var source: Source
  public var model: String
  public var data: String
  public var rows: Int
  public var labels: [String]
  /// Smallest margin first; margin = p(gold) − max p(other).
  public var boundary: [BoundaryRow]
  /// Most probable label error first.
  public var label_issues: [LabelIssue]
  /// Most confused pair first.
  public var confusions: [Confusion]
  /// One point per row (dataset cartography): x = variability, y = confidence.
  public var data_map: [MapPoint]
  /// How well the same probabilities are calibrated (absent in reports built before it).
  public var calibration: CalibrationSummary? = nil

  /// Expected calibration error, log loss and the reliability diagram (`Calibration`) of
  /// the probabilities the report is built from.
  public struct CalibrationSummary: Codable, Sendable, Equatable {
    public var ece: Float
    public var log_loss: Float
    public var bins: [ReliabilityBin]

    public init(_ c: Calibration) {
      ece = c.expectedCalibrationError
      log_loss = c.logLoss
      let w = 1 / Float(Calibration.bins)
      bins = c.reliability.enumerated().map { b, bin in
        ReliabilityBin(
          lower: Float(b) * w, upper: Float(b + 1) * w, rows: bin.rows,
          confidence: bin.confidence, accuracy: bin.accuracy)
      }
    }
  }

  /// Rows whose top-label probability lies in [lower, upper) (the last bin closed at 1).
  public struct ReliabilityBin: Codable, Sendable, Equatable {
    public var lower: Float
    public var upper: Float
    public var rows: Int
    public var confidence: Float
    public var accuracy: Float
  }

  public struct BoundaryRow: Codable, Sendable, Equatable {
    public var line: Int
    public var label: String
    /// The most probable other class.
    public var confused_with: String
    /// p(gold) − max p(other): negative when the model prefers `confused_with`.
    public var margin: Float
    public var text: String
  }

  public struct LabelIssue: Codable, Sendable, Equatable {
    public var line: Int
    public var label: String
    /// The label `suggested_by` believes instead.
    public var suggested: String
    public var suggested_by: Suggester
    /// How likely the given label is wrong, in [0, 1]; the list is sorted by it.
    public var score: Float
    public var text: String

    public init(
      line: Int, label: String, suggested: String, suggested_by: Suggester = .model,
      score: Float, text: String
    ) {
      self.line = line
      self.label = label
      self.suggested = suggested
      self.suggested_by = suggested_by
      self.score = score
      self.text = text
    }
  }

  public struct Confusion: Codable, Sendable, Equatable {
    /// Gold class.
    public var label: String
    /// The class it is taken for.
    public var confused_with: String
    /// Rows of `label` predicted as `confused_with`.
    public var count: Int
    /// Rows of `label` whose runner-up is `confused_with` inside the boundary band.
    public var near: Int
  }

  public struct MapPoint: Codable, Sendable, Equatable {
    public var line: Int
    public var label: String
    /// Mean p(gold) over epochs (or the model's p(gold)).
    public var confidence: Float
    /// Standard deviation of p(gold) over epochs (0 without dynamics).
    public var variability: Float
    /// Share of epochs in which the row was predicted right.
    public var correctness: Float
  }
}
