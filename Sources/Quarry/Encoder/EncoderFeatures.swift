/// What `BertEncoder.encode` returns: one row per input text, in input order.
public struct EncoderFeatures: Sendable {
  /// Texts encoded.
  public var rows: Int
  /// H, the width of each row.
  public var hidden: Int
  /// rows×H: the mean of the last layer's vectors over each text's tokens, [CLS] and
  /// [SEP] included (Hugging Face mean pooling with the attention mask).
  public var mean: [Float]
  /// rows×H: the last layer's vector of each text's [CLS] token.
  public var cls: [Float]
  /// Tokens per text, [CLS] and [SEP] included, after truncation.
  public var lengths: [Int]
  /// The floating-point operations the forward pass performed (sgemms and attention;
  /// element-wise work not counted).
  public var flops: Double

  public init(
    rows: Int, hidden: Int, mean: [Float], cls: [Float], lengths: [Int], flops: Double
  ) {
    self.rows = rows
    self.hidden = hidden
    self.mean = mean
    self.cls = cls
    self.lengths = lengths
    self.flops = flops
  }

  /// Σ lengths: the tokens encoded.
  public var tokens: Int { lengths.reduce(0, +) }
}

/// How `BertEncoder.encode` runs.
public struct EncodeOptions: Sendable {
  /// Tokens per text, [CLS] and [SEP] included; longer texts are truncated.
  public var maxLength: Int
  /// Texts per forward pass. Texts are sorted by length and packed without padding, so a
  /// batch is (Σ L_b)×H rows for every sgemm.
  public var batchSize: Int
  /// Threads over row ranges and attention heads (OpenBLAS is set to one thread while
  /// encoding, then restored).
  public var threads: Int

  public init(maxLength: Int = 256, batchSize: Int = 32, threads: Int = 2) {
    self.maxLength = maxLength
    self.batchSize = batchSize
    self.threads = threads
  }
}
