import Foundation

extension Finetune {
  /// `keyAugmenter` and the vocabulary of `trainTexts` with its extra words, noted. The
  /// thesaurus is read while another thread counts the corpus's features (the counts do
  /// not depend on it; its extra words join only in `finish`), so the vocabulary is the
  /// same as `Vocabulary.build`'s. On R8 the two took 0.25 and 0.14 s one after the other.
  static func augmenterAndVocabulary(
    trainTexts: [String], config: TrainingConfig, thesaurus: ThesaurusChoice,
    progress: (Event) -> Void
  ) throws -> (KeyAugmenter?, [String], Vocabulary, Vocabulary.Counts) {
    final class Slot<T>: @unchecked Sendable { var value: T? }
    let augmented = Slot<Result<(KeyAugmenter?, [String]), Error>>()
    let notes = Slot<[Event]>()
    let counted = Slot<Vocabulary.Builder>()
    parallelFor(config.threads > 1 ? 2 : 1) { part in
      if config.threads > 1 && part == 1 {
        counted.value = Vocabulary.Builder.counting(trainTexts, config: config.features)
        return
      }
      var events: [Event] = []
      augmented.value = Result {
        try keyAugmenter(
          trainTexts: trainTexts, config: config, thesaurus: thesaurus,
          progress: { events.append($0) })
      }
      notes.value = events
      if config.threads <= 1 {
        counted.value = Vocabulary.Builder.counting(trainTexts, config: config.features)
      }
    }
    for e in notes.value ?? [] { progress(e) }
    let (augmenter, extraWords) = try augmented.value!.get()
    let (vocab, counts) = counted.value!.finish(minCount: config.minCount, extraWords: extraWords)
    progress(
      .note(
        "vocabulary: \(vocab.wordCount) words, \(vocab.featureCount - vocab.wordCount) n-gram features"
      ))
    return (augmenter, extraWords, vocab, counts)
  }

