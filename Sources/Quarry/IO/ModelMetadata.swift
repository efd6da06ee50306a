/// What a model file says about itself besides its tensors.
public struct ModelMetadata: Codable, Sendable, Equatable, TensorMetadata {
  public var quarryVersion: String
  public var labels: [String]
  public var config: TrainingConfig
  public var classes: Int
  public var dim: Int
  public var featureCount: Int
  public var wordCount: Int
  public var corpus: CorpusInfo
  public var pretrained: PretrainedInfo?
  /// The frozen encoder whose pooled vectors the model reads, when it has one.
  public var encoder: EncoderInfo? = nil
  public var bestEpoch: Int
  public var epochs: [EpochSummary]
  /// The per-class offsets already added to the classifier's output bias, when finetune
  /// kept some (`ClassBias`); absent otherwise.
  public var classBias: ClassBias.Info? = nil
  /// The temperature already folded into the weights (`Temperature`); absent when none was
  /// fitted.
  public var temperature: Temperature.Info? = nil
  /// Present for a multi-label model (one-vs-rest sigmoid outputs): each class's decision
  /// threshold; absent for a single-label one.
  public var multiLabel: Thresholds.Info? = nil
  /// A multi-label model's per-class Platt scaling, already folded into its weights (its
  /// thresholds are mapped the same way); absent when none was fitted.
  public var platt: PlattScaling.Info? = nil
  public var tensors: [TensorEntry] = []

  public struct CorpusInfo: Codable, Sendable, Equatable {
    public var path: String
    public var contentHash: String
    public var rows, trainRows, validRows: Int
  }

  public struct PretrainedInfo: Codable, Sendable, Equatable {
    public var path: String
    public var fileWords: Int
    /// Share of the training corpus's word tokens whose word has a pretrained vector.
    public var tokenCoverage: Float
    /// Share of the vocabulary's words that have one.
    public var typeCoverage: Float
  }

  public struct EncoderInfo: Codable, Sendable, Equatable {
    /// The checkpoint folder it was trained with (a default for later commands).
    public var path: String
    /// sha256 of its model.safetensors: the model refuses other weights.
    public var weightsSHA256: String
    /// H, the pooled vector's width; the longest input in tokens; the pooling.
    public var hidden: Int
    public var maxLength: Int
    public var pooling: Pooling
    /// The top layers fine-tuned on the training corpus (0: the encoder is frozen); their
    /// weights are in the model file, and `tunedChecksum` is their checksum (hex).
    public var tunedLayers: Int
    public var tunedChecksum: String
    /// Checksum (hex) of its config.json and vocab.txt, which change the vectors as much as
    /// the weights do: the model refuses others. Absent in files written before 2026-12-02.
    public var setupChecksum: String?

    public init(
      path: String, weightsSHA256: String, hidden: Int, maxLength: Int, pooling: Pooling,
      tunedLayers: Int = 0, tunedChecksum: String = "", setupChecksum: String? = nil
    ) {
      self.path = path
      self.weightsSHA256 = weightsSHA256
      self.hidden = hidden
      self.maxLength = maxLength
      self.pooling = pooling
      self.tunedLayers = tunedLayers
      self.tunedChecksum = tunedChecksum
      self.setupChecksum = setupChecksum
    }

    private enum CodingKeys: String, CodingKey {
      case path, weightsSHA256, hidden, maxLength, pooling, tunedLayers, tunedChecksum
      case setupChecksum
    }

    /// Models written before layer tuning have neither tuning field: frozen; models written
    /// before 2026-12-02 have no `setupChecksum`.
    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      path = try c.decode(String.self, forKey: .path)
      weightsSHA256 = try c.decode(String.self, forKey: .weightsSHA256)
      hidden = try c.decode(Int.self, forKey: .hidden)
      maxLength = try c.decode(Int.self, forKey: .maxLength)
      pooling = try c.decode(Pooling.self, forKey: .pooling)
      tunedLayers = try c.decodeIfPresent(Int.self, forKey: .tunedLayers) ?? 0
      tunedChecksum = try c.decodeIfPresent(String.self, forKey: .tunedChecksum) ?? ""
      setupChecksum = try c.decodeIfPresent(String.self, forKey: .setupChecksum)
    }
  }

  public struct TensorEntry: Codable, Sendable, Equatable {
    public var name: String
    public var dtype: TensorDType
    public var count: Int
    /// Byte offset from the start of the tensor section.
    public var offset: Int
  }
}

/// Everything `predict`, `evaluate` and `mine-report` need: metadata, features, weights.
public struct Model: Sendable {
  public var metadata: ModelMetadata
  public var vocabulary: Vocabulary
  public var classifier: Classifier
  /// p(gold) of every training row at every epoch, and each row's line in the corpus.
  public var dynamics: Dynamics?
  public var trainLines: [Int32]?
  /// Out-of-sample probabilities of the training rows (N×C, rows as `trainLines`), and
  /// their dynamics over the fold models' epochs (`CrossFit.Scores`).
  public var heldOut: [Float]?
  public var heldOutDynamics: Dynamics?
  /// The encoder's fine-tuned top layers, when `metadata.encoder.tunedLayers` > 0.
  public var tunedLayers: [BertLayerWeights] = []

