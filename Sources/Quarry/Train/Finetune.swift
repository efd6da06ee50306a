import Foundation

/// From a training corpus (and optionally a validation corpus and a pretrained-vector
/// file) to a trained `Model`. The steps, in order: labels, validation split,
/// vocabulary, features, embeddings (pretrained rows, the rest random), training.
public enum Finetune {
  public enum Event: Sendable {
    /// A stage finished: a line for the user.
    case note(String)
    case training(TrainingEvent)
  }

  public static let version = "0.1.0"

  public static func run(
    train corpus: Corpus, valid validCorpus: Corpus?, pretrained: String?, config: TrainingConfig,
    thesaurus thesaurusPath: String? = nil, progress: (Event) -> Void = { _ in }
  ) throws -> Model {
    let labels = corpus.labelsInOrder.sorted()
    guard labels.count >= 2 else {
      throw InputError(
        path: corpus.path,
        "only one class (\(labels.first ?? "")): a classifier needs at least two labels")
    }
    let labelIndex = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })

    // Validation rows: a given corpus, or a stratified seeded share of the training rows.
    var trainRows = corpus.examples
    var validRows: [Example] = []
    if let validCorpus {
      for e in validCorpus.examples where labelIndex[e.label] == nil {
        throw InputError(
          path: validCorpus.path, line: e.line,
          "label '\(e.label)' does not occur in the training corpus \(corpus.path)")
      }
      validRows = validCorpus.examples
    } else if config.validFraction > 0 {
      (trainRows, validRows) = stratifiedSplit(
        corpus.examples, fraction: config.validFraction, seed: config.seed)
    }
    progress(
      .note(
        "\(corpus.path): \(corpus.examples.count) rows, \(labels.count) classes (\(corpus.format.rawValue))"
          + (corpus.skipped.isEmpty
            ? ""
            : ", \(corpus.skipped.count) bad row\(corpus.skipped.count == 1 ? "" : "s") skipped")
          + "; training on \(trainRows.count), validating on \(validRows.count)"))

    let trainTexts = trainRows.map(\.text)

    // Augmentation: a thesaurus restricted to the corpus's words; their synonyms join the
    // vocabulary so that the variants' new words have rows.
    var augmenter: KeyAugmenter? = nil
    var extraWords: [String] = []
    if config.mine && config.augment {
      let words = corpusWords(trainTexts, tokenizer: config.features.tokenizer)
      if let thesaurusPath {
        let th = try Thesaurus.load(path: thesaurusPath, restrictTo: words)
        // Synonyms split as texts are ("well-known" → well, -, known); new tokens join.
        var seen = Set<String>()
        var buffer = TokenBuffer()
        for w in words.sorted() {
          for s in th.synonyms(of: w, singleWordOnly: true) {
            config.features.tokenizer.tokenize(s, into: &buffer)
            for t in buffer.strings where !words.contains(t) && seen.insert(t).inserted {
              extraWords.append(t)
            }
          }
        }
        augmenter = KeyAugmenter(
          thesaurus: th, words: words, alpha: config.augmentAlpha,
          tokenizer: config.features.tokenizer)
        progress(
          .note(
            "thesaurus: \(th.count) of the corpus's \(words.count) words have synonyms; \(extraWords.count) synonyms join the vocabulary"
          ))
      } else {
        augmenter = KeyAugmenter(alpha: config.augmentAlpha)
        progress(.note("no thesaurus: mined rows are augmented by random deletion only"))
      }
    }

    let (vocab, counts) = Vocabulary.build(
      texts: trainTexts, config: config.features, minCount: config.minCount,
      extraWords: extraWords)
    progress(
      .note(
        "vocabulary: \(vocab.wordCount) words, \(vocab.featureCount - vocab.wordCount) n-gram features"
      ))

    // Embeddings.
    var rng = SplitMix64(seed: config.seed)
    var dim = config.dim
    var embedding: [Float]
    var pretrainedInfo: ModelMetadata.PretrainedInfo? = nil
    if let pretrained {
      let start = DispatchTime.now().uptimeNanoseconds
      dim = try PretrainedVectors.dimension(path: pretrained)
      let zero = [Float](repeating: 0, count: vocab.wordCount * dim)
      let loaded = try PretrainedVectors.load(
        path: pretrained, vocabulary: vocab, into: zero, dim: dim)
      embedding = loaded.embedding
      // Words the file lacks start random, at the scale of the pretrained values.
      var sum2: Double = 0
      var n = 0
      for r in 0..<vocab.wordCount where loaded.found[r] {
        for j in 0..<dim { sum2 += Double(embedding[r * dim + j] * embedding[r * dim + j]) }
        n += dim
      }
      let std = n > 0 ? Float((sum2 / Double(n)).squareRoot()) : 1 / Float(dim)
      let a = std * Float(3).squareRoot()
      for r in 0..<vocab.wordCount where !loaded.found[r] {
        for j in 0..<dim { embedding[r * dim + j] = (rng.nextUnitFloat() * 2 - 1) * a }
      }
      var covered = 0
      var types = 0
      for r in 0..<vocab.wordCount where loaded.found[r] {
        covered += counts.tokensPerWord[r]
        types += 1
      }
      let tokenCoverage = Float(covered) / Float(max(counts.totalTokens, 1))
      let typeCoverage = Float(types) / Float(max(vocab.wordCount, 1))
      pretrainedInfo = .init(
        path: pretrained, fileWords: loaded.fileWords, tokenCoverage: tokenCoverage,
        typeCoverage: typeCoverage)
      let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      progress(
        .note(
          String(
            format:
              "pretrained: %@ (%d words, dim %d) covers %.1f%% of training tokens, %.1f%% of vocabulary words (%.2f s)",
            pretrained, loaded.fileWords, dim, 100 * tokenCoverage, 100 * typeCoverage, secs)))
      if loaded.duplicates > 0 {
        progress(
          .note(
            "pretrained: \(loaded.duplicates) duplicate words after lowercasing; the first of each kept"
          ))
      }
    } else {
      embedding =
        Matrix(rows: vocab.wordCount, cols: dim, uniform: 1 / Float(dim), rng: &rng).values
    }

    let trainData = LabeledData(
      features: FeatureMatrix(
        texts: trainTexts, vocabulary: vocab, config: config.features, threads: config.threads),
      labels: trainRows.map { labelIndex[$0.label] ?? 0 })
    let validData =
      validRows.isEmpty
      ? nil
      : LabeledData(
        features: FeatureMatrix(
          texts: validRows.map(\.text), vocabulary: vocab, config: config.features,
          threads: config.threads),
        labels: validRows.map { labelIndex[$0.label] ?? 0 })

    var modelConfig = config
    modelConfig.dim = dim
    setBLASThreads(1)
    let initial = Classifier(
      classes: labels.count, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: dim, embedding: embedding)
    // Variants of mined rows, edited as word keys: seeded by (seed, epoch, row), made on
    // every thread in contiguous pieces joined in order (the same for any thread count).
    var keyFeaturizer = Featurizer(vocabulary: vocab, config: config.features)
    let rowKeys = augmenter == nil ? [] : trainTexts.map { keyFeaturizer.wordKeys($0) }
    let labelsOfRows = trainData.labels
    let augment: Trainer.Augment? = augmenter.map { aug in
      { rows, epoch in
        let parts = rows.count >= 256 ? max(1, config.threads) : 1
        var pieces = [LabeledData](
          repeating: LabeledData(features: FeatureMatrix(), labels: []), count: parts)
        pieces.withUnsafeMutableBufferPointer { out in
          parallelFor(parts) { t in
            var featurizer = Featurizer(vocabulary: vocab, config: config.features)
            var piece = LabeledData(features: FeatureMatrix(), labels: [])
            var scratch = SparseFeatures()
            for r in rows[chunk(rows.count, part: t, parts: parts)] {
              var rng = SplitMix64(
                seed: config.seed ^ (UInt64(epoch) << 40) ^ (UInt64(r) &* 0x9E37_79B9_7F4A_7C15))
              for v in aug.variants(of: rowKeys[r], count: config.augmentVariants, rng: &rng) {
                featurizer.features(wordKeys: v, into: &scratch)
                piece.features.append(scratch)
                piece.labels.append(labelsOfRows[r])
              }
            }
            out[t] = piece
          }
        }
        var all = pieces[0]
        for p in pieces.dropFirst() { all.append(p) }
        return all
      }
    }
    let result = try Trainer(config: modelConfig).train(
      model: initial, train: trainData, valid: validData, augment: augment
    ) { progress(.training($0)) }

    var heldOut: [Float]? = nil
    if config.crossFit >= 2 {
      let start = DispatchTime.now().uptimeNanoseconds
      heldOut = try CrossFit.probabilities(
        initial: initial, data: trainData,
        groups: trainRows.map { FNV1a.hash($0.text.utf8) }, folds: config.crossFit,
        config: modelConfig)
      let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      progress(
        .note(
          String(
            format: "cross-fitting: %d folds × %d epochs for out-of-sample label checks (%.2f s)",
            config.crossFit, config.crossFitEpochs, secs)))
    }

    let meta = ModelMetadata(
      quarryVersion: version, labels: labels, config: modelConfig, classes: labels.count,
      dim: dim, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      corpus: .init(
        path: corpus.path, contentHash: String(corpus.contentHash, radix: 16),
        rows: corpus.examples.count, trainRows: trainRows.count, validRows: validRows.count),
      pretrained: pretrainedInfo, bestEpoch: result.bestEpoch, epochs: result.epochs)
    return Model(
      metadata: meta, vocabulary: vocab, classifier: result.model, dynamics: result.dynamics,
      trainLines: trainRows.map { Int32(clamping: $0.line) }, heldOut: heldOut)
  }

  /// The distinct tokens of `texts`.
  static func corpusWords(_ texts: [String], tokenizer: Tokenizer) -> Set<String> {
    var words = Set<String>()
    var buffer = TokenBuffer()
    for t in texts {
      tokenizer.tokenize(t, into: &buffer)
      for i in 0..<buffer.count { words.insert(buffer.string(at: i)) }
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
