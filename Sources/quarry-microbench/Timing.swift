import Quarry

/// One measured figure: the median of `samples`, in `unit`, with what it measured.
struct Figure: Codable {
  var section: String
  var name: String
  var unit: String
  var median: Double
  var samples: [Double]
  var detail: String
  /// The target, as text ("≤ 0.1 s"), and whether the median meets it.
  var target: String? = nil
  var meets: Bool? = nil
  /// Extra numbers for the JSON (flops, bytes, shapes, ...).
  var extra: [String: Double] = [:]
}

/// The clock every figure is timed on (monotonic, and counting while the process sleeps).
let clock = ContinuousClock()

/// Runs `body` once untimed (warm-up: page cache, allocations), then `reps` times, and
/// returns each run's seconds.
func timeRuns(reps: Int, warmup: Int = 1, _ body: () throws -> Void) rethrows -> [Double] {
  for _ in 0..<warmup { try body() }
  var out: [Double] = []
  for _ in 0..<max(1, reps) {
    out.append(try clock.measure(body).seconds)
  }
  return out
}

/// How many calls of `body` take about `target` (at least 1).
func calibrate(target: Duration = .milliseconds(50), _ body: () -> Void) -> Int {
  var n = 1
  while true {
    let dt = clock.measure { for _ in 0..<n { body() } }
    if dt >= target / 8 || n >= 1 << 24 {
      return max(1, Int((Double(n) * target.seconds / max(dt.seconds, 1e-9)).rounded()))
    }
    n *= 2
  }
}

func median(_ xs: [Double]) -> Double {
  let s = xs.sorted()
  guard !s.isEmpty else { return .nan }
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Keeps results alive so the optimiser cannot drop the work that made them.
nonisolated(unsafe) var sink: Int = 0
@inline(never) func consume(_ x: Int) { sink &+= x }
@inline(never) func consume(_ x: Float) { sink &+= Int(x.bitPattern) }
