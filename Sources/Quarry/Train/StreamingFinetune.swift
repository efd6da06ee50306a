import Foundation

/// `Finetune` for a corpus too large to hold in memory: the file is read in blocks, and
/// memory is bounded by the model (vocabulary, capped at `maxFeatures` keys by pruning
/// rare ones; the weights) and one block of rows, not by the corpus.
///
///   1. One pass over the file counts labels and features and notes where blocks start.
///   2. Every epoch visits the blocks in a seeded random order; each block is read again,
///      featurized and shuffled (`StreamedRows`), and trained by `Trainer` as a corpus in
///      memory is: cross-entropy on every row, then, after the warm-up, the block's
///      boundary rows (scored by the model just before the block) and their variants with
///      focal loss.
///
/// What needs every row at once is left out: training dynamics, cross-fitting, a held-out
/// share (give `valid`), checkpoints, supervised term weights (plain idf), and thesaurus
/// synonyms (variants are random deletions). mine-report then works from the model's own probabilities.
public enum StreamingFinetune {
  public static func run(
    train path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false,
    labelSeparator: String = CorpusReader.defaultLabelSeparator, valid validCorpus: Corpus?,
    pretrained: String?, config: TrainingConfig,
    maxFeatures: Int = 2_000_000, blockBytes: Int = 16 << 20, vectorCache: String? = nil,
    shouldStop: @escaping () -> Bool = { false },
    progress: (Finetune.Event) -> Void = { _ in }
  ) throws -> Model {
    // 1. Labels, vocabulary and blocks, in one pass.
    let (stream, labelCounts, builder) = try countingPass(
      path, format: format, skipBadRows: skipBadRows, labelSeparator: labelSeparator,
      config: config, maxFeatures: maxFeatures, blockBytes: blockBytes, shouldStop: shouldStop,
      progress: progress)
    let labels = labelCounts.keys.sorted()
    let labelIndex = try Finetune.classIndex(labels, train: path, valid: validCorpus)
    let (vocab, counts) = builder.finish(minCount: config.minCount)
    try Finetune.checkLabelCounts(labelCounts, path: path)
    try Finetune.checkTrainable(
      vocab, counts: counts, classes: labels.count, rows: 0, pretrained: pretrained,
      encoderDim: 0, config: config, path: path)
    progress(.note(vocabularyNote(vocab, builder: builder, maxFeatures: maxFeatures)))

    let (embedding, dim, pretrainedInfo) = try Finetune.initialEmbedding(
      pretrained: pretrained, vocab: vocab, counts: counts, config: config,
      vectorCache: vectorCache, progress: progress)
    var modelConfig = config
    modelConfig.dim = dim
    (modelConfig.learningRate, modelConfig.wideL2) = Finetune.ratesNoting(
      config, counts: counts, rows: builder.documents, progress: progress)
    modelConfig.validFraction = 0
    modelConfig.crossFit = 0
    modelConfig.igm = 0
    setBLASThreads(1)
    let model = Classifier(
      classes: labels.count, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: dim, embedding: embedding)
    let validData = validCorpus.map {
      Finetune.labeledData($0.examples, vocab: vocab, labelIndex: labelIndex, config: config)
    }
    let augmenter =
      config.mine && config.augment ? KeyAugmenter(alpha: config.augmentAlpha) : nil
    if augmenter != nil {
      progress(.note("streaming: mined rows are augmented by random deletion only"))
    }

    // 2. Epochs over the blocks.
    let blocks = StreamedRows(
      stream: stream, labelIndex: labelIndex, classCounts: labels.map { labelCounts[$0] ?? 0 },
      vocabulary: vocab, config: config, augmenter: augmenter)
    let result = try Trainer(config: modelConfig).train(
      model: model, blocks: blocks, valid: validData,
      control: Trainer.Control(shouldStop: shouldStop), progress: { progress(.training($0)) })

    let meta = ModelMetadata(
      trained: result, labels: labels, config: modelConfig, vocab: vocab,
      corpus: .init(
        path: path, contentHash: stream.contentHashHex, rows: stream.rows,
        trainRows: stream.rows, validRows: validCorpus?.examples.count ?? 0),
      pretrained: pretrainedInfo)
    return Model(metadata: meta, vocabulary: vocab, classifier: result.model)
  }

