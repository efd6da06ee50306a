import Foundation
import XCTest

/// `quarry finetune` end to end on the tiny corpus (Corpora/tiny), then `evaluate --json`.
final class FinetuneCLITests: CLITestCase {
  /// The tiny test set scores about 0.92 (seed 1, 10 epochs); chance is 1/3.
  static let minimumAccuracy = 0.8

  func testFinetuneWritesModelThatEvaluatesWellAboveChance() throws {
    let out = path("model.qmodel")
    let r = try quarry(finetuneArgs(output: out))
    XCTAssertTrue(r.succeeded, r.summary)
    let bytes = try ModelFileBytes(path: out).bytes
    XCTAssertEqual(Array(bytes.prefix(8)), Array("QUARRYMF".utf8), "model file magic")
    XCTAssertTrue(r.stderr.contains("wrote \(out)"), r.summary)
    XCTAssertTrue(r.stderr.contains("3 classes"), r.summary)
    XCTAssertFalse(r.stderr.contains("pretrained:"), "no --pretrained, yet: \(r.summary)")
    XCTAssertEqual(r.stdout, "", "finetune writes progress to stderr only")

    let report = try evaluateJSON(model: out, data: CLI.tiny("test.tsv"))
    try checkReportShape(report)
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double)
    XCTAssertGreaterThanOrEqual(accuracy, Self.minimumAccuracy, "\(report)")
  }

  func testFinetuneWithPretrainedVectorsReportsCoverage() throws {
    let out = path("pretrained.qmodel")
    let r = try quarry(finetuneArgs(output: out, extra: ["--pretrained", CLI.tiny("vectors.vec")]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    let note = r.stderr.split(separator: "\n").first { $0.contains("pretrained:") }
    let line = try XCTUnwrap(note, "no pretrained note: \(r.summary)")
    XCTAssertTrue(line.contains("vectors.vec"), String(line))
    XCTAssertTrue(line.contains("40 words"), String(line))
    XCTAssertTrue(line.contains("dim 8"), String(line))
    XCTAssertTrue(line.contains("covers"), String(line))
    XCTAssertTrue(line.contains("% of training tokens"), String(line))

    // The embedding width comes from the file, and so does the metadata.
    let meta = try ModelFileBytes(path: out).metadataObject()
    XCTAssertEqual(meta["dim"] as? Int, 8)
    let info = try XCTUnwrap(meta["pretrained"] as? [String: Any])
    XCTAssertEqual(info["fileWords"] as? Int, 40)
    let coverage = try XCTUnwrap(info["tokenCoverage"] as? Double)
    XCTAssertGreaterThan(coverage, 0)
    XCTAssertLessThan(coverage, 1)

    let report = try evaluateJSON(model: out, data: CLI.tiny("test.tsv"))
    try checkReportShape(report)
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double)
    XCTAssertGreaterThanOrEqual(accuracy, Self.minimumAccuracy, "\(report)")
  }

  /// `--pretrained` with a safetensors table and vocab.txt beside it, given by a bare file
  /// name in the working directory (whose directory part is empty, not "/").
  func testPretrainedSafetensorsByBareFileNameFindsVocabBesideIt() throws {
    try writeSafetensorsCopyOfTinyVectors(dir: "")
    let out = path("st.qmodel")
    let r = try quarry(finetuneArgs(output: out, extra: ["--pretrained", "vectors.safetensors"]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("covers"), r.summary)
  }

  func testPretrainedSafetensorsInSubdirectory() throws {
    try FileManager.default.createDirectory(
      atPath: path("vecs"), withIntermediateDirectories: true)
    try writeSafetensorsCopyOfTinyVectors(dir: "vecs/")
    let out = path("st.qmodel")
    let r = try quarry(
      finetuneArgs(output: out, extra: ["--pretrained", "vecs/vectors.safetensors"]))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stderr.contains("covers"), r.summary)
  }

  /// A relative one-character output name is as good as any other (Foundation's
  /// `deletingLastPathComponent` traps on such paths, so Quarry does not use it).
  func testSingleCharacterOutputName() throws {
    let r = try quarry(finetuneArgs(output: "m"))
    XCTAssertTrue(r.succeeded, r.exited ? r.summary : "crashed: \(r.summary)")
    XCTAssertTrue(FileManager.default.fileExists(atPath: path("m")))
  }

  func testRelativeOutputIsWrittenInWorkingDirectory() throws {
    let r = try quarry(finetuneArgs(output: "relative.qmodel"))
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(FileManager.default.fileExists(atPath: path("relative.qmodel")))
    assertNoTempFiles()
  }

  /// A file that is not a model is replaced only with `--force`, and then atomically.
  func testOverwritesExistingFileOnlyWithForce() throws {
    let out = try write("model.qmodel", "old contents")
    let refused = try quarry(finetuneArgs(output: out))
    assertFailure(refused, status: 1, mentions: ["not a Quarry model file", "--force replaces it"])
    XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "old contents")
    let r = try quarry(finetuneArgs(output: out) + ["--force"])
    XCTAssertTrue(r.succeeded, r.summary)
    let bytes = try ModelFileBytes(path: out).bytes
    XCTAssertEqual(Array(bytes.prefix(8)), Array("QUARRYMF".utf8))
    assertNoTempFiles()
  }

  // MARK: Determinism

  /// The same seed and thread count give the same model file, byte for byte: nothing
  /// that varies between runs (wall-clock times, the thread count) is stored.
  func testSameSeedAndThreadsGiveByteIdenticalModelFiles() throws {
    let a = try trainModel("a.qmodel", seed: 7, threads: 2)
    let b = try trainModel("b.qmodel", seed: 7, threads: 2)
    let ba = try ModelFileBytes(path: a)
    let bb = try ModelFileBytes(path: b)
    XCTAssertEqual(ba.bytes.count, bb.bytes.count)
    XCTAssertTrue(ba.bytes == bb.bytes, "model files differ: \(metadataDifferences(ba, bb))")
  }

  /// `--threads 1` and `--threads 2` give the same model file: the trainer splits sparse
  /// updates by row so that the result does not depend on the thread count.
  func testOneAndTwoThreadsGiveByteIdenticalModelFiles() throws {
    let a = try trainModel("t1.qmodel", seed: 7, threads: 1)
    let b = try trainModel("t2.qmodel", seed: 7, threads: 2)
    let ba = try ModelFileBytes(path: a)
    let bb = try ModelFileBytes(path: b)
    XCTAssertTrue(ba.bytes == bb.bytes, "model files differ: \(metadataDifferences(ba, bb))")
  }

  /// What the design promises apart from the metadata: same seed → same weights and the
  /// same predictions, whatever the thread count.
  func testSameSeedGivesIdenticalWeightsAndPredictions() throws {
    let a = try trainModel("a.qmodel", seed: 7, threads: 2)
    let b = try trainModel("b.qmodel", seed: 7, threads: 2)
    let c = try trainModel("c.qmodel", seed: 7, threads: 1)
    let ta = try ModelFileBytes(path: a).tensorSection
    XCTAssertFalse(ta.isEmpty)
    XCTAssertTrue(ta == (try ModelFileBytes(path: b).tensorSection), "weights differ between runs")
    XCTAssertTrue(
      ta == (try ModelFileBytes(path: c).tensorSection), "weights differ between 1 and 2 threads")

    let input = try Data(contentsOf: URL(fileURLWithPath: CLI.tiny("test.fasttext.txt")))
    var outputs: [String] = []
    for m in [a, b, c] {
      let r = try quarry(["predict", "--model", m, "--k", "3"], stdin: input)
      XCTAssertTrue(r.succeeded, r.summary)
      outputs.append(r.stdout)
    }
    XCTAssertEqual(outputs[0], outputs[1])
    XCTAssertEqual(outputs[0], outputs[2])
  }

  /// A different seed gives different weights (so the checks above are not vacuous).
  func testDifferentSeedsGiveDifferentWeights() throws {
    let a = try trainModel("s1.qmodel", seed: 1)
    let b = try trainModel("s2.qmodel", seed: 2)
    XCTAssertFalse(
      try ModelFileBytes(path: a).tensorSection == (try ModelFileBytes(path: b).tensorSection))
  }

  /// A checkpoint at the model's or the corpus's path would delete or overwrite it.
  func testCheckpointAtTheOutputOrTrainPathIsRefused() throws {
    let out = path("m.qmodel")
    for target in [out, CLI.tiny("train.tsv")] {
      let r = try quarry([
        "finetune", "--train", CLI.tiny("train.tsv"), "--output", out, "--checkpoint", target,
      ])
      assertFailure(r, status: 1, mentions: ["--checkpoint", "the same file"])
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: out))
  }

  func testHelpListsAnExample() throws {
    let r = try quarry(["finetune", "--help"])
    XCTAssertTrue(r.succeeded, r.summary)
    XCTAssertTrue(r.stdout.contains("Example"), r.stdout)
    XCTAssertTrue(r.stdout.contains("quarry finetune --train"), r.stdout)
    for flag in ["--train", "--output", "--pretrained", "--epochs", "--seed", "--threads"] {
      XCTAssertTrue(r.stdout.contains(flag), "help lacks \(flag)")
    }
  }

  // MARK: Helpers

  func checkReportShape(
    _ report: [String: Any], file: StaticString = #filePath, line: UInt = #line
  ) throws {
    for key in ["accuracy", "macro_f1", "per_class", "confusion"] {
      XCTAssertNotNil(report[key], "evaluate --json lacks '\(key)'", file: file, line: line)
    }
    let labels = try XCTUnwrap(report["labels"] as? [String], file: file, line: line)
    XCTAssertEqual(labels, ["cooking", "sports", "weather"], file: file, line: line)
    XCTAssertEqual(report["rows"] as? Int, 60, file: file, line: line)
    let perClass = try XCTUnwrap(report["per_class"] as? [[String: Any]], file: file, line: line)
    XCTAssertEqual(perClass.map { $0["label"] as? String }, labels, file: file, line: line)
    for c in perClass {
      for key in ["precision", "recall", "f1"] {
        let v = try XCTUnwrap(c[key] as? Double, "\(key) in \(c)", file: file, line: line)
        XCTAssertTrue((0...1).contains(v), "\(key) = \(v)", file: file, line: line)
      }
      XCTAssertEqual(c["support"] as? Int, 20, file: file, line: line)
    }
    let confusion = try XCTUnwrap(report["confusion"] as? [[Int]], file: file, line: line)
    XCTAssertEqual(confusion.count, 3, file: file, line: line)
    XCTAssertTrue(confusion.allSatisfy { $0.count == 3 }, file: file, line: line)
    XCTAssertEqual(
      confusion.map { $0.reduce(0, +) }, [20, 20, 20], "rows are gold", file: file, line: line)
    // Accuracy is the confusion matrix's diagonal share.
    let diagonal = (0..<3).map { confusion[$0][$0] }.reduce(0, +)
    let accuracy = try XCTUnwrap(report["accuracy"] as? Double, file: file, line: line)
    XCTAssertEqual(accuracy, Double(diagonal) / 60, accuracy: 1e-5, file: file, line: line)
    let macro = try XCTUnwrap(report["macro_f1"] as? Double, file: file, line: line)
    let meanF1 = perClass.compactMap { $0["f1"] as? Double }.reduce(0, +) / 3
    XCTAssertEqual(macro, meanF1, accuracy: 1e-5, file: file, line: line)
  }

  func metadataDifferences(_ a: ModelFileBytes, _ b: ModelFileBytes) -> String {
    if a.tensorSection != b.tensorSection { return "the weights differ" }
    guard let ma = try? a.metadataObject(), let mb = try? b.metadataObject() else {
      return "metadata does not parse"
    }
    var diffs: [String] = []
    func walk(_ x: Any?, _ y: Any?, _ at: String) {
      if let x = x as? [String: Any], let y = y as? [String: Any] {
        for k in Set(x.keys).union(y.keys).sorted() { walk(x[k], y[k], "\(at).\(k)") }
      } else if let x = x as? [Any], let y = y as? [Any], x.count == y.count {
        for i in x.indices { walk(x[i], y[i], "\(at)[\(i)]") }
      } else if "\(String(describing: x))" != "\(String(describing: y))" {
        diffs.append(
          at.replacingOccurrences(of: #"\[\d+\]"#, with: "[]", options: .regularExpression))
      }
    }
    walk(ma, mb, "metadata")
    var seen = Set<String>()
    let unique = diffs.filter { seen.insert($0).inserted }
    return "weights equal; metadata differs in " + unique.joined(separator: ", ")
  }

  func assertNoTempFiles(file: StaticString = #filePath, line: UInt = #line) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? []
    XCTAssertEqual(names.filter { $0.contains(".tmp") }, [], file: file, line: line)
  }

  /// Writes the tiny vectors as a safetensors F32 table plus vocab.txt into `dir` (relative
  /// to the working directory, "" or ending in "/").
  func writeSafetensorsCopyOfTinyVectors(dir: String) throws {
    let text = try String(contentsOfFile: CLI.tiny("vectors.vec"), encoding: .utf8)
    var words: [String] = []
    var values: [Float] = []
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(separator: " ")
      words.append(String(f[0]))
      values += f.dropFirst().compactMap { Float(String($0)) }
    }
    XCTAssertEqual(values.count, words.count * 8)
    var data: [UInt8] = []
    for v in values { data += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    let header = Array(
      "{\"table\":{\"dtype\":\"F32\",\"shape\":[\(words.count),8],\"data_offsets\":[0,\(data.count)]}}"
        .utf8)
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
    bytes += header + data
    try write("\(dir)vectors.safetensors", bytes: bytes)
    try write("\(dir)vocab.txt", words.joined(separator: "\n") + "\n")
  }
}
