import Foundation
import XCTest

/// What one run of the `quarry` executable did.
struct RunResult {
  var status: Int32
  var reason: Process.TerminationReason
  var stdoutData: Data
  var stderr: String

  var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
  /// Ended by `exit` (not by a signal such as a Swift trap's SIGILL).
  var exited: Bool { reason == .exit }
  var succeeded: Bool { exited && status == 0 }

  /// Lines of stdout, without the final newline's empty piece.
  var stdoutLines: [String] {
    var lines = stdout.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return lines
  }

  var summary: String {
    let how = exited ? "exit \(status)" : "signal \(status)"
    return "[\(how)]\nstderr:\n\(stderr.prefix(2000))\nstdout:\n\(stdout.prefix(1000))"
  }
}

/// Paths and process plumbing shared by the CLI tests.
enum CLI {
  /// The package root: this file is Tests/QuarryCLITests/CLITestSupport.swift.
  static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A file of the tiny corpus written for these tests.
  static func tiny(_ name: String) -> String {
    packageRoot.appendingPathComponent("Corpora/tiny/\(name)").path
  }

  /// The `quarry` executable in the products directory beside the test bundle. On macOS the
  /// bundle is a `.xctest` directory in that directory; on Linux `Bundle(for:).bundleURL` is
  /// the products directory itself (the `.xctest` there is a plain executable), so
  /// `deletingLastPathComponent()` alone would look one level too high.
  static let binary: URL? = {
    final class Probe {}
    let bundle = Bundle(for: Probe.self).bundleURL
    let candidates = [
      bundle.deletingLastPathComponent().appendingPathComponent("quarry"),
      bundle.appendingPathComponent("quarry"),
      Bundle.main.bundleURL.appendingPathComponent("quarry"),
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("quarry"),
    ]
    return candidates.first { url in
      var isDir: ObjCBool = false
      return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        && !isDir.boolValue && FileManager.default.isExecutableFile(atPath: url.path)
    }
  }()

  /// Longest a single run may take before it is killed (the tiny corpus trains in well
  /// under a second even in debug).
  static let timeout: TimeInterval = 60
}

/// Base class: a fresh temporary directory per test (`work`, the runs' working directory
/// and where models go) and helpers to run `quarry` and check its results.
class CLITestCase: XCTestCase {
  /// Per-test root; captured stdout/stderr live here, outside `work`.
  private(set) var root: URL!
  /// The runs' working directory; leftover checks list it.
  private(set) var work: URL!
  private var runCount = 0

  override func setUpWithError() throws {
    try super.setUpWithError()
    guard CLI.binary != nil else {
      XCTFail(
        "quarry executable not found beside the test bundle \(Bundle(for: Self.self).bundleURL.path)"
      )
      throw XCTSkip("no quarry executable")
    }
    root = FileManager.default.temporaryDirectory
      .appendingPathComponent("quarry-cli-\(UUID().uuidString)")
    work = root.appendingPathComponent("work")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    if let root { try? FileManager.default.removeItem(at: root) }
    try super.tearDownWithError()
  }

  /// Absolute path of `name` inside the working directory.
  func path(_ name: String) -> String { work.appendingPathComponent(name).path }

