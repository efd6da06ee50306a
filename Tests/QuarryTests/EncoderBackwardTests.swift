import XCTest

@testable import Quarry

/// The encoder's backward kernels and one transformer block's backward against central
/// finite differences of a scalar loss L = Σ r ⊙ out (r fixed and random, so ∂L/∂out = r),
/// with the loss summed in Double; then thread-count invariance and the tuner end to end.
final class EncoderBackwardTests: XCTestCase {
  override class func setUp() {
    super.setUp()
    setBLASThreads(1)
  }

  let eps: Float = 1e-2

  func assertGradient(
    _ analytic: [Float], _ numeric: [Double], _ what: String, rel: Double = 1e-2,
    abs: Double = 2e-3, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(analytic.count, numeric.count, what, file: file, line: line)
    var failures = 0
    for i in analytic.indices where !isClose(Double(analytic[i]), numeric[i], rel: rel, abs: abs) {
      failures += 1
      if failures <= 5 {
        XCTFail(
          "\(what)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric[i])", file: file, line: line)
      }
    }
  }

  /// Central differences of `loss` with respect to every element of `params`.
  func numericGradient(_ params: [Float], eps: Float, _ loss: ([Float]) -> Double) -> [Double] {
    var p = params
    var g = [Double](repeating: 0, count: p.count)
    for i in p.indices {
      let saved = p[i]
      p[i] = saved + eps
      let up = loss(p)
      p[i] = saved - eps
      let down = loss(p)
      p[i] = saved
      g[i] = (up - down) / (Double(saved + eps) - Double(saved - eps))
    }
    return g
  }

  func dot(_ r: [Float], _ out: [Float]) -> Double {
    zip(r, out).reduce(0) { $0 + Double($1.0) * Double($1.1) }
  }

  // MARK: Kernels

