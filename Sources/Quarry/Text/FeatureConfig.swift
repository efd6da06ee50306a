/// How a text becomes features: the tokenizer's settings, the longest word n-gram and
/// the range of character n-gram lengths (0 turns them off). Stored in the model file so
/// that `predict` featurizes exactly as `finetune` did.
public struct FeatureConfig: Codable, Sendable, Equatable {
  public var tokenizer = Tokenizer()
  /// Longest word n-gram: 1 = words only, 2 = words and bigrams, …
  public var wordNgrams = 2
  /// Character n-grams of each word wrapped in `<` `>`, lengths `charNgramMin...charNgramMax`.
  public var charNgramMin = 0
  public var charNgramMax = 0
  /// tf ↦ 1 + ln tf (sublinear term frequency) instead of the raw count.
  public var sublinearTF = true

  public init() {}

  public var usesCharNgrams: Bool { charNgramMin > 0 && charNgramMax >= charNgramMin }
}
