import Foundation
import XCTest

/// More bad inputs, run end to end through the real `quarry` binary: non-finite and
/// wrongly sized pretrained vectors, duplicate vector words, an unwritable output
/// directory, a full disk, a huge single line, and SIGINT/SIGTERM during training. (The
/// cases in ErrorCLITests.swift are not repeated here.)
final class BadInputCLITests: CLITestCase {
  /// A quick finetune on the tiny corpus: 2 epochs, no cross-fitting.
  func quickArgs(output: String, train: String = CLI.tiny("train.tsv"), extra: [String] = [])
    -> [String]
  {
    [
      "finetune", "--train", train, "--output", output, "--epochs", "2", "--cross-fit", "0",
      "--seed", "1", "--threads", "2",
    ] + extra
  }

  /// Lines of the tiny vector file (line 1 is the `40 8` header, line 2 is `rain`).
  func vectorLines() throws -> [String] {
    try String(contentsOfFile: CLI.tiny("vectors.vec"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
  }

  /// The tiny vector file with line `line` (1-based) changed by `edit`, written as `name`.
  func vectorsEditing(_ name: String, line: Int, _ edit: (String) -> String) throws -> String {
    var lines = try vectorLines()
    lines[line - 1] = edit(lines[line - 1])
    return try write(name, lines.joined(separator: "\n") + "\n")
  }

  /// Replaces the value at `index` (1-based, after the word) of a vector line.
  func replacingValue(_ index: Int, with value: String) -> (String) -> String {
    { line in
      var fields = line.split(separator: " ").map(String.init)
      fields[index] = value
      return fields.joined(separator: " ")
    }
  }

  /// Finetune with `--pretrained vectors` fails with status 1, naming `mentions`, and
  /// leaves nothing at `--output`.
  func assertPretrainedFails(
    _ vectors: String, mentions: [String], file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let out = path("out.qmodel")
    let r = try quarry(quickArgs(output: out, extra: ["--pretrained", vectors]))
    assertFailure(r, mentions: ["Error:"] + mentions, file: file, line: line)
    assertNoModelLeft(at: out, file: file, line: line)
  }

  // MARK: Pretrained vectors

  func testNaNInVectorOfCorpusWordNamesItsLine() throws {
    // Line 6 is `thunder`, a word of the training corpus, so its values are parsed.
    let p = try vectorsEditing("nan.vec", line: 6, replacingValue(3, with: "nan"))
    try assertPretrainedFails(p, mentions: ["nan.vec:6:", "value 3"])
  }

  func testInfInVectorOfCorpusWordNamesItsLine() throws {
    let p = try vectorsEditing("inf.vec", line: 2, replacingValue(8, with: "inf"))
    try assertPretrainedFails(p, mentions: ["inf.vec:2:", "value 8"])
    let q = try vectorsEditing("neginf.vec", line: 4, replacingValue(1, with: "-inf"))
    try assertPretrainedFails(q, mentions: ["neginf.vec:4:", "value 1"])
  }

  func testVectorLineOneValueShortNamesItsLine() throws {
    let p = try vectorsEditing("short1.vec", line: 5) { line in
      line.split(separator: " ").dropLast().joined(separator: " ")
    }
    try assertPretrainedFails(p, mentions: ["short1.vec:5:", "7 values, expected 8"])
  }

  func testVectorLineOneValueTooManyNamesItsLine() throws {
    let p = try vectorsEditing("long1.vec", line: 3) { $0 + " 0.1234" }
    try assertPretrainedFails(p, mentions: ["long1.vec:3:", "more than 8 values"])
  }

  /// Duplicate words are not an error: the first line of each word is kept and stderr
  /// says how many were dropped.
  func testDuplicateVectorWordsSucceedAndAreReported() throws {
    var lines = try vectorLines()
    let rainValues = lines[1].split(separator: " ").dropFirst().joined(separator: " ")
    // Two later lines become `rain` and `RAIN` (a duplicate after lowercasing); the header
    // count stays right.
    lines[9] = "rain " + rainValues
    lines[10] = "RAIN 0.5 0.5 0.5 0.5 0.5 0.5 0.5 0.5"
    let p = try write("dup.vec", lines.joined(separator: "\n") + "\n")
    let out = path("dup.qmodel")
    let r = try quarry(quickArgs(output: out, extra: ["--pretrained", p]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out), r.summary)
    XCTAssertTrue(r.stderr.contains("duplicate"), "stderr lacks 'duplicate': \(r.summary)")
    XCTAssertTrue(r.stderr.contains("2 duplicate"), "two duplicates counted: \(r.summary)")
  }

  // MARK: Output

  /// A chmod 0555 directory; as root, where the mode does not stop writes, a read-only
  /// tmpfs mount instead (root cannot write there either).
  func testOutputInReadOnlyDirectory() throws {
    let dir = path("readonly")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    XCTAssertEqual(chmod(dir, 0o555), 0)
    defer { _ = chmod(dir, 0o755) }
    let probe = (dir as NSString).appendingPathComponent("probe")
    var mounted = false
    if FileManager.default.createFile(atPath: probe, contents: Data("x".utf8)) {
      try? FileManager.default.removeItem(atPath: probe)
      let m = try run("/bin/mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir])
      guard m.status == 0 else {
        throw XCTSkip(
          "as uid \(geteuid()) a chmod 0555 directory is writable, and no read-only tmpfs could be mounted: \(m.stderr)"
        )
      }
      mounted = true
    }
    defer { if mounted { _ = try? run("/bin/umount", [dir]) } }
    let out = (dir as NSString).appendingPathComponent("model.qmodel")
    let r = try quarry(quickArgs(output: out))
    assertFailure(r, mentions: ["Error:", "readonly", "cannot write"])
    assertNoModelLeft(at: out)
  }

  // MARK: Huge line

  /// One training row of 50 MB ("word " repeated): finetune may succeed or refuse, but
  /// it must exit (no signal) within 60 s and, on failure, name the file and leave no model.
  ///
  /// It once took hours: random insertion was quadratic in a row's length. It is now
  /// rebuilt offline in O(n log n), and rows over 10,000 words get no variants.
  func testFiftyMegabyteLineDoesNotCrash() throws {
    var bytes = Data()
    bytes.append(try Data(contentsOf: URL(fileURLWithPath: CLI.tiny("train.tsv"))))
    if bytes.last != 0x0A { bytes.append(0x0A) }
    bytes.append(contentsOf: Array("weather\t".utf8))
    let unit = Array("word ".utf8)
    var huge = [UInt8]()
    huge.reserveCapacity(50 << 20)
    while huge.count < 50 << 20 { huge += unit }
    bytes.append(contentsOf: huge)
    bytes.append(0x0A)
    let p = path("huge-line.tsv")
    try bytes.write(to: URL(fileURLWithPath: p))
    let out = path("huge.qmodel")
    let start = Date()
    // `quarry` itself fails the test when the run outlives CLI.timeout (60 s) and kills it.
    let r = try quarry(quickArgs(output: out, train: p))
    let secs = Date().timeIntervalSince(start)
    let first = r.stderr.split(separator: "\n").first ?? ""
    print(
      "50 MB line: \(r.exited ? "exit" : "signal") \(r.status) after \(String(format: "%.1f", secs)) s; stderr: \(first)"
    )
    if secs >= CLI.timeout {
      assertNoModelLeft(at: out)
      return
    }
    XCTAssertTrue(r.exited, "crashed: \(r.summary)")
    if r.succeeded {
      XCTAssertTrue(FileManager.default.fileExists(atPath: out), r.summary)
    } else {
      assertFailure(r, mentions: ["Error:", "huge-line.tsv"])
      assertNoModelLeft(at: out)
    }
  }

  // MARK: Signals

  func testSIGINTDuringTrainingLeavesNoModel() throws {
    try assertSignalDuringTraining(SIGINT, name: "SIGINT")
  }

  func testSIGTERMDuringTrainingLeavesNoModel() throws {
    try assertSignalDuringTraining(SIGTERM, name: "SIGTERM")
  }

  /// Starts a long finetune on the R8 corpus, sends `signal` 1.5 s into training, and checks the
  /// process ends within 10 s with status 128 + signal, saying what stopped it and how to
  /// resume, with no model at `--output` and no temporary file beside it; a checkpoint
  /// there, if an epoch ended, is a whole one.
  func assertSignalDuringTraining(
    _ signal: Int32, name: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let cache =
      ProcessInfo.processInfo.environment["QUARRY_CACHE"] ?? NSHomeDirectory() + "/.cache/quarry"
    let train = cache + "/corpora/r8/train.tsv"
    guard FileManager.default.fileExists(atPath: train) else {
      if ProcessInfo.processInfo.environment["QUARRY_REQUIRE_DATA"] == "1" {
        XCTFail("R8 corpus not found at \(train) (QUARRY_REQUIRE_DATA=1)", file: file, line: line)
        return
      }
      throw XCTSkip("R8 corpus not found at \(train)")
    }
    let out = path("signal.qmodel")
    let errURL = root.appendingPathComponent("stderr-\(name)")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let errHandle = try FileHandle(forWritingTo: errURL)
    defer { try? errHandle.close() }

    let p = Process()
    p.executableURL = CLI.binary
    p.arguments = [
      "finetune", "--train", train, "--output", out, "--epochs", "200", "--cross-fit", "0",
      "--seed", "1", "--threads", "2",
    ]
    p.currentDirectoryURL = work
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = errHandle
    try p.run()
    // Wait until training has begun (the vocabulary line comes just before the first
    // epoch; building it for R8 takes a few seconds in debug), then 1.5 s more.
    let started = Date()
    while p.isRunning, Date().timeIntervalSince(started) < 60 {
      let text = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
      if text.contains("vocabulary:") { break }
      usleep(50_000)
    }
    usleep(1_500_000)
    XCTAssertTrue(
      p.isRunning, "finetune ended before the signal could be sent", file: file, line: line)
    kill(p.processIdentifier, signal)
    let deadline = Date().addingTimeInterval(10)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    let ended = !p.isRunning
    if !ended {
      kill(p.processIdentifier, SIGKILL)
    }
    p.waitUntilExit()
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    let how = p.terminationReason == .exit ? "exit" : "signal"
    print("\(name): \(how) \(p.terminationStatus); stderr: \(stderr.prefix(300))")
    XCTAssertTrue(
      ended, "\(name): finetune still running 10 s after the signal", file: file, line: line)
    XCTAssertEqual(p.terminationReason, .exit, "\(name): not a clean exit", file: file, line: line)
    XCTAssertEqual(p.terminationStatus, 128 + signal, file: file, line: line)
    XCTAssertTrue(
      stderr.contains("stopped by \(name)") && stderr.contains("no model written to \(out)"),
      "\(name): stderr does not say what happened: \(stderr)", file: file, line: line)
    assertNoModelLeft(at: out, file: file, line: line)
    let checkpoint = out + ".checkpoint"
    if FileManager.default.fileExists(atPath: checkpoint) {
      XCTAssertTrue(stderr.contains("--resume"), file: file, line: line)
    }
  }

  // MARK: A full disk

  /// Mounts a 128 KiB tmpfs (root only; the tests run as root in CI) for `body`.
  func withFullDisk(_ body: (String) throws -> Void) throws {
    let dir = path("small-disk")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let mount = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=128k", "tmpfs", dir])
    guard mount.status == 0 else {
      throw XCTSkip("cannot mount a small tmpfs to fill (\(mount.stderr)); needs root")
    }
    defer { _ = try? run("/bin/umount", [dir]) }
    try body(dir)
  }

  /// The checkpoint does not fit: the error names it and says the disk is full.
  func testFullDiskAtCheckpointFailsCleanly() throws {
    try withFullDisk { dir in
      let out = dir + "/out.qmodel"
      let r = try quarry(quickArgs(output: out, extra: ["--checkpoint-every", "0"]))
      assertFailure(
        r, mentions: ["Error:", out + ".checkpoint", "No space left on device"])
      assertNoModelLeft(at: out)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
  }

  /// The model does not fit: the error names it and says the disk is full.
  func testFullDiskAtModelFailsCleanly() throws {
    try withFullDisk { dir in
      let out = dir + "/out.qmodel"
      let r = try quarry(quickArgs(output: out, extra: ["--no-checkpoint"]))
      assertFailure(r, mentions: ["Error:", out, "No space left on device"])
      assertNoModelLeft(at: out)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
  }
}
