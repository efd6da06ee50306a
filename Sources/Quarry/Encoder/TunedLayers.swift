import Foundation

/// What `LayerTuner.train` returns: the tuned top layers of an encoder and the linear
/// softmax head trained with them on the mean-pooled output.
///
///     p(c | text) = softmax(W·mean + b)_c       W: C×H, b: C
public struct TunedLayers: Sendable {
  /// The index in the encoder of `layers[0]`; the tuned layers are firstLayer..<layers.
  public var firstLayer: Int
  public var layers: [BertLayerWeights]
  /// C.
  public var classes: Int
  /// C×H and C.
  public var head: [Float]
  public var headBias: [Float]
  /// The mean training loss of each epoch (mean over its batches of each batch's mean).
  public var epochLosses: [Float]

  public init(
    firstLayer: Int, layers: [BertLayerWeights], classes: Int, head: [Float], headBias: [Float],
    epochLosses: [Float] = []
  ) {
    self.firstLayer = firstLayer
    self.layers = layers
    self.classes = classes
    self.head = head
    self.headBias = headBias
    self.epochLosses = epochLosses
  }

  /// H, the width of the pooled vector the head reads.
  public var hidden: Int { classes == 0 ? 0 : head.count / classes }

  /// The head's class probabilities for pooled vectors (rows×H): rows×C.
  public func probabilities(pooled: [Float]) -> [Float] {
    let h = hidden
    let rows = h == 0 ? 0 : pooled.count / h
    var p = [Float](repeating: 0, count: rows * classes)
    guard rows > 0 else { return p }
    p.withUnsafeMutableBufferPointer { out in
      pooled.withUnsafeBufferPointer { x in
        sgemmLinearForward(
          out.base, x.base, weight: head, bias: headBias, rows: rows, n: h, m: classes)
      }
      softmaxRows(out.base, batch: rows, classes: classes)
    }
    return p
  }

  /// The most probable class of each pooled vector (rows×H), ties to the lower class.
  public func predict(pooled: [Float]) -> [Int32] {
    let p = probabilities(pooled: pooled)
    return stride(from: 0, to: p.count, by: max(classes, 1)).map { start in
      var best = 0
      for c in 1..<classes where p[start + c] > p[start + best] { best = c }
      return Int32(best)
    }
  }
}

extension BertEncoder {
  /// This encoder with layers firstLayer..< replaced by the tuned ones, so that `encode`
  /// gives the tuned pooled vectors.
  public func replacingTopLayers(_ tuned: TunedLayers) -> BertEncoder {
    var w = weights
    let end = min(tuned.firstLayer + tuned.layers.count, w.layers.count)
    for l in tuned.firstLayer..<end { w.layers[l] = tuned.layers[l - tuned.firstLayer] }
    return BertEncoder(config: config, weights: w, tokenizer: tokenizer, source: source)
  }
}
