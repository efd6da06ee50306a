import Foundation

/// Runs `body(i)` for every i in 0..<count on up to `threads` threads, each taking the next
/// index as it finishes the last, so a thread slowed down (by another process on its
/// core, or a longer piece) takes fewer pieces. With one thread it runs in order, inline.
func dynamicFor(_ count: Int, threads: Int, _ body: (Int) -> Void) {
  if threads <= 1 || count <= 1 {
    for i in 0..<count { body(i) }
    return
  }
  let next = NextIndex()
  parallelFor(min(threads, count)) { _ in
    while true {
      let i = next.take()
      if i >= count { return }
      body(i)
    }
  }
}

/// A shared counter handing out 0, 1, 2, … under a lock.
private final class NextIndex: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0

  func take() -> Int {
    lock.lock()
    defer { lock.unlock() }
    value += 1
    return value - 1
  }
}

/// How many pieces to cut `n` items into for `threads` threads: about three per thread
/// (so `dynamicFor` can balance), none smaller than `grain` items.
func pieces(_ n: Int, threads: Int, grain: Int) -> Int {
  threads <= 1 ? 1 : max(1, min(3 * threads, n / max(grain, 1)))
}
