import XCTest

@testable import Quarry

final class BLASTests: XCTestCase {
  override class func setUp() {
    super.setUp()
    setBLASThreads(1)
  }

  /// The naive reference itself, on a 2×3 · 3×2 product worked out by hand, in all four
  /// storage layouts: the same logical A and B stored transposed or not.
  func testNaiveReferenceOnHandWorkedProduct() {
    // A = [[1, 2, 3], [4, 5, 6]] (2×3), B = [[7, 8], [9, 10], [11, 12]] (3×2).
    // A·B = [[1·7+2·9+3·11, 1·8+2·10+3·12], [4·7+5·9+6·11, 4·8+5·10+6·12]]
    //     = [[58, 64], [139, 154]].
    let aRow: [Float] = [1, 2, 3, 4, 5, 6]
    let aT: [Float] = [1, 4, 2, 5, 3, 6]  // stored 3×2
    let bRow: [Float] = [7, 8, 9, 10, 11, 12]
    let bT: [Float] = [7, 9, 11, 8, 10, 12]  // stored 2×3
    let expected: [Float] = [58, 64, 139, 154]
    for (tA, a) in [(false, aRow), (true, aT)] {
      for (tB, b) in [(false, bRow), (true, bT)] {
        var c: [Float] = [1, 1, 1, 1]
        // α = 2, β = 0.5: C = 2·A·B + 0.5.
        sgemmNaive(transA: tA, transB: tB, m: 2, n: 2, k: 3, alpha: 2, a, b, beta: 0.5, &c)
        XCTAssertEqual(c, expected.map { 2 * $0 + 0.5 }, "naive transA=\(tA) transB=\(tB)")
        var d: [Float] = [1, 1, 1, 1]
        sgemm(transA: tA, transB: tB, m: 2, n: 2, k: 3, alpha: 2, a, b, beta: 0.5, &d)
        XCTAssertEqual(d, expected.map { 2 * $0 + 0.5 }, "blas transA=\(tA) transB=\(tB)")
      }
    }
  }

  func testSgemmMatchesNaiveOnRandomShapes() {
    var rng = SplitMix64(seed: 42)
    var shapes: [(Int, Int, Int)] = [
      (1, 1, 1), (1, 7, 1), (5, 1, 3), (3, 5, 7), (17, 13, 11), (2, 33, 65),
    ]
    for _ in 0..<8 {
      shapes.append((1 + Int(rng.next() % 40), 1 + Int(rng.next() % 40), 1 + Int(rng.next() % 40)))
    }
    for (m, n, k) in shapes {
      for transA in [false, true] {
        for transB in [false, true] {
          for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (-0.5, 1), (2, 0)] {
            let a = randomFloats(m * k, &rng)
            let b = randomFloats(k * n, &rng)
            let c0 = randomFloats(m * n, &rng)
            var fast = c0
            var slow = c0
            sgemm(
              transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta,
              &fast)
            sgemmNaive(
              transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta,
              &slow)
            // Error bound scale: |α|·Σ_p |a_ip||b_pj| + |β·c_ij|.
            for i in 0..<m {
              for j in 0..<n {
                var mag: Double = 0
                for p in 0..<k {
                  let aip = transA ? a[p * m + i] : a[i * k + p]
                  let bpj = transB ? b[j * k + p] : b[p * n + j]
                  mag += Double(abs(aip * bpj))
                }
                mag = Double(abs(alpha)) * mag + Double(abs(beta * c0[i * n + j]))
                let x = Double(fast[i * n + j])
                let y = Double(slow[i * n + j])
                if abs(x - y) > 1e-4 * mag + 1e-6 {
                  XCTFail(
                    "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) α=\(alpha) β=\(beta) [\(i),\(j)]: \(x) vs \(y)"
                  )
                  return
                }
              }
            }
          }
        }
      }
    }
  }

  /// β = 0 must ignore what C held, even NaN (BLAS semantics), in both implementations.
  func testBetaZeroIgnoresPriorContents() {
    var rng = SplitMix64(seed: 7)
    let (m, n, k) = (4, 3, 5)
    let a = randomFloats(m * k, &rng)
    let b = randomFloats(k * n, &rng)
    var fast = [Float](repeating: .nan, count: m * n)
    var slow = [Float](repeating: .nan, count: m * n)
    sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, &fast)
    sgemmNaive(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a, b, beta: 0, &slow)
    XCTAssertTrue(fast.allSatisfy(\.isFinite))
    XCTAssertTrue(slow.allSatisfy(\.isFinite))
    for i in fast.indices { XCTAssertEqual(fast[i], slow[i], accuracy: 1e-5) }
  }

  func testChunksPartitionTheRange() {
    for n in [0, 1, 5, 16, 101] {
      for parts in 1...7 {
        var covered: [Int] = []
        var last = 0
        for p in 0..<parts {
          let r = chunk(n, part: p, parts: parts)
          XCTAssertEqual(r.lowerBound, last, "n=\(n) parts=\(parts)")
          XCTAssertLessThanOrEqual(r.count, n / parts + 1)
          covered += Array(r)
          last = r.upperBound
        }
        XCTAssertEqual(covered, Array(0..<n))
      }
    }
  }

  func testParallelForRunsEveryPartOnce() {
    let parts = 6
    var hits = [Int](repeating: 0, count: parts)
    hits.withUnsafeMutableBufferPointer { h in
      parallelFor(parts) { p in h[p] += 1 }
    }
    XCTAssertEqual(hits, [Int](repeating: 1, count: parts))
  }

  /// SplitMix64's published reference output for seed 0.
  func testSplitMix64ReferenceValues() {
    var g = SplitMix64(seed: 0)
    XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
    XCTAssertEqual(g.next(), 0x6E78_9E6A_A1B9_65F4)
    var u = SplitMix64(seed: 99)
    for _ in 0..<1000 {
      let f = u.nextUnitFloat()
      XCTAssertTrue(f >= 0 && f < 1)
    }
  }

  func testShuffleIsASeededPermutation() {
    var a = Array(0..<50)
    var b = Array(0..<50)
    var g1 = SplitMix64(seed: 3)
    var g2 = SplitMix64(seed: 3)
    g1.shuffle(&a)
    g2.shuffle(&b)
    XCTAssertEqual(a, b)
    XCTAssertNotEqual(a, Array(0..<50))
    XCTAssertEqual(a.sorted(), Array(0..<50))
  }
}
