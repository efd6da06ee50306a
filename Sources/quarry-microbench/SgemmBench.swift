import Quarry

/// One sgemm shape, C (m×n) ← op(A)·op(B), 2·m·n·k flops.
struct GemmShape {
  var name: String
  var m: Int
  var n: Int
  var k: Int
  var transA = false
  var transB = false

  var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

  /// The figure of `secs`, each the time of `calls` calls on `threads` threads.
  func figure(threads: Int, calls: Int, _ secs: [Double]) -> Figure {
    let t = median(secs) / Double(calls)
    return Figure(
      section: "sgemm",
      name: "\(name), \(threads) thread\(threads == 1 ? "" : "s")",
      unit: "GFLOP/s", median: flops / t / 1e9,
      samples: secs.map { flops * Double(calls) / $0 / 1e9 },
      detail: String(
        format: "m×n×k = %d×%d×%d%@%@, %@/call", m, n, k,
        transA ? ", Aᵀ" : "", transB ? ", Bᵀ" : "",
        t < 1e-3 ? String(format: "%.2f µs", 1e6 * t) : String(format: "%.1f ms", 1e3 * t)
      ),
      extra: [
        "m": Double(m), "n": Double(n), "k": Double(k), "threads": Double(threads),
        "us_per_call": 1e6 * t,
      ])
  }
}

/// `cblas_sgemm` (through Quarry's `sgemm`) on `shapes`, on 1 and 2 OpenBLAS threads.
func sgemmBenchmarks(shapes: [GemmShape], reps: Int) -> [Figure] {
  var out: [Figure] = []
  var rng = SplitMix64(seed: 7)
  for s in shapes {
    let a = (0..<(s.m * s.k)).map { _ in rng.nextUnitFloat() - 0.5 }
    let b = (0..<(s.k * s.n)).map { _ in rng.nextUnitFloat() - 0.5 }
    var c = [Float](repeating: 0, count: s.m * s.n)
    for threads in [1, 2] {
      setBLASThreads(threads)
      a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
          c.withUnsafeMutableBufferPointer { cp in
            let (pa, pb, pc) = (ap.base, bp.base, cp.base)
            let call = {
              sgemm(
                transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1, pa, pb,
                beta: 0, pc)
            }
            let inner = calibrate(target: .milliseconds(50), call)
            let secs = timeRuns(reps: reps) {
              for _ in 0..<inner { call() }
              consume(pc[0])
            }
            out.append(s.figure(threads: threads, calls: inner, secs))
          }
        }
      }
    }
  }
  setBLASThreads(1)
  return out
}

/// A streaming read of a 64 MiB buffer, 1 thread: the memory roof for the gathers.
func memoryBenchmark(reps: Int) -> Figure {
  let n = 8 << 20  // UInt64s = 64 MiB
  let buf = [UInt64](unsafeUninitializedCapacity: n) { p, count in
    for i in 0..<n { p[i] = UInt64(i) }
    count = n
  }
  let secs = timeRuns(reps: reps) {
    var s0: UInt64 = 0
    var s1: UInt64 = 0
    buf.withUnsafeBufferPointer { p in
      var i = 0
      while i < n {
        s0 &+= p[i]
        s1 &+= p[i + 1]
        i += 2
      }
    }
    consume(Int(truncatingIfNeeded: s0 &+ s1))
  }
  let bytes = Double(n * 8)
  return Figure(
    section: "memory", name: "sequential read", unit: "GB/s", median: bytes / median(secs) / 1e9,
    samples: secs.map { bytes / $0 / 1e9 }, detail: "sum of a 64 MiB array, 1 thread",
    extra: ["bytes": bytes])
}
