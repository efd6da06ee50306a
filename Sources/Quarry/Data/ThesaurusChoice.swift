/// Where the synonyms of augmentation come from.
public enum ThesaurusChoice: Sendable, Equatable {
  /// None: variants use the operations that need no synonyms.
  case none
  /// The file the user named, used whatever share of the corpus it covers.
  case file(String)
  /// Of these files (say one per language), the one with synonyms for the largest share of
  /// the corpus's distinct words, if it has synonyms for `Thesaurus.minimumCoverage` of
  /// its word tokens.
  case bestOf([String])
}

extension Thesaurus {
  /// The share of a corpus's word tokens a thesaurus must have synonyms for to be chosen
  /// by `ThesaurusChoice.bestOf`. English's covers 2.5% of THUCNews's (Chinese headlines,
  /// one token a character, with a little English) and over 30% of R8's or SMS spam's.
  public static let minimumCoverage: Float = 0.05

  /// How much of a corpus (token → occurrences) has synonyms here: the share of its
  /// distinct tokens, and the share of its tokens.
  public func coverage(of words: [String: Int]) -> (types: Float, tokens: Float) {
    var types = 0
    var covered = 0
    var total = 0
    for (w, n) in words {
      total += n
      if !synonyms(of: w).isEmpty {
        types += 1
        covered += n
      }
    }
    return (Float(types) / Float(max(1, words.count)), Float(covered) / Float(max(1, total)))
  }

  /// A thesaurus restricted to a corpus's words, its file and its `coverage` of them.
  public struct Pick: Sendable {
    public var path: String
    public var thesaurus: Thesaurus
    public var coverage: (types: Float, tokens: Float)
  }

  /// Of the files at `paths`, each read restricted to the corpus's `words` (token →
  /// occurrences), the one with synonyms for the most distinct words (ties: the first);
  /// nil without a file that reads. Distinct words rank, not tokens: a few frequent
  /// function words that are content words elsewhere ("la", "en", "el" in an English
  /// thesaurus) would give English the lead on a Spanish corpus. A file that does not
  /// read is passed over: these are candidates, not the user's choice.
  public static func best(of paths: [String], for words: [String: Int]) -> Pick? {
    var best: Pick? = nil
    let keys = Set(words.keys)
    for path in paths {
      guard let t = try? Thesaurus.load(path: path, restrictTo: keys) else { continue }
      let coverage = t.coverage(of: words)
      if coverage.types > best?.coverage.types ?? -1 {
        best = Pick(path: path, thesaurus: t, coverage: coverage)
      }
    }
    return best
  }
}
