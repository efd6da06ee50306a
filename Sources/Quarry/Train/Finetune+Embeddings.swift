import Foundation

extension Finetune {
  /// The initial embedding table (V×D) of `vocab`'s words: the rows of `pretrained` for the
  /// words it has; the others uniform in ±std·√3, the pretrained values' spread; without a
  /// file, uniform in ±1/D at width `config.dim`. Also what the file covers: the share of
  /// training tokens (from `counts`) and of vocabulary words that have a vector.
  static func initialEmbedding(
    pretrained: String?, vocab: Vocabulary, counts: Vocabulary.Counts, config: TrainingConfig,
    vectorCache: String? = nil, progress: (Event) -> Void
  ) throws -> (embedding: [Float], dim: Int, info: ModelMetadata.PretrainedInfo?) {
    var rng = SplitMix64(seed: config.seed)
    var dim = config.dim
    var embedding: [Float]
    var pretrainedInfo: ModelMetadata.PretrainedInfo? = nil
    if let pretrained {
      let start = ContinuousClock.now
      dim = try PretrainedVectors.dimension(path: pretrained)
      let zero = [Float](repeating: 0, count: vocab.wordCount * dim)
      let loaded = try PretrainedVectors.load(
        path: pretrained, vocabulary: vocab, into: zero, dim: dim, cacheDirectory: vectorCache,
        threads: max(1, config.threads))
      embedding = loaded.embedding
      fillMissing(&embedding, found: loaded.found, dim: dim, rng: &rng)
      var covered = 0
      var types = 0
      for r in 0..<vocab.wordCount where loaded.found[r] {
        covered += counts.tokensPerWord[r]
        types += 1
      }
      let tokenCoverage = Float(covered) / Float(max(counts.totalTokens, 1))
      let typeCoverage = Float(types) / Float(max(vocab.wordCount, 1))
      try checkCoverage(
        pretrained, fileWords: loaded.fileWords, words: vocab.wordCount,
        tokenCoverage: tokenCoverage, progress: progress)
      pretrainedInfo = .init(
        path: pretrained, fileWords: loaded.fileWords, tokenCoverage: tokenCoverage,
        typeCoverage: typeCoverage)
      let secs = (ContinuousClock.now - start).seconds
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
    return (embedding, dim, pretrainedInfo)
  }

  /// Sets the rows (of width `dim`) that the pretrained file lacks (`found[r]` false) to
  /// uniform draws in ±std·√3, where std is the root mean square of the found rows' values
  /// (1/D when none is found), so new words start at the pretrained values' scale.
  static func fillMissing(
    _ embedding: inout [Float], found: [Bool], dim: Int, rng: inout SplitMix64
  ) {
    var sum2: Double = 0
    var n = 0
    for r in found.indices where found[r] {
      for j in 0..<dim { sum2 += Double(embedding[r * dim + j] * embedding[r * dim + j]) }
      n += dim
    }
    let std = n > 0 ? Float((sum2 / Double(n)).squareRoot()) : 1 / Float(dim)
    let a = std * Float(3).squareRoot()
    for r in found.indices where !found[r] {
      for j in 0..<dim { embedding[r * dim + j] = (rng.nextUnitFloat() * 2 - 1) * a }
    }
  }

  /// Fails when the pretrained file holds no vectors, or none of the training words (a
  /// wrong file or language: the embeddings would start as noise); warns when it covers
  /// under a fifth of the training tokens.
  static func checkCoverage(
    _ path: String, fileWords: Int, words: Int, tokenCoverage: Float,
    progress: (Event) -> Void
  ) throws {
    guard fileWords > 0 else { throw InputError(path: path, "holds no word vectors") }
    guard words > 0 else { return }
    guard tokenCoverage > 0 else {
      throw InputError(
        path: path,
        "has a vector for none of the training words: is it the corpus's language, and are its words tokens as Quarry splits them?"
      )
    }
    if tokenCoverage < 0.2 {
      progress(
        .warning(
          String(
            format: "%@ covers only %.1f%% of the training tokens: most embeddings start random",
            path, 100 * tokenCoverage)))
    }
  }
}
