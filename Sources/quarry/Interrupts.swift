import Foundation
import Synchronization

/// The signal (SIGINT or SIGTERM) that asked the run to stop, or 0.
private let requestedSignal = Atomic<Int32>(0)

/// SIGINT and SIGTERM during training: the first one asks the trainer to stop before its
/// next batch (the last epoch's checkpoint stays, and no model is written); a second one
/// ends the process at once, by the signal's default action.
enum Interrupts {
  static func install() {
    // Touch the global first: its lazy initialisation must not happen in a handler.
    _ = requestedSignal.load(ordering: .relaxed)
    for s in [SIGINT, SIGTERM] {
      signal(s) { sig in
        let (exchanged, _) = requestedSignal.compareExchange(
          expected: 0, desired: sig, ordering: .relaxed)
        if !exchanged {
          signal(sig, SIG_DFL)
          raise(sig)
        }
      }
    }
  }

  /// The signal received, or 0.
  static var requested: Int32 { requestedSignal.load(ordering: .relaxed) }

  static func name(_ sig: Int32) -> String {
    switch sig {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    default: return "signal \(sig)"
    }
  }
}
