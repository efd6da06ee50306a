import Foundation
import HTTPTypes
import Hummingbird
import Quarry

/// The limits a predict request must keep.
struct RequestLimits: Sendable {
  var maxTexts: Int
  var maxBodyBytes: Int
  var maxTextBytes: Int
}

/// `POST /v1/predict`: `{"texts": [...], "k": 3}` in, each text's top labels out, as
/// `predict --format jsonl` prints them. The answer's `X-Model-SHA256` header names the
/// model file that answered (the one being served when the request arrived).
struct PredictRoute: Sendable {
  let slot: ModelSlot
  let scorer: BatchScorer
  let limits: RequestLimits

  /// The body of a predict request. A multi-label model answers every label at or above
  /// its threshold (or `threshold`), at most `k`; a single-label one the `k` best (1).
  struct Query: Decodable {
    var texts: [String]
    var k: Int?
    var threshold: Float?
  }

  func answer(_ request: Request) async -> Response {
    var request = request
    let body: ByteBuffer
    do {
      body = try await request.collectBody(upTo: limits.maxBodyBytes)
    } catch {
      return .jsonError(
        .contentTooLarge, "the body is over \(limits.maxBodyBytes >> 20) MB (--max-body-mb)")
    }
    let query: Query
    do {
      query = try JSONDecoder().decode(Query.self, from: Data(buffer: body))
    } catch {
      return .jsonError(
        .badRequest, "the body must be {\"texts\": [\"…\"], \"k\": 3}: \(Self.why(error))")
    }
    if let refusal = check(query) { return refusal }
    let served = slot.model
    do {
      let p = try await scorer.probabilities(query.texts, model: served)
      let model = served.model
      if query.threshold != nil && !model.isMultiLabel {
        return .jsonError(
          .badRequest, "threshold is for multi-label models; this one is single-label")
      }
      let top =
        model.thresholds.map { t in
          Predictor.aboveThresholds(
            p, thresholds: query.threshold.map { [Float](repeating: $0, count: t.count) } ?? t,
            k: query.k)
        } ?? Predictor.topK(p, classes: model.classifier.classes, k: query.k ?? 1)
      let rows = top.map { "{\(predictionJSONMembers($0, labels: served.model.labels))}" }
      var response = Response.json("{\"predictions\":[\(rows.joined(separator: ","))]}")
      response.headers[.modelSHA256] = served.sha256
      return response
    } catch {
      return .jsonError(.internalServerError, "\(error)")
    }
  }

  /// A 400 or 413 answer when the query breaks a rule, or nil.
  func check(_ query: Query) -> Response? {
    let k = query.k ?? 1
    guard k >= 1 else { return .jsonError(.badRequest, "k must be at least 1, got \(k)") }
    if let t = query.threshold, !(t > 0 && t < 1) {
      return .jsonError(.badRequest, "threshold must be between 0 and 1 (exclusive), got \(t)")
    }
    guard query.texts.count <= limits.maxTexts else {
      return .jsonError(
        .contentTooLarge,
        "\(query.texts.count) texts, over --max-texts \(limits.maxTexts) a request")
    }
    if let i = query.texts.firstIndex(where: { $0.utf8.count > limits.maxTextBytes }) {
      return .jsonError(
        .contentTooLarge,
        "text \(i + 1) has \(query.texts[i].utf8.count) bytes, over --max-text-kb \(limits.maxTextBytes >> 10)"
      )
    }
    return nil
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
}

extension HTTPField.Name {
  static let modelSHA256 = Self("X-Model-SHA256")!
}

extension Response {
  /// A JSON body (given as text, one line).
  static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
  }

  /// `{"error": message}` with `status`.
  static func jsonError(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json("{\"error\":\(jsonString(message))}", status: status)
  }
}