  func testLinearBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 21)
    let (rows, n, m) = (5, 4, 3)
    let x = randomFloats(rows * n, &rng)
    let w = randomFloats(m * n, &rng)
    let b = randomFloats(m, &rng)
    let r = randomFloats(rows * m, &rng)
    func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
      var out = [Float](repeating: 0, count: rows * m)
      out.withUnsafeMutableBufferPointer {
        sgemmLinearForward($0.base, x, weight: w, bias: b, rows: rows, n: n, m: m)
      }
      return dot(r, out)
    }
    // Accumulators start non-zero: dW and db must add, dX must add only when asked.
    let startW = randomFloats(m * n, &rng)
    let startB = randomFloats(m, &rng)
    let startX = randomFloats(rows * n, &rng)
    for accumulate in [false, true] {
      var (dW, db, dX) = (startW, startB, startX)
      dX.withUnsafeMutableBufferPointer { dx in
        sgemmLinearBackward(
          dX: dx.base, dWeight: &dW, dBias: &db, dOut: r, x: x, weight: w, rows: rows, n: n,
          m: m, accumulate: accumulate, threads: 2)
      }
      let nx = numericGradient(x, eps: eps) { loss($0, w, b) }
      let nw = numericGradient(w, eps: eps) { loss(x, $0, b) }
      let nb = numericGradient(b, eps: eps) { loss(x, w, $0) }
      assertGradient(dW, zip(nw, startW).map { $0 + Double($1) }, "dW")
      assertGradient(db, zip(nb, startB).map { $0 + Double($1) }, "db")
      assertGradient(
        dX, accumulate ? zip(nx, startX).map { $0 + Double($1) } : nx, "dX acc=\(accumulate)")
    }
  }

  /// Shapes large enough for several row ranges (dX) and weight ranges (dW, db), against
  /// a naive Double reference, and the same bytes on 1, 2 and 3 threads.
  func testLinearBackwardOverSeveralRangesMatchesNaiveOnAnyThreadCount() {
    var rng = SplitMix64(seed: 22)
    let (rows, n, m) = (700, 6, 150)
    let x = randomFloats(rows * n, &rng)
    let w = randomFloats(m * n, &rng)
    let r = randomFloats(rows * m, &rng)
    var results: [[Float]] = []
    for threads in [1, 2, 3] {
      var dW = [Float](repeating: 0, count: m * n)
      var db = [Float](repeating: 0, count: m)
      var dX = [Float](repeating: .nan, count: rows * n)
      dX.withUnsafeMutableBufferPointer { dx in
        sgemmLinearBackward(
          dX: dx.base, dWeight: &dW, dBias: &db, dOut: r, x: x, weight: w, rows: rows, n: n,
          m: m, threads: threads)
      }
      results.append(dW + db + dX)
    }
    XCTAssertEqual(results[0], results[1], "1 vs 2 threads")
    XCTAssertEqual(results[0], results[2], "1 vs 3 threads")
    var naive: [Double] = []
    for j in 0..<m {
      for k in 0..<n {
        naive.append((0..<rows).reduce(0) { $0 + Double(r[$1 * m + j]) * Double(x[$1 * n + k]) })
      }
    }
    for j in 0..<m { naive.append((0..<rows).reduce(0) { $0 + Double(r[$1 * m + j]) }) }
    for i in 0..<rows {
      for k in 0..<n {
        naive.append((0..<m).reduce(0) { $0 + Double(r[i * m + $1]) * Double(w[$1 * n + k]) })
      }
    }
    assertGradient(results[0], naive, "linear backward", rel: 1e-4, abs: 1e-3)
  }

  func testLayerNormBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 23)
    let (rows, n) = (4, 7)
    let x = randomFloats(rows * n, &rng, scale: 2).map { $0 + 0.5 }
    let g = randomFloats(n, &rng, scale: 0.5).map { $0 + 1 }
    let b = randomFloats(n, &rng)
    let r = randomFloats(rows * n, &rng)
    func loss(_ x: [Float], _ g: [Float], _ b: [Float]) -> Double {
      var y = x
      y.withUnsafeMutableBufferPointer {
        layerNormForward($0.base, scale: g, shift: b, rows: rows, n: n, eps: 1e-5)
      }
      return dot(r, y)
    }
    var y = x
    var mean = [Float](repeating: 0, count: rows)
    var inv = [Float](repeating: 0, count: rows)
    y.withUnsafeMutableBufferPointer {
      layerNormForward(
        $0.base, scale: g, shift: b, rows: rows, n: n, eps: 1e-5, threads: 2, savedMean: &mean,
        savedInverse: &inv)
    }
    var plain = x
    plain.withUnsafeMutableBufferPointer {
      layerNormForward($0.base, scale: g, shift: b, rows: rows, n: n, eps: 1e-5)
    }
    XCTAssertEqual(y, plain, "saving the statistics changes nothing")
    var dx = [Float](repeating: .nan, count: rows * n)
    var dg = [Float](repeating: 0, count: n)
    var db = [Float](repeating: 0, count: n)
    layerNormBackward(
      dx: &dx, dy: r, x: x, mean: mean, inverse: inv, scale: g, dScale: &dg, dShift: &db,
      rows: rows, n: n, threads: 2)
    assertGradient(dx, numericGradient(x, eps: eps) { loss($0, g, b) }, "dx")
    assertGradient(dg, numericGradient(g, eps: eps) { loss(x, $0, b) }, "dγ")
    assertGradient(db, numericGradient(b, eps: eps) { loss(x, g, $0) }, "dβ")
  }

  func testGELUBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 24)
    let x: [Float] = [-6, -3, -1.5, -0.7, 0, 0.3, 1, 2.2, 5] + randomFloats(20, &rng, scale: 4)
    let r = randomFloats(x.count, &rng)
    var dx = [Float](repeating: .nan, count: x.count)
    geluBackward(dx: &dx, dy: r, x: x, count: x.count, threads: 2)
    let numeric = numericGradient(x, eps: 1e-3) { x in
      var y = x
      y.withUnsafeMutableBufferPointer { geluForward($0.base, count: x.count) }
      return dot(r, y)
    }
    assertGradient(dx, numeric, "gelu dx")
  }

  func testAttentionBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 25)
    let (h, heads) = (8, 2)
    let lengths = [3, 5, 1]
    let rows = lengths.reduce(0, +)
    let qkv = randomFloats(rows * 3 * h, &rng, scale: 1.5)
    let r = randomFloats(rows * h, &rng)
    var dQKV = [Float](repeating: .nan, count: rows * 3 * h)
    attentionBackward(
      dQKV: &dQKV, dOut: r, qkv: qkv, lengths: lengths, hidden: h, heads: heads, threads: 2)
    let numeric = numericGradient(qkv, eps: eps) { qkv in
      var out = [Float](repeating: 0, count: rows * h)
      out.withUnsafeMutableBufferPointer {
        attentionForward($0.base, qkv: qkv, lengths: lengths, hidden: h, heads: heads)
      }
      return dot(r, out)
    }
    assertGradient(dQKV, numeric, "dQKV")
  }

  func testMeanPoolBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 26)
    let (h, lengths) = (3, [2, 4, 1])
    let rows = lengths.reduce(0, +)
    let x = randomFloats(rows * h, &rng)
    let r = randomFloats(lengths.count * h, &rng)
    var dx = [Float](repeating: .nan, count: rows * h)
    meanPoolBackward(dx: &dx, dMean: r, lengths: lengths, hidden: h)
    let numeric = numericGradient(x, eps: eps) { x in
      var mean = [Float](repeating: 0, count: lengths.count * h)
      var cls = mean
      poolForward(
        x, lengths: lengths, hidden: h, rowOf: Array(lengths.indices), mean: &mean, cls: &cls)
      return dot(r, mean)
    }
    assertGradient(dx, numeric, "pool dx")
  }

  // MARK: One block

  static let tinyConfig = BertConfig(
    layers: 2, hidden: 8, heads: 2, intermediate: 16, maxPositions: 12, vocabSize: 22,
    layerNormEps: 1e-6)

  /// Runs one block with activations sized for `lengths` and returns its output.
  func blockForward(
    _ l: BertLayerWeights, _ x: [Float], lengths: [Int], config c: BertConfig, threads: Int = 1,
    saved: LayerActivations? = nil
  ) -> [Float] {
    let rows = lengths.reduce(0, +)
    let s = saved ?? LayerActivations(rows: rows, config: c)
    var out = [Float](repeating: .nan, count: rows * c.hidden)
    out.withUnsafeMutableBufferPointer { o in
      x.withUnsafeBufferPointer { xi in
        tunedLayerForward(
          l, input: xi.base, output: o.base, saved: s, lengths: lengths, config: c,
          threads: threads)
      }
    }
    return out
  }

  /// The analytic gradients of L = Σ r ⊙ block(x): every tensor, then dInput.
  func blockGradients(
    _ l: BertLayerWeights, _ x: [Float], _ r: [Float], lengths: [Int], config c: BertConfig,
    threads: Int
  ) -> (BertLayerWeights, [Float]) {
    let rows = lengths.reduce(0, +)
    let saved = LayerActivations(rows: rows, config: c)
    _ = blockForward(l, x, lengths: lengths, config: c, threads: threads, saved: saved)
    var grads = l.zeros()
    var dInput = [Float](repeating: .nan, count: rows * c.hidden)
    dInput.withUnsafeMutableBufferPointer { d in
      tunedLayerBackward(
        l, dOut: r, dInput: d.base, input: x, saved: saved, grads: &grads,
        scratch: LayerBackwardScratch(rows: rows, config: c), lengths: lengths, config: c,
        threads: threads)
    }
    return (grads, dInput)
  }

  func testBlockBackwardMatchesFiniteDifferences() {
    let c = Self.tinyConfig
    var rng = SplitMix64(seed: 27)
    let layer = randomLayer(c, &rng)
    let lengths = [4, 2, 3]
    let rows = lengths.reduce(0, +)
    let x = randomFloats(rows * c.hidden, &rng, scale: 1.5)
    let r = randomFloats(rows * c.hidden, &rng)
    let (grads, dInput) = blockGradients(layer, x, r, lengths: lengths, config: c, threads: 2)
    let names = [
      "qkv", "qkvBias", "attentionOut", "attentionOutBias", "attentionNormScale",
      "attentionNormShift", "ffnIn", "ffnInBias", "ffnOut", "ffnOutBias", "outputNormScale",
      "outputNormShift",
    ]
    for (p, name) in zip(BertLayerWeights.tensorPaths, names) {
      let numeric = numericGradient(layer[keyPath: p], eps: eps) { values in
        var l = layer
        l[keyPath: p] = values
        return dot(r, blockForward(l, x, lengths: lengths, config: c))
      }
      assertGradient(grads[keyPath: p], numeric, name)
    }
    let numeric = numericGradient(x, eps: eps) {
      dot(r, blockForward(layer, $0, lengths: lengths, config: c))
    }
    assertGradient(dInput, numeric, "dInput")
  }

  /// The saving forward is the frozen encoder's layer forward, bit for bit.
  func testSavingForwardEqualsTheEncodersLayerForward() throws {
    let c = Self.tinyConfig
    try withTinyEncoder(c, seed: 28) { encoder in
      var rng = SplitMix64(seed: 29)
      let lengths = [7, 5, 5, 1]
      let rows = lengths.reduce(0, +)
      let x = randomFloats(rows * c.hidden, &rng, scale: 2)
      for l in encoder.weights.layers {
        let ws = EncoderWorkspace(rows: rows, config: c)
        ws.x.update(from: x, count: x.count)
        encoder.layerForward(l, lengths: lengths, workspace: ws, threads: 2)
        let plain = Array(UnsafeBufferPointer(start: ws.x, count: x.count))
        XCTAssertEqual(blockForward(l, x, lengths: lengths, config: c, threads: 2), plain)
      }
    }
  }

  /// Every gradient of a block is the same bytes on 1, 2 and 3 threads, on shapes with
  /// several row and weight ranges.
  func testBlockGradientsAreTheSameOnAnyThreadCount() {
    let c = BertConfig(
      layers: 1, hidden: 64, heads: 4, intermediate: 128, maxPositions: 400, vocabSize: 10,
      layerNormEps: 1e-6)
    var rng = SplitMix64(seed: 30)
    let layer = randomLayer(c, &rng, scale: 0.15)
    let lengths = [300, 200, 57, 9]
    let rows = lengths.reduce(0, +)
    let x = randomFloats(rows * c.hidden, &rng)
    let r = randomFloats(rows * c.hidden, &rng)
    let one = blockGradients(layer, x, r, lengths: lengths, config: c, threads: 1)
    for threads in [2, 3] {
      let other = blockGradients(layer, x, r, lengths: lengths, config: c, threads: threads)
      XCTAssertEqual(one.1, other.1, "dInput, \(threads) threads")
      for p in BertLayerWeights.tensorPaths {
        XCTAssertEqual(one.0[keyPath: p], other.0[keyPath: p], "\(p), \(threads) threads")
      }
    }
  }

  // MARK: The tuner

  /// Three classes told apart by a keyword token (ids 8, 11, 12) among noise tokens, on a
  /// random two-layer model: tuning the top layer and the head must fit it, and the same
  /// seed must give the same bytes (on 1 or 2 threads).
  func testTunerFitsASeparableTaskDeterministically() throws {
    let c = BertConfig(
      layers: 2, hidden: 16, heads: 2, intermediate: 32, maxPositions: 16, vocabSize: 22,
      layerNormEps: 1e-6)
    try withTinyEncoder(c, seed: 31) { encoder in
      var rng = SplitMix64(seed: 32)
      let keywords: [Int32] = [8, 11, 12]
      let noise: [Int32] = [4, 5, 6, 7, 9, 10, 13, 14, 15, 16, 17, 18, 19, 20, 21]
      var ids: [[Int32]] = []
      var labels: [Int32] = []
      for i in 0..<72 {
        let label = i % 3
        var body = (0..<(3 + Int(rng.next() % 8))).map { _ in noise[Int(rng.next() % 15)] }
        body.insert(keywords[label], at: Int(rng.next() % UInt64(body.count + 1)))
        ids.append([2] + body + [3])
        labels.append(Int32(label))
      }
      var progressCalls = 0
      let inputs = try LayerTuner.inputs(
        encoder: encoder, ids: ids, tunedLayers: 1, threads: 2, batchSize: 32,
        progress: { _, _ in progressCalls += 1 })
      XCTAssertEqual(inputs.firstLayer, 1)
      XCTAssertEqual(progressCalls, 3)
      let options = LayerTuner.Options(
        layers: 1, epochs: 30, learningRate: 1e-2, headLearningRate: 5e-2, batchSize: 8,
        seed: 5, threads: 2)
      let before = LayerTuner.pooled(
        encoder: encoder, inputs: inputs, layers: [encoder.weights.layers[1]])
      XCTAssertEqual(
        before, try encoder.encode(ids: ids, options: EncodeOptions(batchSize: 32)).mean,
        "pooled from the cached inputs is the encoder's own output")
      let tuned = try LayerTuner.train(
        encoder: encoder, inputs: inputs, labels: labels, classes: 3, options: options)
      XCTAssertEqual(tuned.epochLosses.count, 30)
      let first = try XCTUnwrap(tuned.epochLosses.first)
      let last = try XCTUnwrap(tuned.epochLosses.last)
      XCTAssertLessThan(last, 0.3 * first, "losses \(tuned.epochLosses)")
      XCTAssertNotEqual(tuned.layers[0].ffnIn, encoder.weights.layers[1].ffnIn, "layer tuned")

      let pooled = LayerTuner.pooled(encoder: encoder, inputs: inputs, layers: tuned.layers)
      let predicted = tuned.predict(pooled: pooled)
      let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
      XCTAssertGreaterThanOrEqual(accuracy, 0.95, "losses \(tuned.epochLosses)")
      let replaced = try encoder.replacingTopLayers(tuned).encode(
        ids: ids, options: EncodeOptions(batchSize: 32))
      XCTAssertEqual(replaced.mean, pooled, "replacingTopLayers gives the same pooled vectors")

      var again = options
      again.threads = 1
      let second = try LayerTuner.train(
        encoder: encoder, inputs: inputs, labels: labels, classes: 3, options: again)
      for p in BertLayerWeights.tensorPaths {
        XCTAssertEqual(tuned.layers[0][keyPath: p], second.layers[0][keyPath: p], "\(p)")
      }
      XCTAssertEqual(tuned.head, second.head)
      XCTAssertEqual(tuned.headBias, second.headBias)
      XCTAssertEqual(tuned.epochLosses, second.epochLosses)
    }
  }

  /// An epoch's batches hold every text once, sorted by length inside each pool of 16
  /// batches; the seed decides them; the rate rises over the warm-up, then falls to near 0.
  func testEpochBatchesAndRateSchedule() {
    var rng = SplitMix64(seed: 3)
    let lengths = (0..<203).map { _ in 1 + Int(rng.next() % 50) }
    var a = SplitMix64(seed: 9)
    var b = SplitMix64(seed: 9)
    let batches = LayerTuner.shuffledBatches(lengths: lengths, size: 4, rng: &a)
    XCTAssertEqual(batches, LayerTuner.shuffledBatches(lengths: lengths, size: 4, rng: &b))
    XCTAssertNotEqual(batches, LayerTuner.shuffledBatches(lengths: lengths, size: 4, rng: &a))
    XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(lengths.indices))
    XCTAssertEqual(batches.count, 51)
    for batch in batches {
      XCTAssertLessThanOrEqual(batch.count, 4)
      XCTAssertEqual(batch.map { lengths[$0] }, batch.map { lengths[$0] }.sorted(by: >))
    }
    XCTAssertEqual(LayerTuner.rateFactor(step: 0, total: 100, warmup: 10), 0.1)
    XCTAssertEqual(LayerTuner.rateFactor(step: 9, total: 100, warmup: 10), 1)
    XCTAssertEqual(LayerTuner.rateFactor(step: 10, total: 100, warmup: 10), 1)
    XCTAssertEqual(LayerTuner.rateFactor(step: 99, total: 100, warmup: 10), 1 / 90)
    XCTAssertEqual(LayerTuner.rateFactor(step: 0, total: 5, warmup: 0), 1)
  }

  // MARK: Helpers

  func randomLayer(_ c: BertConfig, _ rng: inout SplitMix64, scale: Float = 0.5)
    -> BertLayerWeights
  {
    let (h, i) = (c.hidden, c.intermediate)
    func t(_ n: Int) -> [Float] { randomFloats(n, &rng, scale: scale) }
    func norm() -> [Float] { randomFloats(h, &rng, scale: 0.2).map { $0 + 1 } }
    return BertLayerWeights(
      qkv: t(3 * h * h), qkvBias: t(3 * h), attentionOut: t(h * h), attentionOutBias: t(h),
      attentionNormScale: norm(), attentionNormShift: t(h), ffnIn: t(i * h), ffnInBias: t(i),
      ffnOut: t(h * i), ffnOutBias: t(h), outputNormScale: norm(), outputNormShift: t(h))
  }

  func withTinyEncoder(_ c: BertConfig, seed: UInt64, _ body: (BertEncoder) throws -> Void)
    throws
  {
    try withTemporaryDirectory { dir in
      try writeFile(
        dir + "/model.safetensors", TinyBert.safetensors(TinyBert.tensors(c, seed: seed)))
      try writeFile(dir + "/vocab.txt", EncoderTests.tinyVocab.joined(separator: "\n") + "\n")
      try writeFile(dir + "/config.json", TinyBert.configJSON(c))
      try body(try BertEncoder.load(directory: dir))
    }
  }
}
