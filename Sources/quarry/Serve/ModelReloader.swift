import Logging
import Metrics
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the model file. Requests in flight finish on the model they started
/// with; a file that does not load is refused, said on stderr, and the old model serves on.
struct ModelReloader: Service {
  let slot: ModelSlot
  let logger: Logger

  func run() async throws {
    let reloads = Counter(label: "quarry_model_reloads_total", dimensions: [("result", "ok")])
    let refused = Counter(label: "quarry_model_reloads_total", dimensions: [("result", "refused")])
    for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
      do {
        let fresh = try slot.reload()
        reloads.increment()
        Diagnostics.note("SIGHUP: now serving \(slot.path) (sha256 \(fresh.sha256.prefix(12)))")
      } catch {
        refused.increment()
        Diagnostics.warn(
          "SIGHUP: kept the model that was serving (sha256 \(slot.model.sha256.prefix(12))): \(error)"
        )
      }
    }
  }
}
