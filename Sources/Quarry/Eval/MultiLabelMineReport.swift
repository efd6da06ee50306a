/// What `mine-report` finds in a corpus under a multi-label model, per (row, label) pair:
/// the pairs nearest a label's decision threshold, the labels probably missing from a row
/// or wrongly on it, and each label's misses and false alarms. Rendered as text, JSON or
/// HTML.
///
/// A pair's probability p is the model's own, or on the rows the model was trained on the
/// cross-fitted fold models' (mapped by the model's Platt scaling, so that it is comparable
/// with the stored thresholds t). Its margin is measured in log-odds, which weigh a
/// threshold of 0.1 and one of 0.5 alike:
///
///   margin = ±(logit p − logit t),  + for a label the row carries, − for one it does not,
///
/// so a negative margin is a pair the model decides against its given labels.
///
/// JSON field names follow the command-line contract (snake_case).
public struct MultiLabelMineReport: Codable, Sendable, Equatable {
  public var source: MineReport.Source
  public var multi_label = true
  public var model: String
  public var data: String
  public var rows: Int
  public var labels: [String]
  /// The decision threshold of each label, as stored in the model.
  public var thresholds: [Float]
  /// The boundary band, in log-odds.
  public var band: Float
  /// Pairs with |margin| within the band, nearest their threshold (smallest |margin|)
  /// first.
  public var boundary: [BoundaryPair]
  /// Most probable first.
  public var label_issues: [LabelIssue]
  /// Labels with the most misses and false alarms first.
  public var per_label: [LabelSummary]
  /// How well the probabilities the report is built from are calibrated.
  public var calibration: CalibrationSummary

  /// The mean over labels of each label's expected calibration error (15 bins of its own
  /// yes/no probability), and the mean over rows of the binary log loss summed over labels.
  public struct CalibrationSummary: Codable, Sendable, Equatable {
    public var ece: Float
    public var log_loss: Float
  }

  public struct BoundaryPair: Codable, Sendable, Equatable {
    public var line: Int
    public var label: String
    /// Whether the row carries `label`.
    public var given: Bool
    public var probability: Float
    public var threshold: Float
    public var margin: Float
    public var text: String
  }

  /// What is probably wrong with a row's labels.
  public enum IssueKind: String, Codable, Sendable {
    /// The row does not carry the label, but probably should.
    case missing
    /// The row carries the label, but probably should not.
    case wrong
  }

  public struct LabelIssue: Codable, Sendable, Equatable {
    public var line: Int
    public var label: String
    public var issue: IssueKind
    /// How likely the pair is wrong, in [0, 1]: p for a missing label, 1 − p for a wrong one.
    public var score: Float
    public var probability: Float
    public var text: String
  }

  public struct LabelSummary: Codable, Sendable, Equatable {
    public var label: String
    public var threshold: Float
    /// Rows carrying the label.
    public var support: Int
    /// Rows carrying it, under its threshold.
    public var missed: Int
    /// Rows not carrying it, at or over its threshold.
    public var false_alarms: Int
    /// Its pairs in the boundary band.
    public var near: Int
  }
}
