import Foundation

/// Checks that refuse, before any large allocation, a run whose result could not be a
/// classifier or could not fit: labels that are one row each, no features, a model over
/// the size limit or over the machine's memory.
extension Finetune {
  /// Fails when more than half of the rows are the only row of their label (and there are
  /// more than two labels): the label column then names rows, not classes, as when
  /// tags joined by a separator other than `--label-separator`'s are read as one label each.
  static func checkLabelCounts(_ counts: [String: Int], path: String) throws {
    let rows = counts.values.reduce(0, +)
    let single = counts.values.filter { $0 == 1 }.count
    guard counts.count > 2, 2 * single > rows else { return }
    throw InputError(
      path: path,
      "\(counts.count) labels for \(rows) rows, \(single) of them with one row only: a class needs rows to learn from. Is the label column the label? (Tags joined by another separator than --label-separator's, ',', are read as one label each.)"
    )
  }

  /// The checks before training: `checkFeatures`, then `checkSize` at the width of the
  /// pretrained vectors (`config.dim` without them).
  static func checkTrainable(
    _ vocab: Vocabulary, counts: Vocabulary.Counts, classes: Int, rows: Int, pretrained: String?,
    encoderDim: Int, config: TrainingConfig, path: String
  ) throws {
    try checkFeatures(
      vocab, counts: counts, hasEncoder: encoderDim > 0, config: config, path: path)
    try checkSize(
      vocab, classes: classes, rows: rows,
      dim: try pretrained.map(PretrainedVectors.dimension(path:)) ?? config.dim,
      encoderDim: encoderDim, config: config, path: path)
  }

  /// Fails when no word or n-gram of the training texts was kept (the vocabulary may still
  /// hold the thesaurus's synonyms, which no text has) and no encoder gives vectors: every
  /// text would score the same.
  static func checkFeatures(
    _ vocab: Vocabulary, counts: Vocabulary.Counts, hasEncoder: Bool, config: TrainingConfig,
    path: String
  ) throws {
    let ngrams = vocab.featureCount - vocab.wordCount
    guard ngrams == 0, !counts.tokensPerWord.contains(where: { $0 > 0 }), !hasEncoder else {
      return
    }
    var why = "no word or n-gram is left to learn from"
    if config.minCount > 1 {
      why += ": every one occurs in fewer than \(config.minCount) rows (lower --min-count)"
    } else if !config.features.tokenizer.keepPunctuation {
      why += ": the texts hold only punctuation, which --no-punctuation drops"
    }
    throw InputError(path: path, why)
  }

  /// The bytes of a model's parameters: the wide part F×C, the embedding V×D, the dense
  /// layer C×D, the bias and the encoder part C×H, at 4 bytes each.
  static func parameterBytes(
    featureCount: Int, wordCount: Int, classes: Int, dim: Int, encoderDim: Int
  ) -> Int {
    4 * (featureCount * classes + wordCount * dim + classes * (dim + 1 + encoderDim))
  }

  /// Copies of the parameters a training run holds at once: the model, the gradient
  /// scatter's rows, the best epoch, the checkpoint's snapshot and the bytes being written.
  static let trainingCopies = 4

  /// Fails when the model would be larger than `config.maxModelBytes`, or the run would
  /// need more than 90% of the machine's memory, with the figure and what would shrink it.
  static func checkSize(
    _ vocab: Vocabulary, classes: Int, rows: Int, dim: Int, encoderDim: Int,
    config: TrainingConfig, path: String, memory: UInt64 = ProcessInfo.processInfo.physicalMemory
  ) throws {
    let model = parameterBytes(
      featureCount: vocab.featureCount, wordCount: vocab.wordCount, classes: classes, dim: dim,
      encoderDim: encoderDim)
    // Per-row training dynamics and cross-fitted probabilities: rows × C floats each.
    let peak = trainingCopies * model + 3 * 4 * rows * classes
    let shrink =
      "\(vocab.featureCount) features × \(classes) classes in its wide part"
      + (config.minCount < 5 ? "; --min-count 5 keeps fewer features" : "")
    if model > config.maxModelBytes {
      throw InputError(
        path: path,
        "the model would take \(megabytes(model)) MB (\(shrink)), over --max-model-mb \(config.maxModelBytes >> 20); raise it if that is meant"
      )
    }
    if Double(peak) > 0.9 * Double(memory) {
      throw InputError(
        path: path,
        "training would need about \(megabytes(peak)) MB of this machine's \(megabytes(Int(clamping: memory))) MB (\(shrink))"
      )
    }
  }

  /// Bytes as whole MB (2^20 bytes), rounded up.
  static func megabytes(_ bytes: Int) -> String { "\((bytes + (1 << 20) - 1) >> 20)" }
}
