import Foundation
import XCTest

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Starting `quarry serve` and talking to it, for the tests that drive the server.
extension CLITestCase {
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

  /// One request's answer: its status, body and headers.
  struct Answer {
    var status: Int
    var body: String
    var headers: [String: String]
  }

  /// One request: the status and the body.
  func request(_ port: Int, _ path: String, body: String? = nil) throws -> (Int, String) {
    let a = try send(port, path, body: body)
    return (a.status, a.body)
  }

  /// One request, with `headers`, to `path` (a POST when there is a body).
  func send(_ port: Int, _ path: String, body: String? = nil, headers: [String: String] = [:])
    throws -> Answer
  {
    var req = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    if let body {
      req.httpMethod = "POST"
      req.httpBody = Data(body.utf8)
    }
    for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Answer? = nil
    nonisolated(unsafe) var failure: Error? = nil
    URLSession.shared.dataTask(with: req) { data, response, error in
      if let error { failure = error }
      let http = response as? HTTPURLResponse
      var fields: [String: String] = [:]
      for (k, v) in http?.allHeaderFields ?? [:] {
        fields[String(describing: k).lowercased()] = String(describing: v)
      }
      result = Answer(
        status: http?.statusCode ?? -1, body: String(decoding: data ?? Data(), as: UTF8.self),
        headers: fields)
      done.signal()
    }.resume()
    guard done.wait(timeout: .now() + CLI.timeout) == .success else {
      throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "timed out"])
    }
    if let failure { throw failure }
    return result!
  }

  /// Waits until stderr holds `text`, or the timeout.
  func waitForStderr(_ server: Server, _ text: String) -> Bool {
    let deadline = Date().addingTimeInterval(CLI.timeout)
    while Date() < deadline {
      if ((try? String(contentsOf: server.stderr, encoding: .utf8)) ?? "").contains(text) {
        return true
      }
      usleep(20_000)
    }
    return false
  }

  func json(_ text: String) throws -> [String: Any] {
    try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }
}
