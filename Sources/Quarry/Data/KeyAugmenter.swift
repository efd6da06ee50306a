/// EDA on word keys instead of strings: the training rows are kept as sequences of word
/// keys (FNV-1a of the lowercased token, as `FeatureExtractor` makes them), and each corpus
/// word's synonyms are looked up once, as key sequences. A variant is then an edit of a
/// key array, featurized by `Featurizer.features(wordKeys:)` without any text: about two
/// orders of magnitude cheaper than editing, joining and re-tokenizing strings, which made
/// augmenting every row of R8 take 52 s. Variants carry no character n-grams.
public struct KeyAugmenter: Sendable {
  /// Synonyms by word key, each a sequence of word keys.
  public let table: [UInt64: [[UInt64]]]
  public let alpha: Float

  /// Looks up the synonyms of `words` (lowercased corpus tokens) in `thesaurus`, skipping
  /// stop words and tokens without a letter, as `Augmenter` does. Each synonym is split by
  /// `tokenizer` as a text would be ("well-known" → well, -, known), so that its keys are
  /// the ones a real text produces.
  public init(thesaurus: Thesaurus, words: Set<String>, alpha: Float, tokenizer: Tokenizer) {
    var table: [UInt64: [[UInt64]]] = [:]
    var config = FeatureConfig()
    config.tokenizer = tokenizer
    config.wordNgrams = 1
    var extractor = FeatureExtractor(config: config)
    for w in words {
      let syns = Augmenter.synonyms(of: w, in: thesaurus)
      guard !syns.isEmpty else { continue }
      table[FeatureExtractor.wordKey(w.utf8)] = syns.map { tokens in
        extractor.extract(tokens.joined(separator: " "))
        return extractor.wordKeys
      }.filter { !$0.isEmpty }
    }
    self.table = table
    self.alpha = alpha
  }

  /// Deletion-only augmentation, for when there is no thesaurus.
  public init(alpha: Float) {
    table = [:]
    self.alpha = alpha
  }

  /// `count` variants of a row's word keys: operation k mod 3 (swap, insertion, deletion).
  public func variants(of keys: [UInt64], count: Int, rng: inout SplitMix64) -> [[UInt64]] {
    EDA.variants(
      of: keys, count: count, alpha: alpha, hasSynonyms: !table.isEmpty,
      synonyms: { table[$0] ?? [] }, rng: &rng)
  }
}
