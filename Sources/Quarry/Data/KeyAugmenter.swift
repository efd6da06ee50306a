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
  /// The same synonyms as tokens (position −1: not from the row), by list number, and the
  /// list number of each key that has one; looked up once per row, not once per variant.
  private let lists: [[[Token]]]
  private let listOf: [UInt64: Int32]

  /// A word of a row or of a variant: its key, its position in the row it came from (−1
  /// for a word a synonym brought in), and its synonym list (−1: none).
  public struct Token: Sendable, Equatable {
    public var key: UInt64
    public var position: Int32
    public var synonyms: Int32
  }

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
    self.init(table: table, alpha: alpha)
  }

  /// Deletion-only augmentation, for when there is no thesaurus.
  public init(alpha: Float) {
    self.init(table: [:], alpha: alpha)
  }

  /// An augmenter over a given synonym table (key → synonyms as key sequences).
  public init(table: [UInt64: [[UInt64]]], alpha: Float) {
    self.table = table
    self.alpha = alpha
    // Lists numbered in key order, so the numbering does not depend on hashing.
    var listOf: [UInt64: Int32] = [:]
    for (n, key) in table.keys.sorted().enumerated() { listOf[key] = Int32(n) }
    let lists: [[[Token]]] = table.keys.sorted().map { key in
      table[key]!.map { syn in
        syn.map { Token(key: $0, position: -1, synonyms: listOf[$0] ?? -1) }
      }
    }
    self.lists = lists
    self.listOf = listOf
  }

  /// A row's word keys as tokens: positions 0..<n and their synonym lists.
  public func tokens(of keys: [UInt64]) -> [Token] {
    keys.enumerated().map { p, k in Token(key: k, position: Int32(p), synonyms: listOf[k] ?? -1) }
  }

  /// `count` variants of a row's tokens (from `tokens(of:)`): operation k mod 3 (swap,
  /// insertion, deletion). The same edits, drawn from the same random numbers, as
  /// `variants(of keys:)`; the tokens also say where each word came from.
  public func variants(of tokens: [Token], count: Int, rng: inout SplitMix64) -> [[Token]] {
    let none: [[Token]] = []
    return EDA.variants(
      of: tokens, count: count, alpha: alpha, hasSynonyms: !table.isEmpty,
      synonyms: { $0.synonyms >= 0 ? lists[Int($0.synonyms)] : none }, rng: &rng)
  }

  /// `count` variants of a row's word keys: operation k mod 3 (swap, insertion, deletion).
  public func variants(of keys: [UInt64], count: Int, rng: inout SplitMix64) -> [[UInt64]] {
    EDA.variants(
      of: keys, count: count, alpha: alpha, hasSynonyms: !table.isEmpty,
      synonyms: { table[$0] ?? [] }, rng: &rng)
  }
}
