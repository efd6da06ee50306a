import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Quarry

struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Answer predictions over HTTP, from a model loaded once.",
    discussion: """
      POST /v1/predict takes {"texts": ["…", …], "k": 3} (k optional, 1 by default) and
      answers {"predictions": [{"labels": […], "probabilities": […]}, …]}, one per text, the
      labels and probabilities quarry predict --format jsonl prints for it. GET /v1/model
      gives the labels and where the model came from; GET /healthz answers ok. A bad request
      answers 400, a body over --max-body-mb 413, with {"error": "…"}.

      It listens on 127.0.0.1 unless --host says otherwise, and says on stderr where.
      SIGINT or SIGTERM: the requests in flight finish, then it exits.

      Example:
        quarry serve --model r8.qmodel --port 8080 &
        curl -s localhost:8080/v1/predict -d '{"texts": ["crude oil prices rose"], "k": 2}'
      """)

  @Option(help: "The model file.") var model: String
  @Option(help: "The address to listen on.") var host = "127.0.0.1"
  @Option(help: "The port to listen on (0: any free port, printed on stderr).") var port = 8080
  @Option(help: "The most texts one request may hold.") var maxTexts = 4096
  @Option(help: "The largest request body, in MB.") var maxBodyMb = 16
  @OptionGroup var compute: ComputeOptions

  func validate() throws {
    guard (0...65535).contains(port) else {
      throw ValidationError("--port must be between 0 and 65535, got \(port)")
    }
    guard maxTexts >= 1 else { throw ValidationError("--max-texts must be at least 1") }
    guard (1...1024).contains(maxBodyMb) else {
      throw ValidationError("--max-body-mb must be between 1 and 1024, got \(maxBodyMb)")
    }
  }

  func run() async throws {
    // stdout is for results: the server's own log lines (warnings and worse) go to stderr.
    LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    let service = try PredictionService(
      path: model, threads: compute.threads, maxTexts: maxTexts, maxBodyBytes: maxBodyMb << 20)
    let router = Router()
    router.get("healthz") { _, _ in "ok\n" }
    router.get("v1/model") { _, _ in service.json(service.modelJSON) }
    router.post("v1/predict") { request, _ in await service.predict(request) }
    let model = self.model
    let app = Application(
      router: router,
      configuration: .init(address: .hostname(host, port: port), serverName: "quarry"),
      onServerRunning: { channel in
        let address = channel.localAddress
        let shown = "\(address?.ipAddress ?? "?"):\(address?.port ?? 0)"
        Diagnostics.note("serving \(model) on http://\(shown)")
      },
      logger: {
        var logger = Logger(label: "quarry")
        logger.logLevel = .warning
        return logger
      }())
    try await app.runService()
  }
}

/// The model a server answers from, and the answers: JSON bodies built by hand so that
/// probabilities read exactly as `predict` prints them.
final class PredictionService: Sendable {
  let model: Model
  let threads: Int
  let maxTexts: Int
  let maxBodyBytes: Int
  let modelJSON: String

  init(path: String, threads: Int, maxTexts: Int, maxBodyBytes: Int) throws {
    let bytes = try FileBytes.read(path)
    let model = try ModelFile.decode(bytes, path: path)
    guard model.classifier.encoderDim == 0 else {
      throw InputError(
        path: path,
        "this model reads an encoder's vectors, which serve does not run yet: use quarry predict")
    }
    self.model = model
    self.threads = threads
    self.maxTexts = maxTexts
    self.maxBodyBytes = maxBodyBytes
    let meta = model.metadata
    let labels = model.labels.map(jsonString).joined(separator: ",")
    modelJSON =
      "{\"labels\":[\(labels)],\"classes\":\(model.labels.count),"
      + "\"sha256\":\(jsonString(SHA256.hex(bytes))),"
      + "\"quarry_version\":\(jsonString(meta.quarryVersion)),"
      + "\"trained_on\":{\"path\":\(jsonString(meta.corpus.path)),\"rows\":\(meta.corpus.rows)},"
      + "\"epochs\":\(meta.epochs.count),\"best_epoch\":\(meta.bestEpoch)}"
  }

  /// The body of a predict request.
  struct Query: Decodable {
    var texts: [String]
    var k: Int?
  }

  func predict(_ request: Request) async -> Response {
    var request = request
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: maxBodyBytes)
    } catch {
      return fail(.contentTooLarge, "the body is over \(maxBodyBytes >> 20) MB (--max-body-mb)")
    }
    let query: Query
    do {
      query = try JSONDecoder().decode(Query.self, from: Data(buffer: body))
    } catch {
      return fail(
        .badRequest, "the body must be {\"texts\": [\"…\"], \"k\": 3}: \(Self.why(error))")
    }
    let k = query.k ?? 1
    guard k >= 1 else { return fail(.badRequest, "k must be at least 1, got \(k)") }
    guard query.texts.count <= maxTexts else {
      return fail(
        .contentTooLarge, "\(query.texts.count) texts, over --max-texts \(maxTexts) a request")
    }
    do {
      let predictor = Predictor(model: model, threads: threads)
      let top = predictor.topK(try predictor.probabilities(query.texts), k: k)
      let rows = top.map { "{\(predictionJSONMembers($0, labels: model.labels))}" }
      return json("{\"predictions\":[\(rows.joined(separator: ","))]}")
    } catch {
      return fail(.internalServerError, "\(error)")
    }
  }

  /// What a decoding error says, in a few words.
  static func why(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "no \"\(key.stringValue)\" field"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
      return "\"\(c.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
    default: return "not JSON"
    }
  }

  func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  func fail(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json("{\"error\":\(jsonString(message))}", status: status)
  }
}
