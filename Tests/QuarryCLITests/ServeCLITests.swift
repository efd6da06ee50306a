import Foundation
import XCTest

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `quarry serve`: the real binary on a free loopback port, driven over HTTP.
final class ServeCLITests: CLITestCase {
  /// Every answer is what `predict --format jsonl` prints for the same texts, byte for
  /// byte; the model, health and error routes answer as documented; SIGTERM ends it with
  /// status 0.
  func testPredictAnswersAsPredictDoesAndErrorsAreJSON() throws {
    let model = try trainModel()
    let texts = try corpusLines("test.tsv").prefix(12).map {
      String($0.split(separator: "\t", maxSplits: 1)[1])
    }
    let cli = try quarry(
      ["predict", "--model", model, "--format", "jsonl", "--k", "2"],
      stdin: Data((texts.joined(separator: "\n") + "\n").utf8))
    XCTAssertTrue(cli.succeeded, cli.summary)
    // predict's lines without their "line" member are the server's predictions.
    let expected = cli.stdoutLines.map {
      "{" + $0.replacingOccurrences(of: #"^\{"line":\d+,"#, with: "", options: .regularExpression)
    }

    let server = try startServer(model: model, ["--max-texts", "20", "--max-body-mb", "1"])
    defer { if server.process.isRunning { server.process.terminate() } }
    let body = String(
      decoding: try JSONSerialization.data(withJSONObject: ["texts": texts, "k": 2]), as: UTF8.self)
    let (status, answer) = try request(server.port, "/v1/predict", body: body)
    XCTAssertEqual(status, 200, answer)
    XCTAssertEqual(
      answer, "{\"predictions\":[" + expected.joined(separator: ",") + "]}\n")

    XCTAssertEqual(try request(server.port, "/healthz").1, "ok\n")
    let (modelStatus, modelAnswer) = try request(server.port, "/v1/model")
    XCTAssertEqual(modelStatus, 200)
    let info = try json(modelAnswer)
    XCTAssertEqual(info["labels"] as? [String], ["cooking", "sports", "weather"])
    let sha = try XCTUnwrap(info["sha256"] as? String)
    XCTAssertEqual(sha.count, 64)

    for (bad, want) in [
      ("{\"text\": [\"x\"]}", 400), ("not json", 400), ("{\"texts\": [\"x\"], \"k\": 0}", 400),
      ("{\"texts\": \"x\"}", 400),
      (
        String(
          decoding: try JSONSerialization.data(withJSONObject: [
            "texts": Array(repeating: "x", count: 21)
          ]), as: UTF8.self),
        413
      ),
      ("{\"texts\": [\"" + String(repeating: "a", count: 1 << 21) + "\"]}", 413),
    ] {
      let (s, a) = try request(server.port, "/v1/predict", body: bad)
      XCTAssertEqual(s, want, "\(bad.prefix(40)): \(a)")
      XCTAssertNotNil(try? json(a)["error"] as? String, a)
    }
    // Still serving after the bad requests.
    XCTAssertEqual(try request(server.port, "/v1/predict", body: body).1, answer)

    server.process.terminate()  // SIGTERM
    server.process.waitUntilExit()
    XCTAssertEqual(server.process.terminationStatus, 0)
  }

  func testAModelThatIsNotOneIsRefusedBeforeListening() throws {
    let notModel = try write("notes.txt", "not a model\n")
    let r = try quarry(["serve", "--model", notModel, "--port", "0"])
    XCTAssertEqual(r.status, 1, r.summary)
    XCTAssertTrue(r.stderr.contains("notes.txt"), r.stderr)
    XCTAssertFalse(r.stderr.contains("serving"), r.stderr)
  }

  /// SIGHUP serves the file's new model from the next request (the answer's header and
  /// /v1/model both say which); a file that is not a model is refused and the old one
  /// serves on.
  func testSIGHUPReloadsAndACorruptFileKeepsTheOldModel() throws {
    let first = try trainModel("first.qmodel", seed: 1)
    let second = try trainModel("second.qmodel", seed: 2, extra: ["--epochs", "3"])
    let served = path("served.qmodel")
    try FileManager.default.copyItem(atPath: first, toPath: served)
    let server = try startServer(model: served)
    defer { if server.process.isRunning { server.process.terminate() } }
    let body = "{\"texts\": [\"rain and wind tonight\"], \"k\": 3}"
    func sha() throws -> String {
      try XCTUnwrap(json(request(server.port, "/v1/model").1)["sha256"] as? String)
    }
    let a = try send(server.port, "/v1/predict", body: body)
    let shaA = try sha()
    XCTAssertEqual(a.headers["x-model-sha256"], shaA)

    try FileManager.default.removeItem(atPath: served)
    try FileManager.default.copyItem(atPath: second, toPath: served)
    kill(server.process.processIdentifier, SIGHUP)
    XCTAssertTrue(waitForStderr(server, "SIGHUP: now serving"))
    let shaB = try sha()
    XCTAssertNotEqual(shaA, shaB)
    let b = try send(server.port, "/v1/predict", body: body)
    XCTAssertEqual(b.headers["x-model-sha256"], shaB)
    XCTAssertNotEqual(a.body, b.body, "two different models gave byte-identical answers")

    try Data("not a model".utf8).write(to: URL(fileURLWithPath: served))
    kill(server.process.processIdentifier, SIGHUP)
    XCTAssertTrue(waitForStderr(server, "SIGHUP: kept the model that was serving"))
    XCTAssertTrue(server.process.isRunning)
    XCTAssertEqual(try sha(), shaB)
    XCTAssertEqual(try send(server.port, "/v1/predict", body: body).body, b.body)

    let metrics = try request(server.port, "/metrics")
    XCTAssertEqual(metrics.0, 200)
    for line in [
      "quarry_model_reloads_total{result=\"ok\"} 1",
      "quarry_model_reloads_total{result=\"refused\"} 1", "quarry_batch_texts_count 3",
      "http_server_request_duration_bucket{http_route=\"/v1/predict\"",
    ] {
      XCTAssertTrue(metrics.1.contains(line), "/metrics lacks \(line):\n\(metrics.1)")
    }
  }

  /// With --token-file, a request without the token (or with another) answers 401, and
  /// one with it is served; a text over --max-text-kb answers 413.
  func testTokenFileAndTextLengthLimit() throws {
    let model = try trainModel()
    let token = try write("token", "s3cret-token\n")
    let server = try startServer(model: model, ["--token-file", token, "--max-text-kb", "1"])
    defer { if server.process.isRunning { server.process.terminate() } }
    let body = "{\"texts\": [\"sunny\"]}"
    for headers in [
      [:], ["Authorization": "Bearer s3cret-toke"], ["Authorization": "s3cret-token"],
    ] {
      let a = try send(server.port, "/v1/predict", body: body, headers: headers)
      XCTAssertEqual(a.status, 401, "\(headers): \(a.body)")
      XCTAssertEqual(a.headers["www-authenticate"], "Bearer")
    }
    XCTAssertEqual(try send(server.port, "/healthz").status, 401)
    let auth = ["Authorization": "Bearer s3cret-token"]
    XCTAssertEqual(try send(server.port, "/v1/predict", body: body, headers: auth).status, 200)
    let lower = ["Authorization": "bearer s3cret-token"]  // the scheme is case-insensitive
    XCTAssertEqual(try send(server.port, "/v1/predict", body: body, headers: lower).status, 200)
    let long = "{\"texts\": [\"sunny\", \"" + String(repeating: "a", count: 1025) + "\"]}"
    let a = try send(server.port, "/v1/predict", body: long, headers: auth)
    XCTAssertEqual(a.status, 413, a.body)
    XCTAssertTrue(a.body.contains("text 2 has 1025 bytes"), a.body)

    let empty = try write("empty-token", "\n")
    let r = try quarry(["serve", "--model", model, "--port", "0", "--token-file", empty])
    assertFailure(r, mentions: ["empty-token", "the token file is empty"])
  }
}
