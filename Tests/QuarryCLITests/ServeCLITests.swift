import Foundation
import XCTest

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `quarry serve`: the real binary on a free loopback port, driven over HTTP.
final class ServeCLITests: CLITestCase {
  /// A running server and where it listens.
  struct Server {
    var process: Process
    var port: Int
    var stderr: URL
  }

  /// Starts `quarry serve --port 0 …` and waits for the line that names its port.
  func startServer(model: String, _ extra: [String] = []) throws -> Server {
    let err = work.deletingLastPathComponent().appendingPathComponent("serve-stderr")
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let p = Process()
    p.executableURL = CLI.binary
    p.arguments = ["serve", "--model", model, "--port", "0"] + extra
    p.currentDirectoryURL = work
    p.standardOutput = FileHandle.nullDevice
    p.standardError = try FileHandle(forWritingTo: err)
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(CLI.timeout)
    while Date() < deadline, p.isRunning {
      let text = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
      if let r = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
        let port = Int(text[r].split(separator: ":").last ?? "")
      {
        return Server(process: p, port: port, stderr: err)
      }
      usleep(20_000)
    }
    p.terminate()
    throw XCTSkip(
      "serve did not start: \((try? String(contentsOf: err, encoding: .utf8)) ?? "")")
  }

  /// One request: the status and the body.
  func request(_ port: Int, _ path: String, body: String? = nil) throws -> (Int, String) {
    var req = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    if let body {
      req.httpMethod = "POST"
      req.httpBody = Data(body.utf8)
    }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, String)? = nil
    nonisolated(unsafe) var failure: Error? = nil
    URLSession.shared.dataTask(with: req) { data, response, error in
      if let error { failure = error }
      let status = (response as? HTTPURLResponse)?.statusCode ?? -1
      result = (status, String(decoding: data ?? Data(), as: UTF8.self))
      done.signal()
    }.resume()
    guard done.wait(timeout: .now() + CLI.timeout) == .success else {
      throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "timed out"])
    }
    if let failure { throw failure }
    return result!
  }

  func json(_ text: String) throws -> [String: Any] {
    try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

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
}
