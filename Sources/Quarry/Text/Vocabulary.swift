import Foundation

/// The features a model knows: every word, word n-gram and character n-gram seen in the
/// training corpus (at least `minCount` documents), each with a row. Rows `0..<wordCount`
/// are words, which also own a row of the embedding table; the rest are n-grams.
///
/// idf(f) = ln((1 + N) / (1 + df(f))) + 1, with N training documents and df(f) the number
/// of documents containing f (scikit-learn's smoothed idf).
public struct Vocabulary: Sendable, Equatable {
  public var index: FeatureIndex
  public var wordCount: Int
  public var idf: [Float]

  public var featureCount: Int { index.count }

  public init(index: FeatureIndex, wordCount: Int, idf: [Float]) {
    self.index = index
    self.wordCount = wordCount
    self.idf = idf
  }

  /// Counts of one build: tokens per word row (for pretrained coverage) and totals.
  public struct Counts: Sendable {
    public var tokensPerWord: [Int]
    public var totalTokens: Int
    /// Of those, the tokens of scripts written without spaces (one letter each).
    public var unspacedTokens = 0
  }

  /// Builds the vocabulary of `texts`. Rows are numbered in order of first appearance,
  /// so the same corpus always gives the same rows. `extraWords` (lowercased) become word
  /// rows too, after the corpus's words, with df = 0: the synonyms that augmentation may
  /// put into a text, so that they have features and pretrained vectors. O(total tokens).
  public static func build(
    texts: [String], config: FeatureConfig, minCount: Int = 1, extraWords: [String] = []
  ) -> (Vocabulary, Counts) {
    Builder.counting(texts, config: config).finish(minCount: minCount, extraWords: extraWords)
  }

  /// Counts the features of documents one at a time, for a corpus too large to hold.
  /// With `maxKeys`, memory stays bounded: when words and n-grams together reach it, the
  /// keys seen in fewer than t documents are dropped, t = 2, 3, … until at most 3/4 of
  /// `maxKeys` remain (as fastText prunes its dictionary). A key dropped early counts
  /// afresh when it comes back, so its df is a lower bound; the kept keys are the frequent
  /// ones, and rows keep their order of first appearance.
  public struct Builder {
    var extractor: FeatureExtractor
    var words = KeyCounter()
    var others = KeyCounter()
    var totalTokens = 0
    var unspacedTokens = 0
    public private(set) var documents = 0
    public let maxKeys: Int?
    /// The document-frequency threshold of the last pruning (1: never pruned).
    public private(set) var pruneThreshold = 1

    public init(config: FeatureConfig, maxKeys: Int? = nil) {
      extractor = FeatureExtractor(config: config)
      self.maxKeys = maxKeys
    }

    /// A builder that has counted every feature of `texts`, ready for `finish`.
    public static func counting(_ texts: [String], config: FeatureConfig) -> Builder {
      var builder = Builder(config: config)
      for text in texts { builder.add(text) }
      return builder
    }

    public mutating func add(_ text: String) {
      extractor.extract(text)
      totalTokens += extractor.wordKeys.count
      if extractor.config.tokenizer.splitsUnspacedScripts {
        unspacedTokens += extractor.unspacedTokens
      }
      for k in extractor.wordKeys { words.add(k, doc: documents) }
      for k in extractor.otherKeys { others.add(k, doc: documents) }
      documents += 1
      if let maxKeys, words.keys.count + others.keys.count >= maxKeys {
        while words.keys.count + others.keys.count > maxKeys * 3 / 4 {
          pruneThreshold += 1
          words.prune(minDF: pruneThreshold)
          others.prune(minDF: pruneThreshold)
        }
      }
    }

    public func finish(minCount: Int = 1, extraWords: [String] = []) -> (Vocabulary, Counts) {
      var index = FeatureIndex(capacity: words.keys.count + others.keys.count)
      var idf: [Float] = []
      var tokensPerWord: [Int] = []
      let n = Float(documents)
      for (i, k) in words.keys.enumerated() where words.df[i] >= minCount {
        index.insert(k)
        idf.append(logf((1 + n) / (1 + Float(words.df[i]))) + 1)
        tokensPerWord.append(words.tf[i])
      }
      for w in extraWords where index.insert(FeatureExtractor.wordKey(w.utf8)).inserted {
        idf.append(logf(1 + n) + 1)
        tokensPerWord.append(0)
      }
      let wordCount = index.count
      for (i, k) in others.keys.enumerated() where others.df[i] >= minCount {
        if index.insert(k).inserted {
          idf.append(logf((1 + n) / (1 + Float(others.df[i]))) + 1)
        }
      }
      return (
        Vocabulary(index: index, wordCount: wordCount, idf: idf),
        Counts(
          tokensPerWord: tokensPerWord, totalTokens: totalTokens, unspacedTokens: unspacedTokens)
      )
    }
  }
}

/// Document and token frequencies of keys, in order of first appearance.
struct KeyCounter {
  var index = FeatureIndex()
  var keys: [UInt64] = []
  var df: [Int] = []
  var tf: [Int] = []
  var lastDoc: [Int] = []

  mutating func add(_ k: UInt64, doc: Int) {
    let (row, inserted) = index.insert(k)
    let r = Int(row)
    if inserted {
      keys.append(k)
      df.append(1)
      tf.append(1)
      lastDoc.append(doc)
    } else {
      tf[r] += 1
      if lastDoc[r] != doc {
        df[r] += 1
        lastDoc[r] = doc
      }
    }
  }
}

extension KeyCounter {
  /// Drops the keys seen in fewer than `minDF` documents; the rest keep their order.
  mutating func prune(minDF: Int) {
    var kept = KeyCounter()
    for i in keys.indices where df[i] >= minDF {
      kept.index.insert(keys[i])
      kept.keys.append(keys[i])
      kept.df.append(df[i])
      kept.tf.append(tf[i])
      kept.lastDoc.append(lastDoc[i])
    }
    self = kept
  }
}
