import XCTest

@testable import Quarry

/// The SIMD row kernels (embedding bag, wide part, dense layer; forward and backward)
/// against their naive reference kernels: equal bits, not just close values, on widths
/// that exercise every lane plan (scalar, one vector, overlapping tails, several passes).
final class RowKernelTests: XCTestCase {
  let widths = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 50, 52, 64, 65, 100, 300]

  /// Sparse rows over a table of `tableRows`: 7 documents, one of them empty, one with a
  /// row twice, taken out of order.
  struct Sparse {
    var starts: [Int] = [0]
    var rows: [Int32] = []
    var values: [Float] = []
    let docs = [3, 0, 6, 1, 5, 2, 4]
    let tableRows = 40

    init(_ rng: inout SplitMix64) {
      for doc in 0..<7 {
        let n = doc == 4 ? 0 : 1 + Int(rng.next() % 30)
        for _ in 0..<n { rows.append(Int32(rng.next() % UInt64(tableRows))) }
        if doc == 2 { rows.append(rows[rows.count - 1]) }
        starts.append(rows.count)
      }
      values = randomFloats(rows.count, &rng)
    }

    /// Calls `body` with the rows as the kernels read them, and the batch's documents.
    func withView<R>(_ body: (CSRView, UnsafeBufferPointer<Int>) -> R) -> R {
      withCSRView(starts: starts, rows: rows, values: values, docs: docs, body)
    }
  }

  func testLanePlanCoversEveryLaneWithinTheRow() {
    XCTAssertNil(LanePlan(count: 1))
    for n in 2...80 {
      guard let plan = LanePlan(count: n) else { return XCTFail("no plan for \(n)") }
      var covered = [Bool](repeating: false, count: n)
      var lastPass = -1
      for (k, pass) in plan.passes.enumerated() {
        let o = pass.offsets
        XCTAssertTrue((1...4).contains(pass.count), "n=\(n)")
        // Offsets past the pass's own repeat its first, and no kernel touches them.
        XCTAssertEqual([o.0, o.1, o.2, o.3][pass.count...].filter { $0 != o.0 }, [], "n=\(n)")
        for off in [o.0, o.1, o.2, o.3].prefix(pass.count) {
          XCTAssertTrue(off >= 0 && off + plan.width <= n, "n=\(n) offset \(off)")
          for j in off..<(off + plan.width) {
            if off == n - plan.width && n % plan.width != 0 { lastPass = k }
            covered[j] = true
          }
        }
      }
      XCTAssertEqual(covered, [Bool](repeating: true, count: n), "n=\(n)")
      // The overlapping tail shares the last pass with the vector it overlaps.
      if n % plan.width != 0 && n > plan.width {
        XCTAssertEqual(lastPass, plan.passes.count - 1, "n=\(n)")
        let last = plan.passes[plan.passes.count - 1]
        let o = last.offsets
        XCTAssertTrue(
          [o.0, o.1, o.2, o.3].prefix(last.count).contains((n / plan.width - 1) * plan.width),
          "n=\(n)")
      }
    }
  }

  func testEmbeddingBagKernelsEqualReferenceBits() {
    var rng = SplitMix64(seed: 41)
    let s = Sparse(&rng)
    for dim in widths {
      let table = randomFloats(s.tableRows * dim, &rng)
      let dOut = randomFloats(s.docs.count * dim, &rng)
      var fast = [Float](repeating: .nan, count: s.docs.count * dim)
      var ref = fast
      s.withView { csr, docs in
        embeddingBagForward(
          out: &fast, table: table, dim: dim, bag: csr, docs: docs)
        sparseGatherReference(
          out: &ref, table: table, width: dim, entries: csr, docs: docs, accumulate: false)
      }
      assertSameBits(fast, ref, "forward, D=\(dim)")
      for parts in [1, 2, 3] {
        var gFast = table
        var gRef = table
        s.withView { csr, docs in
          for part in 0..<parts {
            embeddingBagBackward(
              grad: &gFast, dOut: dOut, dim: dim, scale: -0.3, bag: csr, docs: docs, part: part,
              parts: parts)
            sparseScatterReference(
              grad: &gRef, dOut: dOut, width: dim, scale: -0.3, entries: csr, docs: docs,
              part: part, parts: parts)
          }
        }
        XCTAssertNotEqual(gRef, table)
        assertSameBits(gFast, gRef, "backward, D=\(dim), parts=\(parts)")
      }
    }
  }

  func testSparseLinearKernelsEqualReferenceBits() {
    var rng = SplitMix64(seed: 42)
    let s = Sparse(&rng)
    for classes in widths {
      let w = randomFloats(s.tableRows * classes, &rng)
      let prior = randomFloats(s.docs.count * classes, &rng)
      let dOut = randomFloats(s.docs.count * classes, &rng)
      var fast = prior
      var ref = prior
      s.withView { csr, docs in
        sparseLinearForward(
          out: &fast, weight: w, classes: classes, x: csr, docs: docs)
        sparseGatherReference(
          out: &ref, table: w, width: classes, entries: csr, docs: docs, accumulate: true)
      }
      XCTAssertNotEqual(ref, prior)
      assertSameBits(fast, ref, "forward, C=\(classes)")
      for parts in [1, 2] {
        for decay: Float in [1, 0.97] {
          var gFast = w
          var gRef = w
          s.withView { csr, docs in
            for part in 0..<parts {
              sparseLinearBackward(
                grad: &gFast, dOut: dOut, classes: classes, scale: 0.7, decay: decay, x: csr,
                docs: docs, part: part, parts: parts)
              sparseScatterReference(
                grad: &gRef, dOut: dOut, width: classes, scale: 0.7, decay: decay, entries: csr,
                docs: docs, part: part, parts: parts)
            }
          }
          assertSameBits(gFast, gRef, "backward, C=\(classes), parts=\(parts), decay=\(decay)")
        }
      }
    }
  }

  func testLinearKernelsEqualReferenceBits() {
    var rng = SplitMix64(seed: 43)
    for (inDim, outDim) in [(50, 8), (50, 2), (3, 5), (17, 52), (300, 20), (1, 9), (64, 1)] {
      let batch = 13
      let x = randomFloats(batch * inDim, &rng)
      let w = randomFloats(outDim * inDim, &rng)
      let b = randomFloats(outDim, &rng)
      let dOut = randomFloats(batch * outDim, &rng)
      var fast = [Float](repeating: .nan, count: batch * outDim)
      var ref = fast
      linearForward(
        out: &fast, x: x, weight: w, bias: b, batch: batch, inDim: inDim, outDim: outDim, beta: 0)
      linearForwardReference(
        out: &ref, x: x, weight: w, bias: b, batch: batch, inDim: inDim, outDim: outDim, beta: 0)
      assertSameBits(fast, ref, "forward \(inDim)→\(outDim)")
      let priorW = randomFloats(outDim * inDim, &rng)
      let priorB = randomFloats(outDim, &rng)
      var (dwF, dbF, dxF) = (priorW, priorB, [Float](repeating: .nan, count: batch * inDim))
      var (dwR, dbR, dxR) = (priorW, priorB, dxF)
      linearBackward(
        dWeight: &dwF, dBias: &dbF, dx: &dxF, dOut: dOut, x: x, weight: w, batch: batch,
        inDim: inDim, outDim: outDim)
      linearBackwardReference(
        dWeight: &dwR, dBias: &dbR, dx: &dxR, dOut: dOut, x: x, weight: w, batch: batch,
        inDim: inDim, outDim: outDim)
      assertSameBits(dwF, dwR, "dW \(inDim)→\(outDim)")
      assertSameBits(dbF, dbR, "db \(inDim)→\(outDim)")
      assertSameBits(dxF, dxR, "dx \(inDim)→\(outDim)")
    }
  }

  /// The dense layer agrees with BLAS's product to rounding (it only fixes the order).
  func testLinearForwardAgreesWithSgemm() {
    var rng = SplitMix64(seed: 44)
    let (batch, inDim, outDim) = (128, 50, 8)
    let x = randomFloats(batch * inDim, &rng)
    let w = randomFloats(outDim * inDim, &rng)
    let b = [Float](repeating: 0, count: outDim)
    var ours = [Float](repeating: 0, count: batch * outDim)
    var blas = ours
    linearForward(
      out: &ours, x: x, weight: w, bias: b, batch: batch, inDim: inDim, outDim: outDim, beta: 0)
    sgemm(
      transA: false, transB: true, m: batch, n: outDim, k: inDim, alpha: 1, x, w, beta: 0, &blas)
    for i in ours.indices { XCTAssertEqual(ours[i], blas[i], accuracy: 1e-5) }
  }

  /// Equal bits element by element (NaN included); names the first that differs.
  func assertSameBits(
    _ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    guard a.count == b.count else { return }
    if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
      XCTFail("\(what): element \(i) is \(a[i]), expected \(b[i])", file: file, line: line)
    }
  }
}
