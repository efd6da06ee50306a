import Foundation

/// `Finetune` for a corpus too large to hold in memory: the file is read in blocks, and
/// memory is bounded by the model (vocabulary, capped at `maxFeatures` keys by pruning
/// rare ones; the weights) and one block of rows, not by the corpus.
///
///   1. One pass over the file counts labels and features and notes where blocks start.
///   2. Every epoch visits the blocks in a seeded random order; each block is read again,
///      featurized and shuffled, and trained with `TrainingPass` as the in-memory trainer
///      trains the whole corpus: cross-entropy on every row, then, after the warm-up, the
///      block's boundary rows (scored by the model just before the block) and their
///      variants with focal loss.
///
/// What needs every row at once is left out: training dynamics, cross-fitting, a held-out
/// share (give `valid`), checkpoints, and thesaurus synonyms (variants are random
/// deletions). mine-report then works from the model's own probabilities.
public enum StreamingFinetune {
  public static func run(
    train path: String, format: CorpusFormat? = nil, skipBadRows: Bool = false,
    valid validCorpus: Corpus?, pretrained: String?, config: TrainingConfig,
    maxFeatures: Int = 2_000_000, blockBytes: Int = 16 << 20, vectorCache: String? = nil,
    shouldStop: @escaping () -> Bool = { false },
    progress: (Finetune.Event) -> Void = { _ in }
  ) throws -> Model {
    // 1. Labels, vocabulary and blocks, in one pass.
    var labelCounts: [String: Int] = [:]
    var builder = Vocabulary.Builder(config: config.features, maxKeys: maxFeatures)
    let start = DispatchTime.now().uptimeNanoseconds
    let stream = try CorpusStream.scan(
      path: path, format: format, skipBadRows: skipBadRows, blockBytes: blockBytes
    ) { rows in
      if shouldStop() { throw Trainer.TrainingError.interrupted(epoch: 0) }
      for e in rows {
        labelCounts[e.label, default: 0] += 1
        builder.add(e.text)
      }
    }
    let labels = labelCounts.keys.sorted()
    let labelIndex = try Finetune.classIndex(labels, train: path, valid: validCorpus)
    let (vocab, counts) = builder.finish(minCount: config.minCount)
    try Finetune.checkLabelCounts(labelCounts, path: path)
    try Finetune.checkFeatures(vocab, counts: counts, hasEncoder: false, config: config, path: path)
    try Finetune.checkSize(
      vocab, classes: labels.count, rows: 0,
      dim: try pretrained.map(PretrainedVectors.dimension(path:)) ?? config.dim, encoderDim: 0,
      config: config, path: path)
    progress(
      .note(
        String(
          format: "%@: %d rows, %d classes (%@, streamed in %d blocks)%@; read in %.1f s",
          path, stream.rows, labels.count, stream.format.rawValue, stream.blocks.count,
          stream.skippedCount > 0 ? ", \(stream.skippedCount) bad rows skipped" : "",
          Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)))
    progress(
      .note(
        "vocabulary: \(vocab.wordCount) words, \(vocab.featureCount - vocab.wordCount) n-gram features"
          + (builder.pruneThreshold > 1
            ? " (kept to \(maxFeatures) keys: those in fewer than \(builder.pruneThreshold) rows dropped)"
            : "")))

    let (embedding, dim, pretrainedInfo) = try Finetune.initialEmbedding(
      pretrained: pretrained, vocab: vocab, counts: counts, config: config,
      vectorCache: vectorCache, progress: progress)
    var modelConfig = config
    modelConfig.dim = dim
    modelConfig.learningRate = Finetune.learningRateNoting(
      config, tokens: counts.totalTokens, rows: builder.documents, progress: progress)
    modelConfig.validFraction = 0
    modelConfig.crossFit = 0
    setBLASThreads(1)
    var model = Classifier(
      classes: labels.count, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: dim, embedding: embedding)
    let validData = validCorpus.map {
      LabeledData(
        features: FeatureMatrix(
          texts: $0.examples.map(\.text), vocabulary: vocab, config: config.features,
          threads: config.threads),
        labels: $0.examples.map { labelIndex[$0.label] ?? 0 })
    }
    let augmenter =
      config.mine && config.augment ? KeyAugmenter(alpha: config.augmentAlpha) : nil
    if augmenter != nil {
      progress(.note("streaming: mined rows are augmented by random deletion only"))
    }

    // 2. Epochs over the blocks.
    let bs = max(1, config.batchSize)
    let threads = max(1, config.threads)
    let steps = stream.blocks.reduce(0) { $0 + ($1.rows + bs - 1) / bs }
    var pass = TrainingPass(
      config: modelConfig, classes: labels.count, dim: dim,
      classWeight: config.classWeighting.weights(
        counts: labels.map { labelCounts[$0] ?? 0 }),
      totalSteps: config.epochs * steps)
    var rng = SplitMix64(seed: config.seed &+ 0x5151)
    var blockOrder = Array(stream.blocks.indices)
    // Each block's first row in the whole file: variants are seeded by it.
    var firstRow = [Int](repeating: 0, count: stream.blocks.count)
    for b in stream.blocks.indices.dropFirst() {
      firstRow[b] = firstRow[b - 1] + stream.blocks[b - 1].rows
    }
    var summaries: [EpochSummary] = []
    var best: TrainerState.Best? = nil
    for epoch in 1...max(1, config.epochs) {
      let epochStart = DispatchTime.now().uptimeNanoseconds
      rng.shuffle(&blockOrder)
      var loss: Double = 0
      var done = 0
      var minedPerClass = [Int](repeating: 0, count: labels.count)
      var minedTrained = 0
      var anyMined = false
      var miningSeconds = 0.0
      var passSeconds = 0.0
      for b in blockOrder {
        let rows = try stream.read(stream.blocks[b])
        let texts = rows.map(\.text)
        let data = LabeledData(
          features: FeatureMatrix(
            texts: texts, vocabulary: vocab, config: config.features, threads: threads),
          labels: rows.map { labelIndex[$0.label] ?? 0 })
        var order = Array(0..<data.count)
        rng.shuffle(&order)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let scores =
          config.mine && epoch > config.mineWarmup
          ? model.probabilities(data.features, threads: threads) : nil
        miningSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let augment = augmenter.map {
          Finetune.augmentation(
            $0, trainTexts: texts, labels: data.labels, vocab: vocab, config: config,
            precompute: false, firstRow: firstRow[b])
        }
        let base = done
        let outcome = try pass.run(
          model: &model, data: data, order: order, scores: scores, epoch: epoch,
          augment: augment, rng: &rng, shouldStop: shouldStop
        ) { n, l in
          let secs = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
          progress(
            .training(
              .step(
                epoch: epoch, done: base + n, total: stream.rows,
                loss: Float((loss + l) / Double(base + n)),
                examplesPerSecond: Double(base + n) / max(secs, 1e-9))))
        }
        loss += outcome.loss
        done += data.count
        miningSeconds += outcome.selectSeconds
        passSeconds += outcome.passSeconds
        if let m = outcome.mined {
          anyMined = true
          for (c, k) in m.perClass.enumerated() { minedPerClass[c] += k }
          minedTrained += m.trained
        }
      }
      guard loss.isFinite, model.isFinite else {
        throw Trainer.TrainingError.diverged(epoch: epoch, learningRate: config.learningRate)
      }
      var summary = EpochSummary(
        epoch: epoch, loss: Float(loss / Double(max(done, 1))), isBest: validData == nil)
      if anyMined {
        summary.minedPerClass = minedPerClass
        summary.minedTrained = minedTrained
      }
      if let validData, validData.count > 0 {
        Trainer.validate(
          model, on: validData, epoch: epoch, threads: threads, summary: &summary, best: &best)
      }
      summaries.append(summary)
      let secs = Double(DispatchTime.now().uptimeNanoseconds - epochStart) / 1e9
      progress(
        .training(
          .epoch(
            summary, seconds: secs, examplesPerSecond: Double(done) / max(secs, 1e-9),
            miningSeconds: miningSeconds, minedPassSeconds: passSeconds)))
    }

    let meta = ModelMetadata(
      quarryVersion: Finetune.version, labels: labels, config: modelConfig,
      classes: labels.count, dim: dim, featureCount: vocab.featureCount,
      wordCount: vocab.wordCount,
      corpus: .init(
        path: path, contentHash: stream.contentHashHex, rows: stream.rows,
        trainRows: stream.rows, validRows: validCorpus?.examples.count ?? 0),
      pretrained: pretrainedInfo, bestEpoch: best?.epoch ?? summaries.count, epochs: summaries)
    return Model(metadata: meta, vocabulary: vocab, classifier: best?.model ?? model)
  }
}
