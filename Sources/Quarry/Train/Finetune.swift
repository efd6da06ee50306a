import Foundation

/// From a training corpus (and optionally a validation corpus and a pretrained-vector
/// file) to a trained `Model`. The steps, in order: labels, validation split,
/// vocabulary, features, embeddings (pretrained rows, the rest random), training.
public enum Finetune {
  public enum Event: Sendable {
    /// A stage finished: a line for the user.
    case note(String)
    /// Something the user should look at; training goes on.
    case warning(String)
    case training(TrainingEvent)
  }

  public static let version = "0.1.0"

  /// Where and how often the trainer's state is saved: after epochs (`interval` seconds
  /// apart; 0: after every epoch) to `path`, and with `resume`, where a run starts from
  /// (when a state is there, and only when it was saved by a run of the same corpus,
  /// settings and initial weights). A run stopped early writes the state after its last
  /// whole epoch whenever it was last written.
  public struct Checkpointing: Sendable {
    public var path: String?
    public var interval: Double
    public var resume: Bool

    public init(path: String? = nil, interval: Double = 0, resume: Bool = false) {
      self.path = path
      self.interval = interval
      self.resume = resume
    }
  }

  public static func run(
    train corpus: Corpus, valid validCorpus: Corpus?, pretrained: String?, config: TrainingConfig,
    thesaurus: ThesaurusChoice = .none, encoder frozen: FrozenEncoder? = nil,
    tuning: LayerTuner.Options? = nil, vectorCache: String? = nil,
    checkpointing: Checkpointing = Checkpointing(), multiLabel: Bool = false,
    thresholds: Thresholds.Mode = .tuned, shouldStop: @escaping () -> Bool = { false },
    progress: (Event) -> Void = { _ in }
  ) throws -> Model {
    let (labels, labelIndex) = try classes(of: corpus, valid: validCorpus)
    let multi = try multiLabelNoting(
      corpus, valid: validCorpus, forced: multiLabel, tuning: tuning, progress: progress)
    let (trainRows, validRows) = splitRows(
      corpus, valid: validCorpus, classes: labels.count, config: config, progress: progress)
    let trainTexts = trainRows.map(\.text)

    let (augmenter, extraWords, plainVocab, counts) = try augmenterAndVocabulary(
      trainTexts: trainTexts, config: config, thesaurus: thesaurus, progress: progress)
    let igm = config.resolvedIGM(multiLabel: multi)
    let vocab = igmWeighted(
      plainVocab, rows: trainRows, labelIndex: labelIndex, classes: labels.count, lambda: igm,
      config: config, progress: progress)
    try checkTrainable(
      vocab, counts: counts, classes: labels.count, rows: trainRows.count,
      pretrained: pretrained, encoderDim: frozen?.hidden ?? 0, config: config, path: corpus.path)

    let (embedding, dim, pretrainedInfo) = try initialEmbedding(
      pretrained: pretrained, vocab: vocab, counts: counts, config: config,
      vectorCache: vectorCache, progress: progress)
    var trainData = labeledData(
      trainRows, vocab: vocab, labelIndex: labelIndex, config: config, multiLabel: multi)
    var validData =
      validRows.isEmpty
      ? nil
      : labeledData(
        validRows, vocab: vocab, labelIndex: labelIndex, config: config, multiLabel: multi)
    let (encoder, tuned) = try attachEncoder(
      frozen, tuning: tuning, train: &trainData, trainTexts: trainTexts, valid: &validData,
      validTexts: validRows.map(\.text), classes: labels.count, shouldStop: shouldStop,
      progress: progress)

    var modelConfig = config
    modelConfig.dim = dim
    modelConfig.igm = igm
    (modelConfig.learningRate, modelConfig.wideL2) = ratesNoting(
      config, counts: counts, rows: trainRows.count, progress: progress)
    setBLASThreads(1)
    var initial = Classifier(
      classes: labels.count, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: dim, embedding: embedding, encoderDim: tuned == nil ? encoder?.hidden ?? 0 : 0)
    if multi {
      initial.startOneVsRest(
        counts: trainData.classCounts(classes: labels.count), rows: trainData.count)
    }
    let augment = augmenter.map {
      augmentation(
        $0, trainTexts: trainTexts, labels: trainData.labels, labelSets: trainData.labelSets,
        vocab: vocab, config: config, encoded: trainData.features)
    }
    let trainerControl = try trainerControl(
      checkpointing, shouldStop: shouldStop, progress: progress,
      fingerprint: runFingerprint(
        config: modelConfig, corpus: corpus, valid: validCorpus, initial: initial,
        extraWords: extraWords, encoder: encoder?.info))
    let result = try Trainer(config: modelConfig).train(
      model: initial, train: trainData, valid: validData, augment: augment,
      control: trainerControl, validScored: tuned.map { t in { Finetune.joined($0, tuned: t) } }
    ) { progress(.training($0)) }
    // A multi-label model's thresholds are tuned on the folds' scores, so its folds train
    // at its own (length-scaled) rate; a single-label model's folds at the base rate.
    let heldOut = try crossFitNoting(
      initial: initial, data: trainData, rows: trainRows, config: modelConfig,
      baseRate: multi ? modelConfig.learningRate : config.learningRate, shouldStop: shouldStop,
      progress: progress)
    var (classBias, temperature): (ClassBias.Info?, Temperature.Info?) = (nil, nil)
    var multiLabelInfo: Thresholds.Info? = nil
    if let sets = trainData.labelSets {
      multiLabelInfo = thresholdsNoting(
        heldOut, labelSets: sets, classes: labels.count, mode: thresholds, progress: progress)
    } else {
      (classBias, temperature) = postProcessing(
        heldOut, labels: trainData.labels, classes: labels.count, tuned: tuned != nil,
        config: config, progress: progress)
    }

    var model = assembled(
      result, tuned: tuned, heldOut: heldOut, classBias: classBias, temperature: temperature,
      labels: labels, config: modelConfig, vocab: vocab, corpus: corpus, trainRows: trainRows,
      validCount: validRows.count, pretrained: pretrainedInfo, encoder: encoder?.info)
    if let info = multiLabelInfo, let sets = trainData.labelSets {
      calibrateMultiLabel(
        &model, thresholds: info, heldOut: heldOut, labelSets: sets, mode: config.temperature,
        progress: progress)
    }
    return model
  }