  /// Writes `bytes` to `name` in the working directory and returns its path.
  @discardableResult
  func write(_ name: String, bytes: [UInt8]) throws -> String {
    let p = path(name)
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
  }

  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    try write(name, bytes: Array(text.utf8))
  }

  /// Runs `quarry args…` in the working directory. Standard input is `stdin` through a
  /// pipe when given, else /dev/null. Output goes to files, so no pipe can fill up.
  func quarry(_ args: [String], stdin: Data? = nil) throws -> RunResult {
    try run(CLI.binary?.path ?? "quarry-binary-not-found", args, stdin: stdin)
  }

  /// Runs `executable args…` as `quarry` does.
  func run(_ executable: String, _ args: [String], stdin: Data? = nil) throws -> RunResult {
    runCount += 1
    let outURL = root.appendingPathComponent("stdout-\(runCount)")
    let errURL = root.appendingPathComponent("stderr-\(runCount)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    defer {
      try? outHandle.close()
      try? errHandle.close()
    }

    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.currentDirectoryURL = work
    p.standardOutput = outHandle
    p.standardError = errHandle
    var pipe: Pipe? = nil
    if stdin != nil {
      pipe = Pipe()
      p.standardInput = pipe
    } else {
      p.standardInput = FileHandle.nullDevice
    }
    try p.run()
    if let pipe, let stdin {
      // Feed stdin from another thread so a large input cannot block on a full pipe.
      let writer = pipe.fileHandleForWriting
      DispatchQueue.global().async {
        writer.write(stdin)
        try? writer.close()
      }
    }
    let deadline = Date().addingTimeInterval(CLI.timeout)
    while p.isRunning && Date() < deadline { usleep(2_000) }
    if p.isRunning {
      p.terminate()
      p.waitUntilExit()
      XCTFail("\(executable) \(args.joined(separator: " ")) ran longer than \(CLI.timeout) s")
    }
    p.waitUntilExit()
    return RunResult(
      status: p.terminationStatus, reason: p.terminationReason,
      stdoutData: (try? Data(contentsOf: outURL)) ?? Data(),
      stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
  }

  /// The standard quick training run on the tiny corpus (10 epochs, seed 1).
  func finetuneArgs(
    output: String, train: String = CLI.tiny("train.tsv"), seed: Int = 1, threads: Int = 2,
    extra: [String] = []
  ) -> [String] {
    [
      "finetune", "--train", train, "--output", output, "--epochs", "10", "--seed", "\(seed)",
      "--threads", "\(threads)",
    ] + extra
  }

  /// Trains a model on the tiny corpus, asserts it succeeded, and returns the model path.
  @discardableResult
  func trainModel(
    _ name: String = "model.qmodel", seed: Int = 1, threads: Int = 2, extra: [String] = [],
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> String {
    let out = path(name)
    let r = try quarry(finetuneArgs(output: out, seed: seed, threads: threads, extra: extra))
    XCTAssertTrue(r.succeeded, "finetune failed: \(r.summary)", file: file, line: line)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: out), "no model at \(out)", file: file, line: line)
    return out
  }

  /// Runs `evaluate --json` and returns the parsed object.
  func evaluateJSON(
    model: String, data: String, extra: [String] = [], file: StaticString = #filePath,
    line: UInt = #line
  ) throws -> [String: Any] {
    let r = try quarry(["evaluate", "--model", model, "--data", data, "--json"] + extra)
    XCTAssertTrue(r.succeeded, "evaluate failed: \(r.summary)", file: file, line: line)
    XCTAssertEqual(
      r.stdoutLines.count, 1, "evaluate --json should print one line: \(r.stdout)", file: file,
      line: line)
    let obj = try JSONSerialization.jsonObject(with: r.stdoutData)
    return try XCTUnwrap(
      obj as? [String: Any], "not a JSON object: \(r.stdout)", file: file, line: line)
  }

  /// A failed run: exited (no signal) with `status`, and stderr holds every one of `mentions`.
  func assertFailure(
    _ r: RunResult, status: Int32 = 1, mentions: [String], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    guard r.exited else {
      XCTFail(
        "crashed: ended by signal \(r.status), not an exit: \(r.summary)", file: file, line: line)
      return
    }
    XCTAssertEqual(r.status, status, "exit status: \(r.summary)", file: file, line: line)
    for m in mentions {
      XCTAssertTrue(
        r.stderr.contains(m), "stderr lacks '\(m)': \(r.summary)", file: file, line: line)
    }
  }

  /// Nothing at `output`, and no temporary file beside it in its directory.
  func assertNoModelLeft(at output: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: output), "a model file was left at \(output)",
      file: file,
      line: line)
    let dir = (output as NSString).deletingLastPathComponent
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    let temps = names.filter { $0.contains(".tmp") }
    XCTAssertEqual(temps, [], "temporary files left in \(dir)", file: file, line: line)
  }

  /// Lines of a corpus file in the repository.
  func corpusLines(_ name: String) throws -> [String] {
    let text = try String(contentsOfFile: CLI.tiny(name), encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter {
      !$0.isEmpty
    }
  }
}

/// The model file layout (see ModelFile.swift): magic, version, reserved, metadata length,
/// metadata JSON, padding to 8, tensor section, checksum. Used to compare weights apart from
/// metadata and to build structurally broken files with a valid checksum.
struct ModelFileBytes {
  var bytes: [UInt8]

  init(_ bytes: [UInt8]) { self.bytes = bytes }
  init(path: String) throws { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

  var metadataLength: Int {
    Int(
      bytes[16..<24].enumerated().reduce(UInt64(0)) {
        $0 | UInt64($1.element) << (8 * UInt64($1.offset))
      })
  }
  var metadata: [UInt8] { Array(bytes[24..<(24 + metadataLength)]) }
  var tensorSection: [UInt8] {
    let start = (24 + metadataLength + 7) / 8 * 8
    return Array(bytes[start..<(bytes.count - 8)])
  }

  func metadataObject() throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any])
  }

  /// A file with `metadata` replaced and the checksum recomputed.
  func replacingMetadata(_ meta: [String: Any]) throws -> [UInt8] {
    let json = [UInt8](try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]))
    var out = Array(bytes[0..<16])
    out += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
    out += json
    while out.count % 8 != 0 { out.append(0) }
    out += tensorSection
    let sum = ModelFileBytes.checksum(out)
    out += (0..<8).map { UInt8(truncatingIfNeeded: sum >> (8 * UInt64($0))) }
    return out
  }

  /// The model file's checksum (Checksum.swift), restated here so the tests stay black-box.
  static func checksum(_ b: [UInt8]) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    let p: UInt64 = 0x9E37_79B9_7F4A_7C15
    let n = b.count
    let words = n / 8
    for i in 0..<words {
      var w: UInt64 = 0
      for j in 0..<8 { w |= UInt64(b[i * 8 + j]) << (8 * UInt64(j)) }
      h = (h ^ w) &* p
      h = (h << 31) | (h >> 33)
    }
    for i in (words * 8)..<n { h = (h ^ UInt64(b[i])) &* p }
    h ^= UInt64(n)
    h = (h ^ (h >> 32)) &* p
    return h ^ (h >> 29)
  }
}
