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
    let words = buffer.strings
    var out: [String] = []
    out.reserveCapacity(count)
    for k in 0..<count {
      let edited: [String]
      switch (k % 3, thesaurus) {
      case (0, let t?):
        edited = Augmenter.synonymSwap(words, alpha: alpha, thesaurus: t, rng: &rng)
      case (1, let t?):
        edited = Augmenter.randomInsertion(words, alpha: alpha, thesaurus: t, rng: &rng)
      default:
        edited = Augmenter.randomDeletion(words, alpha: alpha, rng: &rng)
      }
      out.append(edited.joined(separator: " "))
    }
    return out
  }

  /// Synonym swap: picks n = max(1, round(α·len)) distinct candidate positions (a
  /// candidate is a word with a letter, not a stop word, that has synonyms) by a partial
  /// seeded Fisher–Yates shuffle of the candidates — all of them if there are fewer than
  /// n — and replaces each by a uniformly chosen synonym of its word. Every other token is
  /// kept in place. Returns `words` unchanged if there is no candidate.
  public static func synonymSwap(
    _ words: [String], alpha: Float, thesaurus: Thesaurus, rng: inout SplitMix64
  ) -> [String] {
    var candidates = candidatePositions(words, thesaurus)
    guard !candidates.isEmpty else { return words }
    let n = min(editCount(alpha, words.count), candidates.count)
    var replacement = [String?](repeating: nil, count: words.count)
    for i in 0..<n {
      candidates.swapAt(i, i + uniform(candidates.count - i, &rng))
      let p = candidates[i]
      let syns = thesaurus.synonyms(of: words[p])
      replacement[p] = syns[uniform(syns.count, &rng)]
    }
    var out: [String] = []
    out.reserveCapacity(words.count + n)
    for (p, w) in words.enumerated() {
      if let s = replacement[p] { out.append(contentsOf: tokens(of: s)) } else { out.append(w) }
    }
    return out
  }

  /// Random insertion: n = max(1, round(α·len)) times, picks a uniformly random
  /// candidate position of the original row (as for `synonymSwap`), a uniformly random
  /// synonym of its word, and a uniformly random gap of the current row (before, between
  /// or after its words, never inside an inserted multi-word synonym), and inserts the
  /// synonym's tokens there. Returns `words` unchanged if there is no candidate.
  public static func randomInsertion(
    _ words: [String], alpha: Float, thesaurus: Thesaurus, rng: inout SplitMix64
  ) -> [String] {
    let candidates = candidatePositions(words, thesaurus)
    guard !candidates.isEmpty else { return words }
    let n = editCount(alpha, words.count)
    // One segment per original word or inserted synonym, flattened at the end.
    var segments: [[String]] = words.map { [$0] }
    for _ in 0..<n {
      let w = words[candidates[uniform(candidates.count, &rng)]]
      let syns = thesaurus.synonyms(of: w)
      let s = syns[uniform(syns.count, &rng)]
      segments.insert(tokens(of: s), at: uniform(segments.count + 1, &rng))
    }
    return Array(segments.joined())
  }

  /// Random deletion: deletes each word independently with probability α (a draw of
  /// `nextUnitFloat()` below α), keeping the order of the rest. If every word was
  /// deleted, returns one uniformly chosen word instead; input of at most one word is
  /// returned unchanged (and draws nothing).
  public static func randomDeletion(_ words: [String], alpha: Float, rng: inout SplitMix64)
    -> [String]
  {
    guard words.count > 1 else { return words }
    let p = clamped(alpha)
    var out: [String] = []
    out.reserveCapacity(words.count)
    for w in words where rng.nextUnitFloat() >= p { out.append(w) }
    if out.isEmpty { return [words[uniform(words.count, &rng)]] }
    return out
  }

  /// Positions whose word may be swapped or used for insertion: it has a letter, is not a
  /// stop word and has at least one synonym.
  static func candidatePositions(_ words: [String], _ thesaurus: Thesaurus) -> [Int] {
    words.indices.filter { i in
      let w = words[i]
      return !stopWords.contains(w) && w.unicodeScalars.contains { $0.properties.isAlphabetic }
        && !thesaurus.synonyms(of: w).isEmpty
    }
  }

  /// n = max(1, round(α·len)), α clamped to [0, 1].
  static func editCount(_ alpha: Float, _ length: Int) -> Int {
    max(1, Int((Double(clamped(alpha)) * Double(length)).rounded()))
  }

  static func clamped(_ alpha: Float) -> Float { alpha.isNaN ? 0 : min(max(alpha, 0), 1) }

  /// Uniform in 0..<n (n > 0).
  static func uniform(_ n: Int, _ rng: inout SplitMix64) -> Int {
    Int(rng.next() % UInt64(n))
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