  /// The model file's contents: the trained classifier (with tuned layers joined back in
  /// when there are any, `classBias`'s offsets added to its output bias, and then its
  /// logits divided by `temperature`), its metadata, the per-row training dynamics and
  /// held-out scores, and each training row's line in the corpus.
  static func assembled(
    _ result: Trainer.Result, tuned: TunedLayers?, heldOut: CrossFit.Scores?,
    classBias: ClassBias.Info? = nil, temperature: Temperature.Info? = nil, labels: [String],
    config: TrainingConfig, vocab: Vocabulary, corpus: Corpus, trainRows: [Example],
    validCount: Int, pretrained: ModelMetadata.PretrainedInfo?, encoder: ModelMetadata.EncoderInfo?
  ) -> Model {
    var meta = ModelMetadata(
      trained: result, labels: labels, config: config, vocab: vocab,
      corpus: .init(
        path: corpus.path, contentHash: corpus.contentHashHex,
        rows: corpus.examples.count, trainRows: trainRows.count, validRows: validCount),
      pretrained: pretrained, encoder: encoder)
    meta.classBias = classBias
    meta.temperature = temperature
    let classifier = postProcessed(
      tuned.map { Finetune.joined(result.model, tuned: $0) } ?? result.model,
      classBias: classBias, temperature: temperature)
    var model = Model(
      metadata: meta, vocabulary: vocab, classifier: classifier, dynamics: result.dynamics,
      trainLines: trainRows.map { Int32(clamping: $0.line) }, heldOut: heldOut?.probabilities,
      heldOutDynamics: heldOut?.dynamics)
    model.tunedLayers = tuned?.layers ?? []
    return model
  }

  /// The training and validation rows: all of `corpus` and all of `valid`, or without
  /// `valid` a stratified seeded share (`validFraction`) of the corpus held out. Notes the
  /// counts.
  static func splitRows(
    _ corpus: Corpus, valid: Corpus?, classes: Int, config: TrainingConfig,
    progress: (Event) -> Void
  ) -> (train: [Example], valid: [Example]) {
    var trainRows = corpus.examples
    var validRows: [Example] = []
    if let valid {
      validRows = valid.examples
    } else if config.validFraction > 0 {
      (trainRows, validRows) = stratifiedSplit(
        corpus.examples, fraction: config.validFraction, seed: config.seed)
    }
    let skipped = corpus.skipped.count
    progress(
      .note(
        "\(corpus.path): \(corpus.examples.count) rows, \(classes) classes (\(corpus.format.rawValue))"
          + (skipped == 0 ? "" : ", \(skipped) bad row\(skipped == 1 ? "" : "s") skipped")
          + "; training on \(trainRows.count), validating on \(validRows.count)"))
    return (trainRows, validRows)
  }