  /// The vocabulary's size, and how many keys were pruned to stay within `maxFeatures`.
  static func vocabularyNote(
    _ vocab: Vocabulary, builder: Vocabulary.Builder, maxFeatures: Int
  ) -> String {
    "vocabulary: \(vocab.wordCount) words, \(vocab.featureCount - vocab.wordCount) n-gram features"
      + (builder.pruneThreshold > 1
        ? " (kept to \(maxFeatures) keys: those in fewer than \(builder.pruneThreshold) rows dropped)"
        : "")
  }

  /// The pass over the file before training: the label counts, the vocabulary's keys and
  /// where the blocks start. Notes what it read and how long it took.
  static func countingPass(
    _ path: String, format: CorpusFormat?, skipBadRows: Bool, labelSeparator: String,
    config: TrainingConfig,
    maxFeatures: Int, blockBytes: Int, shouldStop: () -> Bool,
    progress: (Finetune.Event) -> Void
  ) throws -> (CorpusStream, labelCounts: [String: Int], Vocabulary.Builder) {
    var labelCounts: [String: Int] = [:]
    var builder = Vocabulary.Builder(config: config.features, maxKeys: maxFeatures)
    let clock = ContinuousClock()
    let start = clock.now
    let stream = try CorpusStream.scan(
      path: path, format: format, skipBadRows: skipBadRows, labelSeparator: labelSeparator,
      blockBytes: blockBytes
    ) { rows in
      if shouldStop() { throw Stopped(.reading) }
      for e in rows {
        guard e.labels.count == 1 else {
          throw InputError(
            path: path, line: e.line,
            "\(e.labels.count) labels: a multi-label corpus is not streamed (it must fit in memory)"
          )
        }
        labelCounts[e.label, default: 0] += 1
        builder.add(e.text)
      }
    }
    progress(
      .note(
        String(
          format: "%@: %d rows, %d classes (%@, streamed in %d blocks)%@; read in %.1f s",
          path, stream.rows, labelCounts.count, stream.format.rawValue, stream.blocks.count,
          stream.skippedCount > 0 ? ", \(stream.skippedCount) bad rows skipped" : "",
          (clock.now - start).seconds)))
    return (stream, labelCounts, builder)
  }
}

/// A streamed corpus's blocks: each read again, featurized and labelled when visited.
struct StreamedRows: RowBlocks {
  let stream: CorpusStream
  let labelIndex: [String: Int32]
  let classCounts: [Int]
  let vocabulary: Vocabulary
  let config: TrainingConfig
  let augmenter: KeyAugmenter?
  let blockRows: [Int]
  /// Each block's first row in the whole file: its variants are seeded by it.
  let firstRow: [Int]

  init(
    stream: CorpusStream, labelIndex: [String: Int32], classCounts: [Int],
    vocabulary: Vocabulary, config: TrainingConfig, augmenter: KeyAugmenter?
  ) {
    self.stream = stream
    self.labelIndex = labelIndex
    self.classCounts = classCounts
    self.vocabulary = vocabulary
    self.config = config
    self.augmenter = augmenter
    blockRows = stream.blocks.map(\.rows)
    var first = [Int](repeating: 0, count: stream.blocks.count)
    for b in stream.blocks.indices.dropFirst() {
      first[b] = first[b - 1] + stream.blocks[b - 1].rows
    }
    firstRow = first
  }

  var rereads: Bool { true }

  func block(_ b: Int) throws -> (data: LabeledData, augment: Trainer.Augment?) {
    let rows = try stream.read(stream.blocks[b])
    let texts = rows.map(\.text)
    let data = LabeledData(
      features: FeatureMatrix(
        texts: texts, vocabulary: vocabulary, config: config.features,
        threads: max(1, config.threads)),
      labels: rows.map { labelIndex[$0.label] ?? 0 })
    let augment = augmenter.map {
      Finetune.augmentation(
        $0, trainTexts: texts, labels: data.labels, vocab: vocabulary, config: config,
        precompute: false, firstRow: firstRow[b])
    }
    return (data, augment)
  }
}
