import Foundation

/// The parameters of Quarry's wide-and-deep classifier, whose forward pass
/// (`ClassifierView.forward`, over a batch) is:
///
///   e_i = Σ_w a_{i,w} · E[w]                                (embedding bag, D)
///   z_i = W_d · e_i + b + Σ_f x_{i,f} · W_w[f] + W_u · u_i    (logits, C)
///   p_i = softmax(z_i)        (single-label: one class per row)
///   p_i = σ(z_i), elementwise (multi-label: each class on its own, one-vs-rest)
///
/// with E (V×D) initialised from pretrained vectors, W_d (C×D) the dense layer, W_w (F×C)
/// the wide linear part over the tf-idf vector x of words and hashed n-grams, and, with a
/// frozen encoder, W_u (C×H) over its pooled vector u_i (the feature matrix's dense rows).
public struct Classifier: Sendable, Equatable {
  /// How logits become probabilities.
  public enum Output: String, Codable, Sendable {
    /// p = softmax(z): one class per row, the probabilities sum to 1.
    case softmax
    /// p_c = σ(z_c) = 1 / (1 + e^(−z_c)): each class present or not on its own.
    case sigmoid
  }

  /// Softmax for a single-label model, sigmoid for a multi-label one. Not a tensor: the
  /// model file's metadata says which (`ModelMetadata.multiLabel`).
  public var output: Output = .softmax
  public let classes: Int
  public let dim: Int
  public let featureCount: Int
  public let wordCount: Int
  /// W_w: featureCount × classes, owned or read in place from a mapped model file.
  public internal(set) var wideWeights: FloatWeights
  /// W_w as an array. When it is mapped, every read of this property copies the whole
  /// tensor (loops read `wideWeights.withUnsafeBufferPointer` instead), and a write
  /// through it makes it owned.
  public var wide: [Float] {
    get { wideWeights.values }
    set { wideWeights.values = newValue }
    _modify { yield &wideWeights.values }
  }
  /// E: wordCount × dim.
  public var embedding: [Float]
  /// W_d: classes × dim.
  public var dense: [Float]
  /// b: classes.
  public var bias: [Float]
  /// H, the width of the encoder vectors u (0: no encoder).
  public let encoderDim: Int
  /// W_u: classes × encoderDim.
  public var encoderWeights: [Float]

  /// A fresh model: E from `embedding` (already initialised), everything else zero, as
  /// fastText starts its output matrix: the first steps then depend on E alone.
  public init(
    classes: Int, featureCount: Int, wordCount: Int, dim: Int, embedding: [Float],
    encoderDim: Int = 0
  ) {
    precondition(embedding.count == wordCount * dim && encoderDim >= 0)
    self.encoderDim = encoderDim
    self.encoderWeights = Array(repeating: 0, count: classes * encoderDim)
    self.classes = classes
    self.dim = dim
    self.featureCount = featureCount
    self.wordCount = wordCount
    self.wideWeights = FloatWeights(Array(repeating: 0, count: featureCount * classes))
    self.embedding = embedding
    self.dense = Array(repeating: 0, count: classes * dim)
    self.bias = Array(repeating: 0, count: classes)
  }

  /// Rebuilds a model from stored tensors; nil when a length does not fit the shape.
  public init?(
    classes: Int, featureCount: Int, wordCount: Int, dim: Int, wide: [Float],
    embedding: [Float], dense: [Float], bias: [Float], encoderDim: Int = 0,
    encoderWeights: [Float] = []
  ) {
    self.init(
      classes: classes, featureCount: featureCount, wordCount: wordCount, dim: dim,
      wide: FloatWeights(wide), embedding: embedding, dense: dense, bias: bias,
      encoderDim: encoderDim, encoderWeights: encoderWeights)
  }

  /// The same, with W_w owned or mapped (`ModelFile` reads it in place).
  init?(
    classes: Int, featureCount: Int, wordCount: Int, dim: Int, wide: FloatWeights,
    embedding: [Float], dense: [Float], bias: [Float], encoderDim: Int = 0,
    encoderWeights: [Float] = []
  ) {
    guard classes >= 2, dim >= 1, featureCount >= wordCount, wordCount >= 0,
      wide.count == featureCount * classes, embedding.count == wordCount * dim,
      dense.count == classes * dim, bias.count == classes, encoderDim >= 0,
      encoderWeights.count == classes * encoderDim
    else { return nil }
    self.encoderDim = encoderDim
    self.encoderWeights = encoderWeights
    self.classes = classes
    self.dim = dim
    self.featureCount = featureCount
    self.wordCount = wordCount
    self.wideWeights = wide
    self.embedding = embedding
    self.dense = dense
    self.bias = bias
  }