  /// `vocab` with its idf weighted by the classes of the training rows (`TermWeights`,
  /// λ = `lambda`; unchanged at 0). The weights come from all the training rows, the
  /// cross-fit folds' held-out rows among them: a feature held by one row has igm 1
  /// whatever its label, so only features shared by several rows carry their labels.
  static func igmWeighted(
    _ vocab: Vocabulary, rows: [Example], labelIndex: [String: Int32], classes: Int,
    lambda: Float, config: TrainingConfig, progress: (Event) -> Void
  ) -> Vocabulary {
    guard lambda > 0 else { return vocab }
    let plain = labeledData(rows, vocab: vocab, labelIndex: labelIndex, config: config)
    progress(
      .note("term weights: idf × (1 + \(lambda) · igm), igm from the training rows' classes"))
    return TermWeights.weighted(
      vocab, train: plain.features, labels: plain.labels, classes: classes, lambda: lambda)
  }

  /// The features and class indices of `rows` (every class of each row, `multiLabel`).
  static func labeledData(
    _ rows: [Example], vocab: Vocabulary, labelIndex: [String: Int32], config: TrainingConfig,
    multiLabel: Bool = false
  ) -> LabeledData {
    let features = FeatureMatrix(
      texts: rows.map(\.text), vocabulary: vocab, config: config.features,
      threads: config.threads)
    guard multiLabel else {
      return LabeledData(features: features, labels: rows.map { labelIndex[$0.label] ?? 0 })
    }
    return LabeledData(
      features: features, labelSets: rows.map { $0.labels.map { labelIndex[$0] ?? 0 } })
  }

  /// Joins an encoder to the data. A frozen encoder's vectors are features of the
  /// classifier (W_u trains with the rest). A tuned encoder comes with its own softmax head
  /// instead: the classifier trains on the n-gram features alone and the head's logits are
  /// added to its own (a product of the two models' probabilities). Its vectors of the
  /// training texts were fitted to their labels, so as features they would earn a weight
  /// that the test texts do not bear out. Validation rows carry the (tuned) encoder's
  /// vectors: frozen, the classifier reads them; tuned, the head does. Returns the encoder
  /// the model keeps, and the tuned layers with their head.
  static func attachEncoder(
    _ frozen: FrozenEncoder?, tuning: LayerTuner.Options?, train: inout LabeledData,
    trainTexts: [String], valid: inout LabeledData?, validTexts: [String], classes: Int,
    shouldStop: () -> Bool, progress: (Event) -> Void
  ) throws -> (FrozenEncoder?, TunedLayers?) {
    guard let e = frozen else { return (nil, nil) }
    var encoder = e
    var tuned: TunedLayers? = nil
    if let tuning, tuning.layers > 0 {
      let (tunedEncoder, layers) = try tuneNoting(
        e, trainTexts, labels: train.labels, classes: classes, options: tuning,
        shouldStop: shouldStop, progress: progress)
      encoder = tunedEncoder
      tuned = layers
    } else {
      train.features.attachDense(
        try encodeNoting(e, trainTexts, what: "training", progress: progress), dim: e.hidden)
    }
    if valid != nil {
      valid!.features.attachDense(
        try encodeNoting(encoder, validTexts, what: "validation", progress: progress),
        dim: encoder.hidden)
    }
    return (encoder, tuned)
  }

  /// The cross-fit folds' out-of-sample scores of the training rows (nil when `crossFit`
  /// is under 2), with a note of the time they took. The folds train at the base rate
  /// times `CrossFit.lrScale`, not the corpus-adjusted one: fitted more closely, they
  /// leave fewer flipped labels unseen (docs/experiments.md).
  static func crossFitNoting(
    initial: Classifier, data: LabeledData, rows: [Example], config: TrainingConfig,
    baseRate: Float, shouldStop: @escaping () -> Bool, progress: (Event) -> Void
  ) throws -> CrossFit.Scores? {
    guard config.crossFit >= 2 else { return nil }
    let clock = ContinuousClock()
    let start = clock.now
    var foldConfig = config
    foldConfig.learningRate = baseRate * CrossFit.lrScale
    let scores = try CrossFit.scores(
      initial: initial, data: data, groups: rows.map { FNV1a.hash($0.text.utf8) },
      folds: config.crossFit, config: foldConfig, shouldStop: shouldStop)
    // The model without the flagged rows is trained only when there are some.
    let confirming =
      scores.flagged > 0 ? ", and one model without the \(scores.flagged) rows they flag" : ""
    progress(
      .note(
        "cross-fitting: \(config.crossFit) folds × \(config.crossFitEpochs) epochs\(confirming), for out-of-sample scores ("
          + String(format: "%.2f s)", (clock.now - start).seconds)))
    return scores
  }

  /// The corpus's labels, sorted, and the class index of each, after `checkLabelCounts`
  /// and `classIndex`.
  static func classes(of corpus: Corpus, valid: Corpus?) throws -> (
    labels: [String], index: [String: Int32]
  ) {
    let labels = corpus.labelsInOrder.sorted()
    let index = try classIndex(labels, train: corpus.path, valid: valid)
    var counts: [String: Int] = [:]
    for e in corpus.examples { for l in e.labels { counts[l, default: 0] += 1 } }
    try checkLabelCounts(counts, path: corpus.path)
    return (labels, index)
  }

