import Dispatch

/// Runs `body(part)` for part in 0..<parts on up to `parts` threads and waits for all.
/// With one part it runs inline.
@inline(__always)
public func parallelFor(_ parts: Int, _ body: (Int) -> Void) {
  if parts <= 1 {
    body(0)
  } else {
    DispatchQueue.concurrentPerform(iterations: parts, execute: body)
  }
}

/// The `part`-th of `parts` near-equal contiguous pieces of 0..<n.
@inline(__always)
public func chunk(_ n: Int, part: Int, parts: Int) -> Range<Int> {
  (n * part / parts)..<(n * (part + 1) / parts)
}
