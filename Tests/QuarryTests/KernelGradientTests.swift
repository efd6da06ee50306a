import XCTest

@testable import Quarry

/// Backward passes against central finite differences of a scalar loss, accumulated in
/// Double. For the linear kernels the loss is L = Σ r ⊙ out with a fixed random r, so
/// ∂L/∂out = r is what the backward pass receives.
final class KernelGradientTests: XCTestCase {
  override class func setUp() {
    super.setUp()
    setBLASThreads(1)
  }

  let eps: Float = 1e-2

  func assertGradient(
    _ analytic: [Float], _ numeric: [Double], _ what: String, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(analytic.count, numeric.count, what, file: file, line: line)
    var failures = 0
    for i in analytic.indices
    where !isClose(Double(analytic[i]), numeric[i], rel: 1e-2, abs: 2e-3) {
      failures += 1
      if failures <= 5 {
        XCTFail(
          "\(what)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric[i])", file: file, line: line)
      }
    }
  }

  /// Central differences of `loss` with respect to every element of `params`.
  func numericGradient(_ params: inout [Float], eps: Float, _ loss: ([Float]) -> Double) -> [Double]
  {
    var g = [Double](repeating: 0, count: params.count)
    for i in params.indices {
      let saved = params[i]
      params[i] = saved + eps
      let up = loss(params)
      params[i] = saved - eps
      let down = loss(params)
      params[i] = saved
      // The perturbation actually applied, in Float.
      let h = Double(saved + eps) - Double(saved - eps)
      g[i] = (up - down) / h
    }
    return g
  }

  func dot(_ r: [Float], _ out: [Float]) -> Double {
    zip(r, out).reduce(0) { $0 + Double($1.0) * Double($1.1) }
  }

  // MARK: Linear

