import COpenBLAS
import Foundation

extension LayerTuner {
  /// How `LayerTuner.train` runs.
  public struct Options: Sendable {
    /// N: the top layers tuned (the layers below stay frozen). `LayerTuner.inputs` takes it
    /// as `tunedLayers`; `train` checks that its inputs feed this many layers.
    public var layers: Int
    public var epochs: Int
    /// AdamW's peak rate for the tuned layers and for the head.
    public var learningRate: Float
    public var headLearningRate: Float
    /// Decoupled weight decay λ, on weight matrices only (not biases or LayerNorm).
    public var weightDecay: Float
    /// Texts per step.
    public var batchSize: Int
    /// The share of all steps over which the rate rises linearly from 0; it then falls
    /// linearly to 0 at the last step.
    public var warmup: Float
    /// The gradients of a step are scaled down to this global L2 norm when above it; 0: never.
    public var clipNorm: Float
    public var seed: UInt64
    /// Threads over row ranges and attention heads (OpenBLAS runs on one while tuning).
    public var threads: Int

    public init(
      layers: Int = 2, epochs: Int = 3, learningRate: Float = 1e-4, headLearningRate: Float = 1e-3,
      weightDecay: Float = 0.01, batchSize: Int = 16, warmup: Float = 0.1, clipNorm: Float = 1,
      seed: UInt64 = 1, threads: Int = 2
    ) {
      self.layers = layers
      self.epochs = epochs
      self.learningRate = learningRate
      self.headLearningRate = headLearningRate
      self.weightDecay = weightDecay
      self.batchSize = batchSize
      self.warmup = warmup
      self.clipNorm = clipNorm
      self.seed = seed
      self.threads = threads
    }
  }
}

