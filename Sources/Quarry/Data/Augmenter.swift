/// Easy data augmentation (EDA; Wei & Zou 2019) for text classification: new training
/// texts made from a labelled text by small token edits, each of which is assumed to keep
/// the text's label. The label is therefore unchanged: the caller pairs every variant with
/// the original text's label.
///
/// Three of EDA's four operations are implemented, as pure functions of a token array and
/// a seeded `SplitMix64` (so every variant is a function of the seed):
/// - synonym swap: n = max(1, round(α·len)) distinct positions whose word has synonyms
///   are replaced, each by a uniformly chosen synonym of its word;
/// - random insertion: n times, a synonym of a random word of the row is inserted at a
///   random position;
/// - random deletion: each word is deleted with probability α.
///
/// Synonyms come from a `Thesaurus`; a multi-word synonym ("motor vehicle") becomes
/// several tokens. Like EDA, the synonym operations never touch stop words
/// (`Augmenter.stopWords`); they also skip tokens with no letter (numbers, punctuation),
/// which the thesaurus would otherwise turn into words ("1" → "ace").
///
/// Here α is clamped to [0, 1] (NaN counts as 0) and `round` rounds half away from zero.
/// Uniform choices below n take `next() % n` (bias below n/2⁶⁴).
public struct Augmenter: Sendable {
  /// The synonym source; without one, only random deletion is available.
  public var thesaurus: Thesaurus?
  /// The fraction of words changed per operation (EDA's α).
  public var alpha: Float
  /// Splits texts into lowercased tokens, as for training.
  public var tokenizer: Tokenizer

  public init(thesaurus: Thesaurus? = nil, alpha: Float = 0.1, tokenizer: Tokenizer = Tokenizer()) {
    self.thesaurus = thesaurus
    self.alpha = alpha
    self.tokenizer = tokenizer
  }

  /// `count` augmented versions of `text` (none if `count` ≤ 0), each the edited tokens
  /// joined with single spaces. `text` is tokenized once with `tokenizer`; variant k
  /// applies operation k mod 3 to those tokens: 0 synonym swap, 1 random insertion,
  /// 2 random deletion. Without a thesaurus, variants 0 and 1 are random deletions too.
  /// A variant may equal the tokenized original (e.g. no word has a synonym, or nothing
  /// was deleted). The label of every variant is the label of `text`.
  public func variants(of text: String, count: Int, rng: inout SplitMix64) -> [String] {
    guard count > 0 else { return [] }
    var buffer = TokenBuffer()
    tokenizer.tokenize(text, into: &buffer)
    let thesaurus = self.thesaurus
    return EDA.variants(
      of: buffer.strings, count: count, alpha: alpha, hasSynonyms: thesaurus != nil,
      synonyms: { w in thesaurus.map { Augmenter.synonyms(of: w, in: $0) } ?? [] }, rng: &rng
    ).map { $0.joined(separator: " ") }
  }

  /// Synonym swap on string tokens (see `EDA.synonymSwap`); candidates are words with a
  /// letter, not stop words, that have synonyms.
  public static func synonymSwap(
    _ words: [String], alpha: Float, thesaurus: Thesaurus, rng: inout SplitMix64
  ) -> [String] {
    EDA.synonymSwap(words, alpha: alpha, synonyms: { synonyms(of: $0, in: thesaurus) }, rng: &rng)
  }

  /// Random insertion on string tokens (see `EDA.randomInsertion`).
  public static func randomInsertion(
    _ words: [String], alpha: Float, thesaurus: Thesaurus, rng: inout SplitMix64
  ) -> [String] {
    EDA.randomInsertion(
      words, alpha: alpha, synonyms: { synonyms(of: $0, in: thesaurus) }, rng: &rng)
  }

  /// Random deletion on string tokens (see `EDA.randomDeletion`).
  public static func randomDeletion(_ words: [String], alpha: Float, rng: inout SplitMix64)
    -> [String]
  {
    EDA.randomDeletion(words, alpha: alpha, rng: &rng)
  }

  /// The synonyms of a token as token sequences, or none for stop words and tokens
  /// without a letter (numbers, punctuation), which the thesaurus would turn into words
  /// ("1" → "ace").
  static func synonyms(of w: String, in thesaurus: Thesaurus) -> [[String]] {
    guard !stopWords.contains(w), w.unicodeScalars.contains(where: { $0.properties.isAlphabetic })
    else { return [] }
    return thesaurus.synonyms(of: w).map(tokens(of:))
  }

  /// The tokens of a (possibly multi-word) synonym: split at spaces.
  static func tokens(of synonym: String) -> [String] {
    synonym.split(separator: " ").map(String.init)
  }

  /// English stop words (function words: articles, pronouns, auxiliaries, prepositions,
  /// conjunctions and a few adverbs), lowercase. Synonym operations never pick these.
  public static let stopWords: Set<String> = [
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any",
    "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during",
    "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is",
    "it", "its", "itself", "just", "may", "me", "might", "more", "most", "must", "my",
    "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
  ]
}
