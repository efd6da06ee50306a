// The corpora, settings and models that the tests train on, in one place.
//
// Public API only (a plain `import Quarry`) and no XCTest: Scripts/fuzz compiles this file
// into the model-file fuzzer (Tests/Fuzz/FuzzModelFile.swift) as well.
import Quarry

/// A synthetic corpus of three classes (food, money, sport) told apart by keywords: every
/// text holds two keywords of its class and two shared noise words, in a seeded order.
enum KeywordCorpus {
  static let labels = ["food", "money", "sport"]
  static let keywords = [
    ["bread", "cheese", "soup", "recipe", "oven"], ["bank", "rates", "stock", "market", "loan"],
    ["goal", "match", "team", "score", "league"],
  ]
  static let noise = ["the", "a", "today", "new", "big", "story", "report", "of"]

  /// Rows in class order: row i has class i mod `classes.count`, whose keywords are those
  /// of the label `classes[i mod classes.count]`. With `strays`, a third of the rows (drawn
  /// from the same generator) hold one keyword of the next class as well.
  static func rows(
    count: Int, seed: UInt64, classes: [String] = labels, strays: Bool = false
  ) -> [(label: Int32, text: String)] {
    let sets = classes.map { keywords[labels.firstIndex(of: $0)!] }
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { i in
      let y = i % sets.count
      var words = [
        sets[y][Int(rng.next() % 5)], sets[y][Int(rng.next() % 5)],
        noise[Int(rng.next() % 8)], noise[Int(rng.next() % 8)],
      ]
      if strays && rng.next() % 3 == 0 {
        words.append(sets[(y + 1) % sets.count][Int(rng.next() % 5)])
      }
      rng.shuffle(&words)
      return (Int32(y), words.joined(separator: " "))
    }
  }

  /// The rows of all three classes with label names: food, money, sport, food, …
  static func named(count: Int, seed: UInt64) -> [(label: String, text: String)] {
    rows(count: count, seed: seed).map { (labels[Int($0.label)], $0.text) }
  }

  /// Features, labels and an initial classifier, as `Finetune.run` builds them.
  static func setup(_ rows: [(label: Int32, text: String)], config: TrainingConfig, classes: Int)
    -> (data: LabeledData, initial: Classifier)
  {
    let texts = rows.map(\.text)
    let (vocab, _) = Vocabulary.build(texts: texts, config: config.features)
    var rng = SplitMix64(seed: config.seed)
    let embedding =
      Matrix(rows: vocab.wordCount, cols: config.dim, uniform: 1 / Float(config.dim), rng: &rng)
      .values
    let data = LabeledData(
      features: FeatureMatrix(texts: texts, vocabulary: vocab, config: config.features),
      labels: rows.map(\.label))
    let initial = Classifier(
      classes: classes, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: config.dim, embedding: embedding)
    return (data, initial)
  }
}

enum TrainingFixtures {
  // MARK: Corpora

  /// Rows as the text of a TSV file: label, tab, text, newline.
  static func tsv(_ rows: [(label: String, text: String)]) -> String {
    rows.map { "\($0.label)\t\($0.text)\n" }.joined()
  }

  /// Rows parsed as a TSV corpus; `path` names it in errors and in the model's metadata.
  static func corpus(_ rows: [(label: String, text: String)], path: String) throws -> Corpus {
    try CorpusReader.parse(bytes: Array(tsv(rows).utf8), path: path)
  }

  /// `count` keyword rows of `seed` (`KeywordCorpus.named`) as a TSV corpus.
  static func keywordCorpus(count: Int, seed: UInt64, path: String = "k.tsv") throws -> Corpus {
    try corpus(KeywordCorpus.named(count: count, seed: seed), path: path)
  }

  /// 240 keyword rows with 15% of labels drawn afresh, at random (so possibly the same),
  /// so that the miner has boundary rows.
  static func noisyKeywordCorpus() throws -> Corpus {
    var rows = KeywordCorpus.named(count: 240, seed: 4)
    var rng = SplitMix64(seed: 9)
    for i in rows.indices where rng.next() % 100 < 15 {
      rows[i].label = KeywordCorpus.labels[Int(rng.next() % 3)]
    }
    return try corpus(rows, path: "keywords.tsv")
  }