/// Fine-tunes the top N layers of a `BertEncoder` together with a linear softmax head on
/// the mean-pooled output, from the cached inputs of those layers (`inputs`). One step:
///
///     x₀ = the batch's cached rows                       R×H
///     x_{l+1} = block_l(x_l), l < N (saving activations)  R×H
///     mean = mean-pool(x_N);  p = softmax(mean·Wᵀ + b)    B×H, B×C
///     L = (1/B) Σ_i w_i · (−ln p_{i,y_i})
///     backward through the head, the pooling and the N blocks
///     clip to the global norm; AdamW on every tensor, the rate warmed up then decayed
///
/// Each epoch shuffles the texts with the seed, sorts pools of 16 batches by length
/// (so a batch holds texts of similar length, packed without padding) and shuffles the
/// batches. Same seed and inputs: the same bytes on any thread count.
public enum LayerTuner {
  /// Trains the top layers that `inputs` feeds, and a head over `classes` classes, on
  /// `labels` (0..<classes, one per text of `inputs`) with optional per-example `weights`.
  /// `progress(epoch, batch, loss)` follows every step; `shouldStop` is asked before each
  /// step, and a yes ends the run with `Stopped`.
  public static func train(
    encoder: BertEncoder, inputs: Inputs, labels: [Int32], classes: Int,
    weights: [Float]? = nil, options o: Options,
    shouldStop: () -> Bool = { false },
    progress: (_ epoch: Int, _ batch: Int, _ loss: Float) -> Void = { _, _, _ in }
  ) throws -> TunedLayers {
    let c = encoder.config
    let (h, n, first) = (c.hidden, c.layers - inputs.firstLayer, inputs.firstLayer)
    precondition(n == o.layers, "inputs feed \(n) layers, options.layers is \(o.layers)")
    precondition(labels.count == inputs.count, "one label per text")
    precondition(labels.allSatisfy { $0 >= 0 && Int($0) < classes }, "labels in 0..<classes")
    precondition(weights == nil || weights?.count == inputs.count, "one weight per text")
    let threads = max(1, o.threads)
    let batchSize = max(1, o.batchSize)
    var rng = SplitMix64(seed: o.seed)
    var layers = Array(encoder.weights.layers[first...])
    var grads = layers.map { $0.zeros() }
    var m1 = grads
    var m2 = grads
    var head = (0..<(classes * h)).map { _ in (rng.nextUnitFloat() * 2 - 1) * 0.035 }
    var headBias = [Float](repeating: 0, count: classes)
    var gHead = [Float](repeating: 0, count: classes * h)
    var gHeadBias = [Float](repeating: 0, count: classes)
    var mHead = gHead + gHeadBias
    var vHead = mHead

    let mostRows = inputs.lengths.sorted(by: >).prefix(batchSize).reduce(0, +)
    let acts = (0..<n).map { _ in LayerActivations(rows: mostRows, config: c) }
    let scratch = LayerBackwardScratch(rows: mostRows, config: c)
    let buffers = Buffers(rows: mostRows, layers: n, batch: batchSize, classes: classes, hidden: h)

    let previousThreads = openblas_get_num_threads()
    setBLASThreads(1)
    defer { setBLASThreads(Int(previousThreads)) }

    let stepsPerEpoch = (inputs.count + batchSize - 1) / batchSize
    let totalSteps = max(1, o.epochs * stepsPerEpoch)
    let warmupSteps = Int((Float(totalSteps) * max(0, o.warmup)).rounded())
    let adam = AdamW()
    var step = 0
    var epochLosses: [Float] = []
    for epoch in 0..<o.epochs {
      let batches = shuffledBatches(lengths: inputs.lengths, size: batchSize, rng: &rng)
      var lossSum = 0.0
      for (index, members) in batches.enumerated() {
        if shouldStop() { throw Stopped(.encoderTuning) }
        let lengths = members.map { inputs.lengths[$0] }
        let b = members.count
        // Forward.
        inputs.gather(members, into: buffers.states[0])
        for l in 0..<n {
          tunedLayerForward(
            layers[l], input: buffers.states[l], output: buffers.states[l + 1], saved: acts[l],
            lengths: lengths, config: c, threads: threads)
        }
        poolForward(
          buffers.states[n], lengths: lengths, hidden: h, rowOf: Array(0..<b),
          mean: buffers.pooled, cls: buffers.cls)
        sgemmLinearForward(
          buffers.logits, buffers.pooled, weight: head, bias: headBias, rows: b, n: h, m: classes)
        softmaxRows(buffers.logits, batch: b, classes: classes)
        let batchLabels = members.map { labels[$0] }
        let rowWeights = members.map { (weights?[$0] ?? 1) / Float(b) }
        let loss = crossEntropyForwardBackward(
          probs: buffers.logits, labels: batchLabels, weights: rowWeights, batch: b,
          classes: classes, dLogits: buffers.dLogits)
        lossSum += Double(loss)
        // Backward.
        for l in 0..<n { grads[l].zero() }
        gHead.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        gHeadBias.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        withGradients(&gHead, &gHeadBias) { dw, db in
          sgemmLinearBackward(
            dX: buffers.dPooled, dWeight: dw, dBias: db, dOut: buffers.dLogits,
            x: buffers.pooled, weight: head, rows: b, n: h, m: classes)
        }
        var (dOut, dIn) = (buffers.dA, buffers.dB)
        meanPoolBackward(dx: dOut, dMean: buffers.dPooled, lengths: lengths, hidden: h)
        for l in stride(from: n - 1, through: 0, by: -1) {
          tunedLayerBackward(
            layers[l], dOut: dOut, dInput: l > 0 ? dIn : nil, input: buffers.states[l],
            saved: acts[l], grads: &grads[l], scratch: scratch, lengths: lengths, config: c,
            threads: threads)
          swap(&dOut, &dIn)
        }
        // Update.
        step += 1
        let norm = globalNorm(grads, gHead, gHeadBias)
        let clip: Float = o.clipNorm > 0 && norm > o.clipNorm ? o.clipNorm / norm : 1
        let factor = rateFactor(step: step - 1, total: totalSteps, warmup: warmupSteps)
        for l in 0..<n {
          for (k, p) in BertLayerWeights.tensorPaths.enumerated() {
            let count = layers[l][keyPath: p].count
            layers[l][keyPath: p].withUnsafeMutableBufferPointer { theta in
              grads[l][keyPath: p].withUnsafeBufferPointer { g in
                m1[l][keyPath: p].withUnsafeMutableBufferPointer { m in
                  m2[l][keyPath: p].withUnsafeMutableBufferPointer { v in
                    adam.update(
                      theta.base, gradient: g.base, m: m.base, v: v.base, count: count,
                      step: step, rate: o.learningRate * factor,
                      decay: BertLayerWeights.isMatrix[k] ? o.weightDecay : 0, gradientScale: clip)
                  }
                }
              }
            }
          }
        }
        let headRate = o.headLearningRate * factor
        mHead.withUnsafeMutableBufferPointer { m in
          vHead.withUnsafeMutableBufferPointer { v in
            withGradients(&head, &headBias) { w, bias in
              adam.update(
                w, gradient: gHead, m: m.base, v: v.base, count: classes * h, step: step,
                rate: headRate, decay: o.weightDecay, gradientScale: clip)
              adam.update(
                bias, gradient: gHeadBias, m: m.base + classes * h, v: v.base + classes * h,
                count: classes, step: step, rate: headRate, decay: 0, gradientScale: clip)
            }
          }
        }
        progress(epoch, index, loss)
      }
      epochLosses.append(Float(lossSum / Double(max(batches.count, 1))))
    }
    return TunedLayers(
      firstLayer: first, layers: layers, classes: classes, head: head, headBias: headBias,
      epochLosses: epochLosses)
  }