  func testLinearBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 11)
    let (batch, inDim, outDim) = (3, 5, 4)
    var x = randomFloats(batch * inDim, &rng)
    var w = randomFloats(outDim * inDim, &rng)
    var b = randomFloats(outDim, &rng)
    let r = randomFloats(batch * outDim, &rng)

    func loss(_ x: [Float], _ w: [Float], _ b: [Float]) -> Double {
      var out = [Float](repeating: .nan, count: batch * outDim)
      linearForward(
        out: &out, x: x, weight: w, bias: b, batch: batch, inDim: inDim, outDim: outDim, beta: 0)
      return dot(r, out)
    }

    var dW = [Float](repeating: 0, count: outDim * inDim)
    var db = [Float](repeating: 0, count: outDim)
    var dx = [Float](repeating: .nan, count: batch * inDim)
    linearBackward(
      dWeight: &dW, dBias: &db, dx: &dx, dOut: r, x: x, weight: w, batch: batch, inDim: inDim,
      outDim: outDim)

    let (xs, ws, bs) = (x, w, b)
    assertGradient(dW, numericGradient(&w, eps: eps) { loss(xs, $0, bs) }, "dW")
    assertGradient(db, numericGradient(&b, eps: eps) { loss(xs, ws, $0) }, "db")
    assertGradient(dx, numericGradient(&x, eps: eps) { loss($0, ws, bs) }, "dx")
  }

  /// The forward pass by hand: out = x·Wᵀ + b + β·out.
  func testLinearForwardAgainstLoops() {
    var rng = SplitMix64(seed: 12)
    let (batch, inDim, outDim) = (4, 3, 5)
    let x = randomFloats(batch * inDim, &rng)
    let w = randomFloats(outDim * inDim, &rng)
    let b = randomFloats(outDim, &rng)
    let prior = randomFloats(batch * outDim, &rng)
    for beta: Float in [0, 1] {
      var out = prior
      linearForward(
        out: &out, x: x, weight: w, bias: b, batch: batch, inDim: inDim, outDim: outDim,
        beta: beta)
      for i in 0..<batch {
        for c in 0..<outDim {
          var s = Double(b[c]) + Double(beta) * Double(prior[i * outDim + c])
          for j in 0..<inDim { s += Double(x[i * inDim + j]) * Double(w[c * inDim + j]) }
          XCTAssertEqual(Double(out[i * outDim + c]), s, accuracy: 1e-5, "β=\(beta) [\(i),\(c)]")
        }
      }
    }
  }

  /// dW and db accumulate into what they hold; dx is overwritten.
  func testLinearBackwardAccumulatesWeightGradients() {
    var rng = SplitMix64(seed: 13)
    let (batch, inDim, outDim) = (2, 3, 2)
    let x = randomFloats(batch * inDim, &rng)
    let w = randomFloats(outDim * inDim, &rng)
    let r = randomFloats(batch * outDim, &rng)
    var dW0 = [Float](repeating: 0, count: outDim * inDim)
    var db0 = [Float](repeating: 0, count: outDim)
    var dx0 = [Float](repeating: 0, count: batch * inDim)
    linearBackward(
      dWeight: &dW0, dBias: &db0, dx: &dx0, dOut: r, x: x, weight: w, batch: batch,
      inDim: inDim, outDim: outDim)
    let priorW = randomFloats(outDim * inDim, &rng)
    let priorB = randomFloats(outDim, &rng)
    var dW = priorW
    var db = priorB
    var dx = randomFloats(batch * inDim, &rng)
    linearBackward(
      dWeight: &dW, dBias: &db, dx: &dx, dOut: r, x: x, weight: w, batch: batch, inDim: inDim,
      outDim: outDim)
    for i in dW.indices { XCTAssertEqual(dW[i], priorW[i] + dW0[i], accuracy: 1e-5) }
    for i in db.indices { XCTAssertEqual(db[i], priorB[i] + db0[i], accuracy: 1e-5) }
    for i in dx.indices { XCTAssertEqual(dx[i], dx0[i], accuracy: 1e-6) }
  }

  // MARK: Embedding bag

  /// Three documents over a 6-row table: a repeated row within a bag, a row shared by two
  /// documents, an unused row (5), and the batch taking the documents out of order.
  struct Bags {
    let starts = [0, 3, 5, 8]
    let rows: [Int32] = [0, 2, 0, 1, 2, 3, 4, 1]
    let weights: [Float] = [0.25, 0.5, 0.25, 0.6, 0.4, 0.2, 0.3, 0.5]
    let docs = [2, 0, 1]
    let tableRows = 6

    /// Calls `body` with the bags as the kernels read them, and the batch's documents.
    func withView<R>(_ body: (CSRView, UnsafeBufferPointer<Int>) -> R) -> R {
      withCSRView(starts: starts, rows: rows, values: weights, docs: docs, body)
    }
  }

  func testEmbeddingBagForwardIsTheWeightedSum() {
    var rng = SplitMix64(seed: 21)
    let bags = Bags()
    let dim = 3
    let table = randomFloats(bags.tableRows * dim, &rng)
    var out = [Float](repeating: .nan, count: bags.docs.count * dim)
    bags.withView { csr, docs in
      embeddingBagForward(
        out: &out, table: table, dim: dim, bag: csr, docs: docs)
    }
    for (o, d) in bags.docs.enumerated() {
      for j in 0..<dim {
        var s: Double = 0
        for p in bags.starts[d]..<bags.starts[d + 1] {
          s += Double(bags.weights[p]) * Double(table[Int(bags.rows[p]) * dim + j])
        }
        XCTAssertEqual(Double(out[o * dim + j]), s, accuracy: 1e-6)
      }
    }
  }

  func testEmbeddingBagBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 22)
    let bags = Bags()
    let dim = 4
    var table = randomFloats(bags.tableRows * dim, &rng)
    let r = randomFloats(bags.docs.count * dim, &rng)
    func loss(_ t: [Float]) -> Double {
      var out = [Float](repeating: 0, count: bags.docs.count * dim)
      bags.withView { csr, docs in
        embeddingBagForward(
          out: &out, table: t, dim: dim, bag: csr, docs: docs)
      }
      return dot(r, out)
    }
    var grad = [Float](repeating: 0, count: table.count)
    bags.withView { csr, docs in
      embeddingBagBackward(
        grad: &grad, dOut: r, dim: dim, scale: 1, bag: csr, docs: docs)
    }
    assertGradient(grad, numericGradient(&table, eps: eps, loss), "dTable")
    // Row 5 is in no bag: its gradient is exactly zero.
    XCTAssertEqual(Array(grad[(5 * dim)..<(6 * dim)]), [Float](repeating: 0, count: dim))
  }

  /// The backward pass as an SGD step: with grad = the table and scale −lr it applies
  /// table[w] −= lr · a_w · dOut.
  func testEmbeddingBagBackwardScalesAndAccumulates() {
    var rng = SplitMix64(seed: 23)
    let bags = Bags()
    let dim = 2
    let table = randomFloats(bags.tableRows * dim, &rng)
    let r = randomFloats(bags.docs.count * dim, &rng)
    var unit = [Float](repeating: 0, count: table.count)
    var stepped = table
    bags.withView { csr, docs in
      embeddingBagBackward(
        grad: &unit, dOut: r, dim: dim, scale: 1, bag: csr, docs: docs)
      embeddingBagBackward(
        grad: &stepped, dOut: r, dim: dim, scale: -0.1, bag: csr, docs: docs)
    }
    for i in table.indices { XCTAssertEqual(stepped[i], table[i] - 0.1 * unit[i], accuracy: 1e-6) }
  }

  func testEmbeddingBagBackwardPartsEqualOnePart() {
    var rng = SplitMix64(seed: 24)
    let bags = Bags()
    let dim = 3
    let r = randomFloats(bags.docs.count * dim, &rng)
    let start = randomFloats(bags.tableRows * dim, &rng)
    var whole = start
    bags.withView { csr, docs in
      embeddingBagBackward(
        grad: &whole, dOut: r, dim: dim, scale: -0.7, bag: csr, docs: docs, part: 0, parts: 1)
    }
    XCTAssertNotEqual(whole, start)
    for parts in [2, 3] {
      var split = start
      var partial: [[Float]] = []
      for part in 0..<parts {
        bags.withView { csr, docs in
          embeddingBagBackward(
            grad: &split, dOut: r, dim: dim, scale: -0.7, bag: csr, docs: docs, part: part,
            parts: parts)
        }
        partial.append(split)
      }
      XCTAssertEqual(split, whole, "parts=\(parts)")
      // Part 0 alone touches only rows r with r % parts == 0.
      for row in 0..<bags.tableRows where row % parts != 0 {
        XCTAssertEqual(
          Array(partial[0][(row * dim)..<((row + 1) * dim)]),
          Array(start[(row * dim)..<((row + 1) * dim)]), "parts=\(parts) row \(row)")
      }
    }
  }

  // MARK: Sparse linear

  func testSparseLinearForwardAccumulates() {
    var rng = SplitMix64(seed: 31)
    let bags = Bags()
    let classes = 3
    let w = randomFloats(bags.tableRows * classes, &rng)
    let prior = randomFloats(bags.docs.count * classes, &rng)
    var out = prior
    bags.withView { csr, docs in
      sparseLinearForward(
        out: &out, weight: w, classes: classes, x: csr, docs: docs)
    }
    for (o, d) in bags.docs.enumerated() {
      for c in 0..<classes {
        var s = Double(prior[o * classes + c])
        for p in bags.starts[d]..<bags.starts[d + 1] {
          s += Double(bags.weights[p]) * Double(w[Int(bags.rows[p]) * classes + c])
        }
        XCTAssertEqual(Double(out[o * classes + c]), s, accuracy: 1e-6)
      }
    }
  }

  func testSparseLinearBackwardMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 32)
    let bags = Bags()
    let classes = 4
    var w = randomFloats(bags.tableRows * classes, &rng)
    let r = randomFloats(bags.docs.count * classes, &rng)
    let prior = randomFloats(bags.docs.count * classes, &rng)
    func loss(_ w: [Float]) -> Double {
      var out = prior
      bags.withView { csr, docs in
        sparseLinearForward(
          out: &out, weight: w, classes: classes, x: csr, docs: docs)
      }
      return dot(r, out)
    }
    var grad = [Float](repeating: 0, count: w.count)
    bags.withView { csr, docs in
      sparseLinearBackward(
        grad: &grad, dOut: r, classes: classes, scale: 1, x: csr, docs: docs)
    }
    assertGradient(grad, numericGradient(&w, eps: eps, loss), "dW_wide")
  }

  func testSparseLinearBackwardPartsEqualOnePart() {
    var rng = SplitMix64(seed: 33)
    let bags = Bags()
    let classes = 3
    let r = randomFloats(bags.docs.count * classes, &rng)
    let start = randomFloats(bags.tableRows * classes, &rng)
    var whole = start
    bags.withView { csr, docs in
      sparseLinearBackward(
        grad: &whole, dOut: r, classes: classes, scale: -0.3, x: csr, docs: docs, part: 0, parts: 1)
    }
    XCTAssertNotEqual(whole, start)
    for parts in [2, 3] {
      var split = start
      for part in 0..<parts {
        bags.withView { csr, docs in
          sparseLinearBackward(
            grad: &split, dOut: r, classes: classes, scale: -0.3, x: csr, docs: docs, part: part,
            parts: parts)
        }
      }
      XCTAssertEqual(split, whole, "parts=\(parts)")
    }
  }

  // MARK: Softmax and cross-entropy

  func testSoftmaxRowsSumToOneAndSurviveLargeLogits() {
    var z: [Float] = [1, 2, 3, 1000, 1001, 999, -1000, 0, 5]
    softmaxRows(&z, batch: 3, classes: 3)
    for i in 0..<3 {
      let row = z[(i * 3)..<(i * 3 + 3)]
      XCTAssertTrue(row.allSatisfy { $0.isFinite && $0 >= 0 }, "row \(i): \(row)")
      XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
    }
    // Rows 0 and 1 differ by a shift (and a permutation): p = softmax([1,2,3]).
    let e = [exp(1.0), exp(2.0), exp(3.0)]
    let s = e.reduce(0, +)
    XCTAssertEqual(Double(z[0]), e[0] / s, accuracy: 1e-6)
    XCTAssertEqual(Double(z[2]), e[2] / s, accuracy: 1e-6)
    XCTAssertEqual(Double(z[3]), e[1] / s, accuracy: 1e-6)
    XCTAssertEqual(Double(z[4]), e[2] / s, accuracy: 1e-6)
    XCTAssertEqual(Double(z[5]), e[0] / s, accuracy: 1e-6)
  }

  func testCrossEntropyGradientMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 41)
    let (batch, classes) = (4, 5)
    var z = randomFloats(batch * classes, &rng, scale: 2)
    let labels: [Int32] = [0, 3, 4, 3]
    let weights: [Float] = [1, 0.5, 2, 1.5]
    // L(z) = Σ_i w_i · −ln softmax(z_i)_{y_i}, from the kernel's probabilities, in Double.
    func loss(_ z: [Float]) -> Double {
      var p = z
      softmaxRows(&p, batch: batch, classes: classes)
      var l: Double = 0
      for i in 0..<batch { l -= Double(weights[i]) * log(Double(p[i * classes + Int(labels[i])])) }
      return l
    }
    var p = z
    softmaxRows(&p, batch: batch, classes: classes)
    var dz = [Float](repeating: .nan, count: batch * classes)
    let returned = crossEntropyForwardBackward(
      probs: p, labels: labels, weights: weights, batch: batch, classes: classes, dLogits: &dz)
    XCTAssertEqual(Double(returned), loss(z), accuracy: 1e-4 * abs(loss(z)))
    assertGradient(dz, numericGradient(&z, eps: 1e-2, loss), "dLogits")
    // Each row of the gradient sums to 0 (softmax is shift-invariant).
    for i in 0..<batch {
      XCTAssertEqual(dz[(i * classes)..<((i + 1) * classes)].reduce(0, +), 0, accuracy: 1e-5)
    }
  }

  /// The trainer computes the gradient in place of the probabilities (p and dLogits alias).
  func testCrossEntropyInPlaceEqualsSeparateBuffers() {
    var rng = SplitMix64(seed: 42)
    let (batch, classes) = (3, 4)
    var p = randomFloats(batch * classes, &rng, scale: 3)
    softmaxRows(&p, batch: batch, classes: classes)
    let labels: [Int32] = [1, 0, 3]
    let weights: [Float] = [1, 2, 0.5]
    var separate = [Float](repeating: 0, count: p.count)
    let l1 = crossEntropyForwardBackward(
      probs: p, labels: labels, weights: weights, batch: batch, classes: classes,
      dLogits: &separate)
    var inPlace = p
    let l2 = inPlace.withUnsafeMutableBufferPointer { b in
      crossEntropyForwardBackward(
        probs: b.base, labels: labels, weights: weights, batch: batch, classes: classes,
        dLogits: b.base)
    }
    XCTAssertEqual(l1, l2)
    XCTAssertEqual(separate, inPlace)
  }

  func testCrossEntropyClampsZeroProbability() {
    let p: [Float] = [1, 0]
    var dz: [Float] = [0, 0]
    let l = crossEntropyForwardBackward(
      probs: p, labels: [1], weights: [1], batch: 1, classes: 2, dLogits: &dz)
    XCTAssertTrue(l.isFinite)
    XCTAssertEqual(Double(l), -log(1e-12), accuracy: 1e-3)
    XCTAssertEqual(dz, [1, -1])
  }

  // MARK: Focal loss

  func testFocalLossGradientMatchesFiniteDifferences() {
    var rng = SplitMix64(seed: 43)
    let (batch, classes) = (4, 5)
    let labels: [Int32] = [2, 0, 4, 1]
    let weights: [Float] = [1, 0.5, 2, 1.5]
    for gamma: Float in [0.5, 1, 2, 3] {
      var z = randomFloats(batch * classes, &rng, scale: 2)
      // L(z) = Σ_i w_i · −(1 − p_t)^γ · ln p_t, in Double from the softmax probabilities.
      func loss(_ z: [Float]) -> Double {
        var p = z
        softmaxRows(&p, batch: batch, classes: classes)
        var l: Double = 0
        for i in 0..<batch {
          let pt = Double(p[i * classes + Int(labels[i])])
          l -= Double(weights[i]) * pow(1 - pt, Double(gamma)) * log(pt)
        }
        return l
      }
      var p = z
      softmaxRows(&p, batch: batch, classes: classes)
      var dz = [Float](repeating: .nan, count: batch * classes)
      let returned = focalForwardBackward(
        probs: p, labels: labels, weights: weights, gamma: gamma, batch: batch, classes: classes,
        dLogits: &dz)
      XCTAssertEqual(Double(returned), loss(z), accuracy: 1e-4 * abs(loss(z)), "γ = \(gamma)")
      assertGradient(dz, numericGradient(&z, eps: 1e-2, loss), "focal γ=\(gamma) dLogits")
    }
  }

  func testFocalLossWithGammaZeroIsCrossEntropy() {
    var rng = SplitMix64(seed: 44)
    let (batch, classes) = (3, 4)
    var p = randomFloats(batch * classes, &rng, scale: 3)
    softmaxRows(&p, batch: batch, classes: classes)
    let labels: [Int32] = [3, 1, 0]
    let weights: [Float] = [1, 2, 0.5]
    var ce = [Float](repeating: 0, count: p.count)
    var focal = [Float](repeating: 0, count: p.count)
    let l1 = crossEntropyForwardBackward(
      probs: p, labels: labels, weights: weights, batch: batch, classes: classes, dLogits: &ce)
    let l2 = focalForwardBackward(
      probs: p, labels: labels, weights: weights, gamma: 0, batch: batch, classes: classes,
      dLogits: &focal)
    XCTAssertEqual(l1, l2, accuracy: 1e-6)
    for i in ce.indices { XCTAssertEqual(ce[i], focal[i], accuracy: 1e-7) }
    // In place (p and dLogits the same buffer), as the trainer calls it.
    var inPlace = p
    let l3 = inPlace.withUnsafeMutableBufferPointer { b in
      focalForwardBackward(
        probs: b.base, labels: labels, weights: weights, gamma: 2, batch: batch,
        classes: classes, dLogits: b.base)
    }
    var separate = [Float](repeating: 0, count: p.count)
    let l4 = focalForwardBackward(
      probs: p, labels: labels, weights: weights, gamma: 2, batch: batch, classes: classes,
      dLogits: &separate)
    XCTAssertEqual(l3, l4)
    XCTAssertEqual(inPlace, separate)
  }

  /// The focal factors against their definition, by hand: effective weights
  /// w_i · min(N q_i^γ, 1) sum to at most Σ w_i, reach it when no row is capped, and are
  /// all 1 at γ = 0.
  func testFocalRowScales() {
    let classes = 2
    // p_t = 0.9, 0.5, 0.99, 0.2 → q = 0.1, 0.5, 0.01, 0.8.
    let p: [Float] = [0.9, 0.1, 0.5, 0.5, 0.01, 0.99, 0.8, 0.2]
    let labels: [Int32] = [0, 1, 1, 1]
    let weights: [Float] = [1, 2, 1, 0.5]
    let q: [Float] = [0.1, 0.5, 0.01, 0.8]
    var s = [Float](repeating: 0, count: 4)
    focalRowScales(
      probs: p, labels: labels, weights: weights, gamma: 2, batch: 4, classes: classes, into: &s)
    let total = weights.reduce(0, +)
    let focal = zip(weights, q).reduce(Float(0)) { $0 + $1.0 * $1.1 * $1.1 }
    let n = total / focal
    for i in 0..<4 {
      XCTAssertEqual(s[i], min(n, 1 / (q[i] * q[i])), accuracy: 1e-3 * s[i], "row \(i)")
      XCTAssertLessThanOrEqual(s[i] * q[i] * q[i], 1 + 1e-5, "no row above cross-entropy")
    }
    let effective = (0..<4).reduce(Float(0)) { $0 + weights[$1] * s[$1] * q[$1] * q[$1] }
    XCTAssertLessThanOrEqual(effective, total * (1 + 1e-5))
    // Rows of equal difficulty: nothing is capped, the total is cross-entropy's.
    let even: [Float] = [0.6, 0.4, 0.4, 0.6]
    var e = [Float](repeating: 0, count: 2)
    focalRowScales(
      probs: even, labels: [0, 1], weights: [1, 1], gamma: 2, batch: 2, classes: 2, into: &e)
    XCTAssertEqual(e[0] * 0.16 + e[1] * 0.16, 2, accuracy: 1e-5)
    var zero = [Float](repeating: 0, count: 4)
    focalRowScales(
      probs: p, labels: labels, weights: weights, gamma: 0, batch: 4, classes: classes,
      into: &zero)
    XCTAssertEqual(zero, [1, 1, 1, 1])
  }
}