  /// Makes a fresh model one-vs-rest: sigmoid outputs, each class's bias at the log-odds of
  /// its share of the rows, b_c = ln(n_c / (N − n_c)), so that training starts from the
  /// priors (as RetinaNet starts its focal loss) rather than from p = ½ for every class,
  /// whose summed gradient over C absent classes, fed back through W_d, swamps the first
  /// steps. `counts` are the rows carrying each class (n_c); N is their largest possible
  /// total, `rows`.
  public mutating func startOneVsRest(counts: [Int], rows: Int) {
    precondition(counts.count == classes)
    output = .sigmoid
    for c in 0..<classes {
      let share = (Float(counts[c]) + 0.5) / (Float(rows) + 1)
      bias[c] = logf(share / (1 - share))
    }
  }

  /// Maps each class's logit z_c to a_c · z_c + b_c: the weights that reach class c's
  /// logit (its column of W_w, its rows of W_d and W_u, and its bias) are multiplied by
  /// a_c, then b_c is added to its bias. (Per-class Platt scaling of sigmoid outputs.)
  public mutating func mapClassLogits(scales a: [Float], shifts b: [Float]) {
    precondition(a.count == classes && b.count == classes)
    let (f, cs) = (featureCount, classes)
    wideWeights.withUnsafeMutableBufferPointer { w in
      for i in 0..<f { for c in 0..<cs { w[i * cs + c] *= a[c] } }
    }
    for c in 0..<classes {
      for j in 0..<dim { dense[c * dim + j] *= a[c] }
      for j in 0..<encoderDim { encoderWeights[c * encoderDim + j] *= a[c] }
      bias[c] = a[c] * bias[c] + b[c]
    }
  }

  /// Multiplies every weight that adds to the logits (W_w, W_d, b, W_u; not E, which
  /// reaches them through W_d) by `factor`: z ↦ factor · z, the arg-max unchanged.
  public mutating func scaleLogits(by factor: Float) {
    wideWeights.withUnsafeMutableBufferPointer { w in
      for i in w.indices { w[i] *= factor }
    }
    for i in dense.indices { dense[i] *= factor }
    for i in bias.indices { bias[i] *= factor }
    for i in encoderWeights.indices { encoderWeights[i] *= factor }
  }

  /// Every parameter is finite (a diverged run is not).
  public var isFinite: Bool {
    func finite(_ b: UnsafeBufferPointer<Float>) -> Bool {
      // x − x is 0 for a finite x and NaN for ±inf and NaN; a sum of them stays 0.
      var acc: Float = 0
      for x in b { acc += x - x }
      return acc == 0
    }
    return wideWeights.withUnsafeBufferPointer(finite) && embedding.withUnsafeBufferPointer(finite)
      && dense.withUnsafeBufferPointer(finite) && bias.withUnsafeBufferPointer(finite)
      && encoderWeights.withUnsafeBufferPointer(finite)
  }

  /// Class probabilities of every document of `m` (N×C, row-major), in batches: each row
  /// sums to 1 under `.softmax`; under `.sigmoid` each entry is one class's own.
  public func probabilities(_ m: FeatureMatrix, threads: Int, batchSize: Int = 512) -> [Float] {
    let n = m.count
    // A thread a 32 rows at least: below that, waking a second thread costs more than the
    // rows it would take (a lone text, as a server often scores).
    let threads = min(threads, max(1, n / 32))
    var out = [Float](repeating: 0, count: n * classes)
    let hidden = UnsafeMutablePointer<Float>.allocate(capacity: batchSize * dim)
    let encoded = UnsafeMutablePointer<Float>.allocate(capacity: max(1, batchSize * encoderDim))
    defer {
      hidden.deallocate()
      encoded.deallocate()
    }
    let all = Array(0..<n)
    withView { p in
      m.withView { x in
        all.withUnsafeBufferPointer { idx in
          out.withUnsafeMutableBufferPointer { o in
            for s in stride(from: 0, to: n, by: batchSize) {
              let e = min(n, s + batchSize)
              let z = o.base + s * classes
              p.forward(
                x, docs: UnsafeBufferPointer(rebasing: idx[s..<e]), hidden: hidden, logits: z,
                encoded: encoded, threads: threads)
              switch output {
              case .softmax: softmaxRows(z, batch: e - s, classes: classes)
              case .sigmoid: sigmoidInPlace(z, count: (e - s) * classes)
              }
            }
          }
        }
      }
    }
    return out
  }
}