  /// One epoch's batches: the texts shuffled, cut into pools of 16 batches, each pool sorted
  /// by length (longest first, ties by index) and cut into batches, the batches shuffled.
  static func shuffledBatches(lengths: [Int], size: Int, rng: inout SplitMix64) -> [[Int]] {
    var order = Array(lengths.indices)
    rng.shuffle(&order)
    var batches: [[Int]] = []
    let pool = 16 * size
    for start in stride(from: 0, to: order.count, by: pool) {
      let sorted = order[start..<min(start + pool, order.count)].sorted {
        lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1)
      }
      for b in stride(from: 0, to: sorted.count, by: size) {
        batches.append(Array(sorted[b..<min(b + size, sorted.count)]))
      }
    }
    rng.shuffle(&batches)
    return batches
  }

  /// The learning-rate multiplier at 0-based `step`: (step + 1)/warmup while warming up,
  /// then falling linearly to 1/(total − warmup) at the last step.
  static func rateFactor(step: Int, total: Int, warmup: Int) -> Float {
    if step < warmup { return Float(step + 1) / Float(warmup) }
    return Float(total - step) / Float(max(total - warmup, 1))
  }

  /// √(Σ g²) over every gradient, summed in Double in a fixed order.
  static func globalNorm(_ grads: [BertLayerWeights], _ head: [Float], _ bias: [Float]) -> Float {
    var sum = 0.0
    func add(_ a: [Float]) { for v in a { sum += Double(v) * Double(v) } }
    for g in grads { for p in BertLayerWeights.tensorPaths { add(g[keyPath: p]) } }
    add(head)
    add(bias)
    return Float(sum.squareRoot())
  }

  /// The per-step buffers of `train`, allocated once for its largest batch.
  final class Buffers {
    /// states[l]: the input of tuned layer l (R×H); states[N]: the last layer's output.
    let states: [UnsafeMutablePointer<Float>]
    let dA, dB: UnsafeMutablePointer<Float>
    let pooled, cls, dPooled, logits, dLogits: UnsafeMutablePointer<Float>

    init(rows: Int, layers: Int, batch: Int, classes: Int, hidden h: Int) {
      let r = max(rows, 1)
      states = (0...layers).map { _ in .allocate(capacity: r * h) }
      dA = .allocate(capacity: r * h)
      dB = .allocate(capacity: r * h)
      pooled = .allocate(capacity: batch * h)
      cls = .allocate(capacity: batch * h)
      dPooled = .allocate(capacity: batch * h)
      logits = .allocate(capacity: max(batch * classes, 1))
      dLogits = .allocate(capacity: max(batch * classes, 1))
    }

    deinit {
      for p in states + [dA, dB, pooled, cls, dPooled, logits, dLogits] { p.deallocate() }
    }
  }
}