  /// The augmenter of the mined pass and the words it may write that the corpus lacks. A
  /// thesaurus is restricted to the corpus's words; their one-word synonyms, split as texts
  /// are ("well-known" → well, -, known), join the vocabulary so that variants have rows.
  /// Without a thesaurus, variants are random deletions. Nil when augmentation is off.
  static func keyAugmenter(
    trainTexts: [String], config: TrainingConfig, thesaurus: ThesaurusChoice,
    progress: (Event) -> Void
  ) throws -> (KeyAugmenter?, [String]) {
    var augmenter: KeyAugmenter? = nil
    var extraWords: [String] = []
    if config.mine && config.augment {
      let counts = corpusWords(trainTexts, tokenizer: config.features.tokenizer)
      let words = Set(counts.keys)
      if let pick = try chooseThesaurus(thesaurus, words: counts, progress: progress) {
        let th = pick.thesaurus
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
            "thesaurus \(URL(fileURLWithPath: pick.path).lastPathComponent): \(th.count) of the corpus's \(words.count) words have synonyms; \(extraWords.count) synonyms join the vocabulary"
          ))
      } else {
        augmenter = KeyAugmenter(alpha: config.augmentAlpha)
      }
    }
    return (augmenter, extraWords)
  }

  /// The thesaurus `choice` gives for a corpus of `words` (with their counts), or nil, with
  /// a note saying why when there is none. A file the user named must read; candidates
  /// need not.
  static func chooseThesaurus(
    _ choice: ThesaurusChoice, words: [String: Int], progress: (Event) -> Void
  ) throws -> Thesaurus.Pick? {
    let none = "mined rows are augmented by random deletion only"
    switch choice {
    case .none:
      progress(.note("no thesaurus: \(none)"))
      return nil
    case .file(let path):
      let t = try Thesaurus.load(path: path, restrictTo: Set(words.keys))
      return .init(path: path, thesaurus: t, coverage: t.coverage(of: words))
    case .bestOf(let paths):
      guard let pick = Thesaurus.best(of: paths, for: words) else {
        progress(.note("no thesaurus found: \(none) (--thesaurus names one)"))
        return nil
      }
      guard pick.coverage.tokens >= Thesaurus.minimumCoverage else {
        progress(
          .note(
            String(
              format:
                "no thesaurus covers this corpus (the best, %@, has synonyms for %.1f%% of its word tokens): %@",
              URL(fileURLWithPath: pick.path).lastPathComponent, 100 * pick.coverage.tokens, none)))
        return nil
      }
      return pick
    }
  }

  /// Rows longer than this (in words) are not augmented; R8's longest has 964.
  static let maxAugmentedTokens = 10_000

  /// The trainer's `augment`: variants of mined rows, edited as word keys (of each row the
  /// first time it is mined, kept for later epochs; with `precompute` false, every time),
  /// seeded by (seed,
  /// epoch, row), made on every thread in contiguous pieces joined in order (the same for
  /// any thread count), and featurized under `vocab` with their row's label.
  static func augmentation(
    _ aug: KeyAugmenter, trainTexts: [String], labels: [Int32], labelSets: [[Int32]]? = nil,
    vocab: Vocabulary, config: TrainingConfig, precompute: Bool = true,
    encoded: FeatureMatrix? = nil, firstRow: Int = 0
  ) -> Trainer.Augment {
    // In memory, a row's tokens and n-gram rows are made the first time it is mined and
    // kept (only mined rows: every row's would cost about 24 bytes a word); streamed (one
    // block per call), every time. A variant then looks up only the n-grams its edits made.
    let memo = precompute ? PreparedRows(count: trainTexts.count) : nil
    return { rows, epoch in
      if let memo {
        let missing = Array(Set(rows.filter { !memo.has($0) })).sorted()
        var made = [Prepared?](repeating: nil, count: missing.count)
        let parts = missing.count >= 256 ? max(1, config.threads) : 1
        made.withUnsafeMutableBufferPointer { out in
          parallelFor(parts) { t in
            var f = Featurizer(vocabulary: vocab, config: config.features)
            for i in chunk(missing.count, part: t, parts: parts) {
              out[i] = prepare(aug, f.wordKeys(trainTexts[missing[i]]), &f)
            }
          }
        }
        for (i, r) in missing.enumerated() { memo.set(r, made[i]!) }
      }
      let parts = rows.count >= 256 ? max(1, config.threads) : 1
      // Variants keep their row's classes: every one of them, for multi-label rows.
      let empty =
        labelSets == nil
        ? LabeledData(features: FeatureMatrix(), labels: [])
        : LabeledData(features: FeatureMatrix(), labelSets: [])
      var pieces = [LabeledData](repeating: empty, count: parts)
      pieces.withUnsafeMutableBufferPointer { out in
        parallelFor(parts) { t in
          var featurizer = Featurizer(vocabulary: vocab, config: config.features)
          var piece = empty
          var scratch = SparseFeatures()
          // EDA is for sentences: a row of more than `maxAugmentedTokens` words gets no
          // variants (a 50 MB row would otherwise be copied and featurized per variant).
          for r in rows[chunk(rows.count, part: t, parts: parts)] {
            let row = memo?.get(r) ?? prepare(aug, featurizer.wordKeys(trainTexts[r]), &featurizer)
            guard row.length <= maxAugmentedTokens else { continue }
            var rng = SplitMix64(
              seed: config.seed ^ (UInt64(epoch) << 40)
                ^ (UInt64(firstRow + r) &* 0x9E37_79B9_7F4A_7C15))
            for v in aug.variants(of: row.tokens, count: config.augmentVariants, rng: &rng) {
              featurizer.features(variant: v, original: row.ngrams, into: &scratch)
              // A variant keeps its row's encoder vector (encoding every variant of every
              // epoch would cost more than the rest of training).
              if let encoded, encoded.denseDim > 0 {
                piece.features.append(scratch, dense: encoded.denseRow(r))
              } else {
                piece.features.append(scratch)
              }
              piece.labels.append(labels[r])
              if let labelSets { piece.labelSets!.append(labelSets[r]) }
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

  /// A training row ready for augmentation: its tokens and the rows of its n-grams.
  struct Prepared {
    /// Words in the row (its tokens are left empty when there are too many to augment).
    var length: Int
    var tokens: [KeyAugmenter.Token]
    var ngrams: Featurizer.NgramRows
  }

  /// Rows longer than `maxAugmentedTokens` get no variants, so nothing is looked up.
  static func prepare(_ aug: KeyAugmenter, _ keys: [UInt64], _ f: inout Featurizer) -> Prepared {
    guard keys.count <= maxAugmentedTokens else {
      return Prepared(length: keys.count, tokens: [], ngrams: .init(byOrder: []))
    }
    return Prepared(
      length: keys.count, tokens: aug.tokens(of: keys), ngrams: f.ngramRows(wordKeys: keys))
  }

  /// Prepared rows by index, filled between augmentation calls and read during them.
  final class PreparedRows: @unchecked Sendable {
    private var rows: [Prepared?]

    init(count: Int) { rows = Array(repeating: nil, count: count) }

    func has(_ r: Int) -> Bool { rows[r] != nil }
    func get(_ r: Int) -> Prepared? { rows[r] }
    func set(_ r: Int, _ p: Prepared) { rows[r] = p }
  }
}
