import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Quarry
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Answer predictions over HTTP, from a model loaded once.",
    discussion: """
      POST /v1/predict takes {"texts": ["…", …], "k": 3} (k optional, 1 by default) and \
      answers {"predictions": [{"labels": […], "probabilities": […]}, …]}, one per text, the \
      labels and probabilities quarry predict --format jsonl prints for it; its header \
      X-Model-SHA256 names the model file that answered. GET /v1/model gives the labels and \
      where the model came from, GET /healthz answers ok, GET /metrics gives request counts, \
      latencies and batch sizes in Prometheus's text format. A bad request answers 400, one \
      over a limit 413, a missing token 401, each with {"error": "…"}.

      Requests that arrive together are scored together, in one batch. SIGHUP reads the \
      model file again: requests in flight finish on the old model, and a file that does not \
      load is refused (said on stderr) while the old model serves on. SIGINT or SIGTERM: the \
      requests in flight finish, then it exits with status 0.

      It listens on 127.0.0.1 unless --host says otherwise, and says on stderr where. With \
      --token-file, every request must carry "Authorization: Bearer <the file's token>".

      Example:
        quarry serve --model r8.qmodel --port 8080 &
        curl -s localhost:8080/v1/predict \\
          -d '{"texts": ["crude oil prices rose"], "k": 2}'
        mv new.qmodel r8.qmodel && kill -HUP %1
      """)

  @Option(help: "The model file (read again on SIGHUP).") var model: String
  @Option(help: "The address to listen on.") var host = "127.0.0.1"
  @Option(help: "The port to listen on (0: any free port, printed on stderr).") var port = 8080
  @Option(help: "The most texts one request may hold.") var maxTexts = 4096
  @Option(help: "The largest request body, in MB.") var maxBodyMb = 16
  @Option(help: "The longest text, in KB.") var maxTextKb = 1024
  @Option(help: "The most texts scored in one batch (requests that arrive together).")
  var batchTexts = 256
  @Option(help: "A file holding the bearer token every request must carry.")
  var tokenFile: String?
  @Option(
    help: """
      For a model trained with --encoder: the checkpoint folder to use instead of the one \
      the model names (its weights must be the same).
      """)
  var encoder: String?
  @OptionGroup var compute: ComputeOptions

  func validate() throws {
    guard (0...65535).contains(port) else {
      throw ValidationError("--port must be between 0 and 65535, got \(port)")
    }
    guard maxTexts >= 1 else { throw ValidationError("--max-texts must be at least 1") }
    guard batchTexts >= 1 else { throw ValidationError("--batch-texts must be at least 1") }
    guard (1...1024).contains(maxBodyMb) else {
      throw ValidationError("--max-body-mb must be between 1 and 1024, got \(maxBodyMb)")
    }
    guard (1...(1 << 20)).contains(maxTextKb) else {
      throw ValidationError("--max-text-kb must be between 1 and 1048576, got \(maxTextKb)")
    }
  }

  func run() async throws {
    // stdout is for results: the server's own log lines (warnings and worse) go to stderr.
    LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    var logger = Logger(label: "quarry")
    logger.logLevel = .warning
    let registry = ServeMetrics.bootstrap()
    // Batches run side by side, one thread each: OpenBLAS (the encoder's) must not fan out
    // under them, nor have its thread count set and reset by each.
    setBLASThreads(1)
    let slot = try ModelSlot(
      path: model,
      encoderDirectory: encoder.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
      threads: compute.threads)
    let route = PredictRoute(
      slot: slot, scorer: BatchScorer(threads: compute.threads, maxTexts: batchTexts),
      limits: RequestLimits(
        maxTexts: maxTexts, maxBodyBytes: maxBodyMb << 20, maxTextBytes: maxTextKb << 10))

    let router = Router()
    router.add(middleware: MetricsMiddleware())
    if let tokenFile { router.add(middleware: try BearerTokenMiddleware(file: tokenFile)) }
    router.get("healthz") { _, _ in "ok\n" }
    router.get("metrics") { _, _ in ServeMetrics.page(registry) }
    router.get("v1/model") { _, _ in Response.json(slot.model.infoJSON) }
    router.post("v1/predict") { request, _ in await route.answer(request) }

    let model = self.model
    let app = Application(
      router: router,
      configuration: .init(address: .hostname(host, port: port), serverName: "quarry"),
      onServerRunning: { channel in
        let address = channel.localAddress
        let shown = "\(address?.ipAddress ?? "?"):\(address?.port ?? 0)"
        Diagnostics.note("serving \(model) on http://\(shown)")
      },
      logger: logger)
    let group = ServiceGroup(
      configuration: .init(
        services: [app, ModelReloader(slot: slot, logger: logger)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}