  /// Three classes of one template each, `repeats` numbered rows a class, in turn:
  /// "sports\tthe team won the match 0 goal", then money, then food; as "tiny.tsv".
  static func tinyCorpus(repeats: Int) throws -> Corpus {
    var text = ""
    for i in 0..<repeats {
      text += "sports\tthe team won the match \(i) goal\n"
      text += "money\tthe bank raised rates \(i) percent\n"
      text += "food\tfresh bread and cheese \(i) tasty\n"
    }
    return try CorpusReader.parse(bytes: Array(text.utf8), path: "tiny.tsv")
  }

  // MARK: Settings

  /// What a setting is when a test does not give it.
  static let defaults = TrainingConfig()

  /// Word n-grams up to `wordNgrams`, character n-grams of the lengths `charNgrams`
  /// (0...0: none), `FeatureConfig`'s defaults otherwise.
  static func features(wordNgrams: Int, charNgrams: ClosedRange<Int> = 0...0) -> FeatureConfig {
    var f = FeatureConfig()
    f.wordNgrams = wordNgrams
    f.charNgramMin = charNgrams.lowerBound
    f.charNgramMax = charNgrams.upperBound
    return f
  }

  /// A run small enough for a test: `epochs` epochs of width `dim`; every setting not
  /// given is `TrainingConfig`'s default.
  static func config(
    epochs: Int, dim: Int, batchSize: Int = defaults.batchSize, threads: Int = defaults.threads,
    seed: UInt64 = defaults.seed, validFraction: Float = defaults.validFraction,
    crossFit: Int = defaults.crossFit, crossFitEpochs: Int = defaults.crossFitEpochs,
    features: FeatureConfig = defaults.features
  ) -> TrainingConfig {
    var c = TrainingConfig()
    c.epochs = epochs
    c.dim = dim
    c.batchSize = batchSize
    c.threads = threads
    c.seed = seed
    c.validFraction = validFraction
    c.crossFit = crossFit
    c.crossFitEpochs = crossFitEpochs
    c.features = features
    return c
  }

  /// Settings that fit `KeywordCorpus` (rows of four words): width 8, batches of 8, the
  /// dense layer at the base rate `learningRate`, word n-grams up to `wordNgrams` and no
  /// character n-grams.
  static func keywordConfig(
    epochs: Int, learningRate: Float = 0.5, wordNgrams: Int = 2, seed: UInt64 = 1,
    threads: Int = 1, crossFit: Int = defaults.crossFit,
    crossFitEpochs: Int = defaults.crossFitEpochs
  ) -> TrainingConfig {
    var c = config(
      epochs: epochs, dim: 8, batchSize: 8, threads: threads, seed: seed, crossFit: crossFit,
      crossFitEpochs: crossFitEpochs, features: features(wordNgrams: wordNgrams))
    c.learningRate = learningRate
    c.denseLRScale = 1
    return c
  }

  /// Mining, augmentation (deletion only: no thesaurus), a validation share, cross-fitting:
  /// a small run in which every part of the state that crosses epochs is in play.
  static func fullRunConfig() -> TrainingConfig {
    var c = config(
      epochs: 6, dim: 8, batchSize: 16, threads: 2, validFraction: 0.2, crossFit: 2,
      crossFitEpochs: 2)
    c.mineWarmup = 1
    return c
  }

  // MARK: Models

  /// A small model trained for two epochs on `tinyCorpus(repeats: 12)`, with a validation
  /// share, bigrams and character n-grams, and mining and cross-fitting as by default (so
  /// that its file holds the training dynamics and the cross-fitted probabilities too);
  /// built once.
  static let tinyModel = Result<Model, Error> {
    let config = TrainingFixtures.config(
      epochs: 2, dim: 6, batchSize: 8, threads: 1, validFraction: 0.25,
      features: features(wordNgrams: 2, charNgrams: 3...4))
    return try Finetune.run(
      train: try tinyCorpus(repeats: 12), valid: nil, pretrained: nil, config: config)
  }
}