  public init(
    metadata: ModelMetadata, vocabulary: Vocabulary, classifier: Classifier,
    dynamics: Dynamics? = nil, trainLines: [Int32]? = nil, heldOut: [Float]? = nil,
    heldOutDynamics: Dynamics? = nil
  ) {
    self.heldOut = heldOut
    self.heldOutDynamics = heldOutDynamics
    self.metadata = metadata
    self.vocabulary = vocabulary
    self.classifier = classifier
    self.dynamics = dynamics
    self.trainLines = trainLines
  }

  public var labels: [String] { metadata.labels }

  /// Whether the model gives each class its own probability (sigmoid) and predicts every
  /// class above its threshold.
  public var isMultiLabel: Bool { metadata.multiLabel != nil }

  /// Each class's decision threshold (multi-label models; nil otherwise).
  public var thresholds: [Float]? { metadata.multiLabel?.thresholds }

  /// The classes of every row of `corpus`; a label the model does not know is an error
  /// naming its line, and so is a row of several labels for a single-label model.
  public func goldLabelSets(of corpus: Corpus) throws -> [[Int32]] {
    if !isMultiLabel, let row = corpus.firstMultiLabelRow {
      throw InputError(path: corpus.path, line: row.line, severalLabels(row))
    }
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
    return try corpus.examples.map { e in
      try e.labels.map { l in
        guard let y = index[l] else {
          throw InputError(
            path: corpus.path, line: e.line,
            unknownLabel(l, format: corpus.format))
        }
        return y
      }
    }
  }

  /// `corpus` without the rows the model cannot score: those that name a label it does not
  /// know and, for a single-label model, those of several labels. Each dropped row joins
  /// `skipped` with the error `goldLabels` or `goldLabelSets` would raise for it. Its
  /// examples are empty when every row was dropped.
  public func scorableRows(of corpus: Corpus) -> Corpus {
    let known = Set(labels)
    var out = corpus
    out.examples = []
    out.examples.reserveCapacity(corpus.examples.count)
    for e in corpus.examples {
      if !isMultiLabel && e.labels.count > 1 {
        out.skipped.append(InputError(path: corpus.path, line: e.line, severalLabels(e)))
      } else if let l = e.labels.first(where: { !known.contains($0) }) {
        out.skipped.append(
          InputError(path: corpus.path, line: e.line, unknownLabel(l, format: corpus.format)))
      } else {
        out.examples.append(e)
      }
    }
    return out
  }

  /// The error for a row of several labels scored by a single-label model.
  func severalLabels(_ row: Example) -> String {
    "\(row.labels.count) labels (\(row.labels.joined(separator: ", "))), but this model is single-label: train a multi-label model on such a corpus (finetune reads several labels a row as multi-label)"
  }

  /// The error for a row's label `l` that the model does not know, in a corpus of
  /// `format`. When the model is multi-label and `l` is several of its labels joined by
  /// `,`, `;` or `|`, the message says how that format gives several labels a row (a CSV
  /// `label` column, and TSV read with another `--label-separator`, keep the field whole).
  func unknownLabel(_ l: String, format: CorpusFormat) -> String {
    let known = Set(labels)
    for sep: Character in [",", ";", "|"] where isMultiLabel {
      let parts = l.split(separator: sep).map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count > 1, parts.allSatisfy({ known.contains($0) }) else { continue }
      let how: String
      switch format {
      case .csv:
        how =
          sep == ","
          ? "name the column 'labels' (not 'label')"
          : "name the column 'labels' (not 'label') and pass --label-separator '\(sep)'"
      case .tsv: how = "pass --label-separator '\(sep)'"
      case .jsonl: how = "give them as \"labels\": [...]"
      case .fasttext: how = "give each its own __label__"
      }
      return
        "label '\(l)' is not one the model knows, but its pieces are: to read several labels a row, \(how)"
    }
    return "label '\(l)' is not one the model knows (\(labelList))"
  }

  /// The model's labels for an error message: all of them, or the first 20 and a count.
  public var labelList: String {
    labels.count <= 20
      ? labels.joined(separator: ", ")
      : labels.prefix(20).joined(separator: ", ") + ", … (\(labels.count) in all)"
  }

  /// The same model with `metadata.classBias`'s offsets taken back out of the output bias
  /// (o_k / T, with the temperature T the weights carry; to within a rounding), and the
  /// metadata saying it has none.
  public func withoutClassBias() -> Model {
    guard let offsets = metadata.classBias?.offsets else { return self }
    var m = self
    let t = metadata.temperature?.temperature ?? 1
    for k in 0..<m.classifier.classes { m.classifier.bias[k] -= offsets[k] / t }
    m.metadata.classBias = nil
    return m
  }

  /// The same model with `metadata.temperature` taken back out of the weights (to within a
  /// rounding), and the metadata saying it has none.
  public func withoutTemperature() -> Model {
    guard let t = metadata.temperature?.temperature else { return self }
    var m = self
    m.classifier.scaleLogits(by: t)
    m.metadata.temperature = nil
    return m
  }

  /// The class index of every row of `corpus`; a label the model does not know is an
  /// error naming its line.
  public func goldLabels(of corpus: Corpus) throws -> [Int32] {
    if let row = corpus.firstMultiLabelRow {
      throw InputError(path: corpus.path, line: row.line, severalLabels(row))
    }
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
    return try corpus.examples.map { e in
      guard let y = index[e.label] else {
        throw InputError(
          path: corpus.path, line: e.line,
          unknownLabel(e.label, format: corpus.format))
      }
      return y
    }
  }
}