  /// The class index of each label (sorted `labels`, at least two), after checking that
  /// every label of `valid` is one of them.
  static func classIndex(_ labels: [String], train path: String, valid: Corpus?) throws
    -> [String: Int32]
  {
    guard labels.count >= 2 else {
      throw InputError(
        path: path,
        "only one class (\(labels.first ?? "")): a classifier needs at least two labels")
    }
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
    for e in valid?.examples ?? [] {
      for l in e.labels where index[l] == nil {
        throw InputError(
          path: valid!.path, line: e.line,
          "label '\(l)' does not occur in the training corpus \(path)")
      }
    }
    return index
  }

  /// The learning rate for `rows` training rows of `counts.totalTokens` word tokens in
  /// all (`TrainingConfig.scaledLearningRate`) and the wide part's L2 penalty
  /// (`TrainingConfig.resolvedWideL2`), with a note when the rate is scaled or when the
  /// text is mostly of scripts written without spaces.
  static func ratesNoting(
    _ config: TrainingConfig, counts: Vocabulary.Counts, rows: Int, progress: (Event) -> Void
  ) -> (learningRate: Float, wideL2: Float) {
    let meanWords = Double(counts.totalTokens) / Double(max(rows, 1))
    let unspaced = Double(counts.unspacedTokens) / Double(max(counts.totalTokens, 1))
    let lr = config.scaledLearningRate(meanWords: meanWords, unspacedShare: unspaced)
    let l2 = config.resolvedWideL2(unspacedShare: unspaced)
    if unspaced > 0.5 {
      progress(
        .note(
          String(
            format:
              "%.0f%% of the tokens are characters of scripts written without spaces (one token each, word n-grams are character n-grams): learning rate %.3g, not scaled by text length; L2 penalty %.3g on the wide part (--wide-l2 sets it)",
            100 * unspaced, lr, l2)))
    } else if lr != config.learningRate {
      progress(
        .note(
          String(
            format:
              "learning rate %.3g: %.3g × %.1f words per row / 100 (short texts take smaller steps; --lr sets it)",
            lr, config.learningRate, meanWords)))
    }
    return (lr, l2)
  }

  /// The encoder's pooled vectors of `texts`, with a note of where they came from.
  static func encodeNoting(
    _ encoder: FrozenEncoder, _ texts: [String], what: String, progress: (Event) -> Void
  ) throws -> [Float] {
    let clock = ContinuousClock()
    let start = clock.now
    var lastNote = start
    let (v, cached) = try encoder.vectors(texts) { done, total in
      if clock.now - lastNote > .seconds(10) {
        lastNote = clock.now
        progress(.note("encoder: \(done) of \(total) \(what) texts encoded"))
      }
    }
    let secs = (clock.now - start).seconds
    progress(
      .note(
        cached
          ? String(
            format: "encoder: %d %@ vectors read from the cache (%.2f s)", texts.count, what, secs)
          : String(format: "encoder: %d %@ texts encoded in %.1f s", texts.count, what, secs)))
    return v
  }

  /// The distinct tokens of `texts`, each with its number of occurrences.
  static func corpusWords(_ texts: [String], tokenizer: Tokenizer) -> [String: Int] {
    var words: [String: Int] = [:]
    var buffer = TokenBuffer()
    for t in texts {
      tokenizer.tokenize(t, into: &buffer)
      for i in 0..<buffer.count { words[buffer.string(at: i), default: 0] += 1 }
    }
    return words
  }

  /// Splits rows into (train, valid): per class, a seeded shuffle, and round(fraction·n_c)
  /// rows (at least one when the class has two or more) go to validation. Both keep the
  /// file's order.
  public static func stratifiedSplit(_ rows: [Example], fraction: Float, seed: UInt64) -> (
    [Example], [Example]
  ) {
    var byLabel: [String: [Int]] = [:]
    for (i, e) in rows.enumerated() { byLabel[e.label, default: []].append(i) }
    var rng = SplitMix64(seed: seed &+ 0xA11D)
    var isValid = [Bool](repeating: false, count: rows.count)
    for label in byLabel.keys.sorted() {
      var idx = byLabel[label] ?? []
      rng.shuffle(&idx)
      var k = Int((fraction * Float(idx.count)).rounded())
      if idx.count >= 2 { k = max(k, 1) }
      k = min(k, idx.count - 1)
      for i in idx.prefix(max(k, 0)) { isValid[i] = true }
    }
    var train: [Example] = []
    var valid: [Example] = []
    for (i, e) in rows.enumerated() {
      if isValid[i] { valid.append(e) } else { train.append(e) }
    }
    return (train, valid)
  }
}
