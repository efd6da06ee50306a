import Foundation
import XCTest

@testable import Quarry

final class ModelFileTests: XCTestCase {
  var model: Model!

  override func setUpWithError() throws {
    model = try TrainingFixtures.tinyModel.get()
  }

  func encoded() throws -> [UInt8] { try ModelFile.encode(model) }

  func assertSameModel(_ a: Model, _ b: Model, file: StaticString = #filePath, line: UInt = #line) {
    var ma = a.metadata
    var mb = b.metadata
    ma.tensors = []
    mb.tensors = []
    // The thread count is not stored (the model does not depend on it).
    ma.config.threads = 0
    mb.config.threads = 0
    XCTAssertEqual(ma, mb, file: file, line: line)
    XCTAssertEqual(a.vocabulary, b.vocabulary, file: file, line: line)
    XCTAssertEqual(a.classifier, b.classifier, file: file, line: line)
  }

  func testRoundTrip() throws {
    let bytes = try encoded()
    let back = try ModelFile.decode(bytes, path: "m.quarry")
    assertSameModel(back, model)
    XCTAssertEqual(back.labels, ["food", "money", "sports"])
    // The weights and the feature table, plus what mine-report reads: the training
    // dynamics with each row's line, and the cross-fitted probabilities and dynamics.
    XCTAssertEqual(
      Set(back.metadata.tensors.map(\.name)),
      [
        "wide", "embedding", "dense", "bias", "idf", "index.keys", "index.rows", "dynamics.lines",
        "dynamics.pgold", "dynamics.predicted", "heldout.probs", "heldout.pgold",
        "heldout.predicted",
      ])
    XCTAssertEqual(back.dynamics, model.dynamics)
    XCTAssertEqual(back.trainLines, model.trainLines)
    XCTAssertEqual(back.heldOut, model.heldOut)
    XCTAssertNotNil(model.heldOutDynamics)
    XCTAssertEqual(back.heldOutDynamics, model.heldOutDynamics)
  }

  /// Saving a model that was read from a file gives the same file: the tensor table is
  /// rebuilt, not appended to the one the decoded metadata already carries.
  func testReencodingADecodedModelGivesTheSameBytes() throws {
    let bytes = try encoded()
    let back = try ModelFile.decode(bytes, path: "m.quarry")
    let again = try ModelFile.encode(back)
    let twice = try ModelFile.decode(again, path: "again.quarry")
    XCTAssertEqual(
      twice.metadata.tensors.count, back.metadata.tensors.count,
      "tensor entries after one decode/encode cycle: \(twice.metadata.tensors.map(\.name))")
    XCTAssertTrue(
      again == bytes, "re-encoded file differs (\(again.count) vs \(bytes.count) bytes)")
  }

  func testLayout() throws {
    let bytes = try encoded()
    XCTAssertEqual(Array(bytes[0..<8]), Array("QUARRYMF".utf8))
    XCTAssertEqual(readLE(bytes, 8, as: UInt32.self), 1)
    XCTAssertEqual(readLE(bytes, 12, as: UInt32.self), 0)
    XCTAssertEqual(bytes.count % 8, 0)
    XCTAssertEqual(
      readLE(bytes, bytes.count - 8, as: UInt64.self), Checksum.of(Array(bytes.dropLast(8))))
    let metaLength = Int(readLE(bytes, 16, as: UInt64.self))
    let meta = try JSONDecoder().decode(
      ModelMetadata.self, from: Data(bytes[24..<(24 + metaLength)]))
    XCTAssertEqual(meta.classes, 3)
    // The bias tensor holds the model's bias, little-endian f32, at its offset.
    let sectionStart = (24 + metaLength + 7) / 8 * 8
    let entry = try XCTUnwrap(meta.tensors.first { $0.name == "bias" })
    XCTAssertEqual(entry.dtype, .f32)
    let bias = (0..<entry.count).map {
      Float(bitPattern: readLE(bytes, sectionStart + entry.offset + 4 * $0, as: UInt32.self))
    }
    XCTAssertEqual(bias, model.classifier.bias)
  }

  func testTruncatedFilesThrow() throws {
    let bytes = try encoded()
    var cuts = [0, 1, 7, 8, 12, 24, 31, 32, 33, 100, bytes.count / 2, bytes.count - 9]
    cuts += [bytes.count - 8, bytes.count - 1]
    for cut in cuts where cut < bytes.count {
      expectInputError("cut at \(cut)") {
        _ = try ModelFile.decode(Array(bytes.prefix(cut)), path: "cut.quarry")
      }
    }
  }

  func testFlippedBitsThrow() throws {
    let bytes = try encoded()
    let metaLength = Int(readLE(bytes, 16, as: UInt64.self))
    let sectionStart = (24 + metaLength + 7) / 8 * 8
    var positions = [0, 5, 9, 13, 16, 20, 24, 30, 24 + metaLength / 2, 24 + metaLength - 1]
    positions += [sectionStart, sectionStart + 3, (sectionStart + bytes.count) / 2]
    positions += [bytes.count - 12, bytes.count - 8, bytes.count - 3, bytes.count - 1]
    for pos in positions {
      for bit in [0, 3, 7] {
        var b = bytes
        b[pos] ^= UInt8(1 << bit)
        let e = expectInputError("bit \(bit) of byte \(pos)") {
          _ = try ModelFile.decode(b, path: "flip.quarry")
        }
        XCTAssertEqual(e?.path, "flip.quarry")
      }
    }
  }

  func testNewerVersionSaysNewer() throws {
    var bytes = try encoded()
    bytes.replaceSubrange(8..<12, with: [3, 0, 0, 0])
    let e = expectInputError("version 3") { _ = try ModelFile.decode(bytes, path: "v3.quarry") }
    XCTAssertTrue(e?.description.contains("newer") ?? false, e?.description ?? "")
    bytes.replaceSubrange(8..<12, with: [0, 0, 0, 0])
    let zero = expectInputError("version 0") { _ = try ModelFile.decode(bytes, path: "v0.quarry") }
    XCTAssertFalse(zero?.description.contains("newer") ?? true)
  }

  func testGarbageAndEmptyThrow() {
    var rng = SplitMix64(seed: 9)
    for n in [0, 1, 16, 31, 32, 33, 64, 1000] {
      let garbage = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      expectInputError("garbage of \(n)") { _ = try ModelFile.decode(garbage, path: "g") }
    }
    // The magic followed by garbage.
    let fake = FileKind.model.magic! + (0..<200).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    expectInputError("magic + garbage") { _ = try ModelFile.decode(fake, path: "g") }
  }

  /// A well-formed file (valid checksum) whose metadata disagrees with its tensors must be
  /// refused: the checksum is recomputed after each edit of the JSON.
  func testConsistentChecksumButInconsistentMetadataThrows() throws {
    let bytes = try encoded()
    let metaLength = Int(readLE(bytes, 16, as: UInt64.self))
    let sectionStart = (24 + metaLength + 7) / 8 * 8
    let section = Array(bytes[sectionStart..<(bytes.count - 8)])
    let meta = try JSONDecoder().decode(
      ModelMetadata.self, from: Data(bytes[24..<(24 + metaLength)]))

    func rebuilt(_ m: ModelMetadata) throws -> [UInt8] {
      let enc = JSONEncoder()
      enc.outputFormatting = [.sortedKeys]
      let json = [UInt8](try enc.encode(m))
      var out = FileKind.model.magic!
      appendLE(&out, [UInt32(1), 0])
      appendLE(&out, [UInt64(json.count)])
      out += json
      while out.count % 8 != 0 { out.append(0) }
      out += section
      appendLE(&out, [Checksum.of(out)])
      return out
    }
    // Unchanged metadata rebuilds a valid file (the harness is right).
    assertSameModel(try ModelFile.decode(try rebuilt(meta), path: "ok"), model)

    var edits: [(String, (inout ModelMetadata) -> Void)] = [
      ("classes", { $0.classes += 1 }),
      ("labels", { $0.labels.removeLast() }),
      ("dim", { $0.dim += 1 }),
      ("featureCount", { $0.featureCount += 1 }),
      ("wordCount", { $0.wordCount = $0.featureCount + 1 }),
      ("dim 0", { $0.dim = 0 }),
      ("repeated label", { $0.labels[1] = $0.labels[0] }),
      ("empty label", { $0.labels[2] = "" }),
      (
        "negative index size",
        { m in
          for i in m.tensors.indices where m.tensors[i].name.hasPrefix("index.") {
            m.tensors[i].count = -1
          }
        }
      ),
      (
        "huge index size",
        { m in
          for i in m.tensors.indices where m.tensors[i].name.hasPrefix("index.") {
            m.tensors[i].count = Int.max / 4
          }
        }
      ),
      ("huge offset", { m in m.tensors[0].offset = Int.max - 3 }),
      ("negative offset", { m in m.tensors[1].offset = -8 }),
    ]
    for name in ["wide", "embedding", "dense", "bias", "idf", "index.keys", "index.rows"] {
      edits.append(
        (
          "\(name) offset",
          { m in
            let i = m.tensors.firstIndex { $0.name == name }!
            m.tensors[i].offset = section.count
          }
        ))
      edits.append(("\(name) missing", { m in m.tensors.removeAll { $0.name == name } }))
      edits.append(
        (
          "\(name) dtype",
          { m in
            let i = m.tensors.firstIndex { $0.name == name }!
            m.tensors[i].dtype = m.tensors[i].dtype == .f32 ? .i32 : .f32
          }
        ))
    }
    for (what, edit) in edits {
      var m = meta
      edit(&m)
      let b = try rebuilt(m)
      expectInputError(what) { _ = try ModelFile.decode(b, path: "edited") }
    }
  }

  func testWriteIsAtomicAndReadable() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/model.quarry"
      try ModelFile.write(model, to: path)
      try ModelFile.write(model, to: path)  // over an existing file
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.quarry"])
      assertSameModel(try ModelFile.read(path), model)
      // Written part by part, the file is the bytes `encode` joins.
      XCTAssertEqual(try FileBytes.read(path), try ModelFile.encode(model))

      let missingDir = dir + "/no/such/dir/model.quarry"
      expectInputError("missing directory") { try ModelFile.write(self.model, to: missingDir) }
      XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/no"))

      // The target is a directory: the rename fails and no temporary file is left.
      let sub = dir + "/sub"
      try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
      try writeFile(sub + "/keep", "x")
      expectInputError("target is a directory") { try ModelFile.write(self.model, to: sub) }
      XCTAssertEqual(
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["model.quarry", "sub"])
      expectInputError("read of a directory") { _ = try ModelFile.read(sub) }
      expectInputError("read of a missing file") { _ = try ModelFile.read(dir + "/absent") }
    }
  }

  /// A regular file is mapped, a pipe read: both give the model; a file cut short on disk
  /// fails its checksum through the mapping as through a read.
  func testReadMapsARegularFileAndReadsAPipe() throws {
    try withTemporaryDirectory { dir in
      let bytes = try ModelFile.encode(model)
      let fifo = dir + "/pipe.qmodel"
      XCTAssertEqual(mkfifo(fifo, 0o600), 0)
      let writer = Thread {
        let fd = open(fifo, O_WRONLY)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        close(fd)
      }
      writer.start()
      assertSameModel(try ModelFile.read(fifo), model)

      let short = dir + "/short.qmodel"
      try Data(bytes.dropLast(100)).write(to: URL(fileURLWithPath: short))
      expectInputError("truncated file") { _ = try ModelFile.read(short) }
      try Data().write(to: URL(fileURLWithPath: dir + "/empty.qmodel"))
      expectInputError("empty file") { _ = try ModelFile.read(dir + "/empty.qmodel") }
    }
  }

  /// A model read from a regular file reads its wide part in place from the mapping: the
  /// same model, and the same probabilities, as the copy decoded from the file's bytes. The
  /// first write copies the part out; the file on disk is left as it was.
  func testWidePartIsReadInPlaceAndCopiedOnWrite() throws {
    try withTemporaryDirectory { dir in
      let path = dir + "/m.qmodel"
      let bytes = try ModelFile.encode(model)
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let mapped = try ModelFile.read(path)
      let copied = try ModelFile.decode(bytes, path: path)
      XCTAssertTrue(mapped.classifier.wideWeights.isMapped)
      XCTAssertFalse(copied.classifier.wideWeights.isMapped)
      assertSameModel(mapped, copied)
      XCTAssertEqual(mapped.classifier.wide, model.classifier.wide)
      let texts = ["the game was won", "prices rose", "lunch at noon", ""]
      let matrix = FeatureMatrix(
        texts: texts, vocabulary: mapped.vocabulary, config: mapped.metadata.config.features)
      XCTAssertEqual(
        mapped.classifier.probabilities(matrix, threads: 2),
        copied.classifier.probabilities(matrix, threads: 2))

      // A write through `wide`, and one through the scaling, each copy the part out first.
      var written = mapped.classifier
      written.wide[1] += 1
      XCTAssertFalse(written.wideWeights.isMapped)
      XCTAssertEqual(written.wide[1], model.classifier.wide[1] + 1)
      XCTAssertEqual(written.wide[0], model.classifier.wide[0])
      XCTAssertNotEqual(written, mapped.classifier)
      var scaled = mapped.classifier
      scaled.scaleLogits(by: 2)
      XCTAssertFalse(scaled.wideWeights.isMapped)
      XCTAssertEqual(scaled.wide, model.classifier.wide.map { $0 * 2 })
      // The loaded model and the file are untouched.
      XCTAssertTrue(mapped.classifier.wideWeights.isMapped)
      XCTAssertEqual(mapped.classifier.wide, model.classifier.wide)
      XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), bytes)
      // Saving a mapped model writes the same file.
      XCTAssertEqual(try ModelFile.encode(mapped), bytes)
    }
  }

  func testDirectoryOfPath() {
    XCTAssertEqual(directory(of: "a/b/c.quarry"), "a/b")
    XCTAssertEqual(directory(of: "c.quarry"), ".")
    XCTAssertEqual(directory(of: "/c.quarry"), "/")
    XCTAssertEqual(directory(of: "/x/y"), "/x")
  }

  func testCheckWritable() throws {
    try withTemporaryDirectory { dir in
      XCTAssertNoThrow(try AtomicFile.checkWritable(dir + "/new.quarry"))
      expectInputError("empty path") { try AtomicFile.checkWritable("") }
      expectInputError("trailing slash") { try AtomicFile.checkWritable(dir + "/x/") }
      expectInputError("a directory") { try AtomicFile.checkWritable(dir) }
      expectInputError("missing directory") { try AtomicFile.checkWritable(dir + "/none/m") }
    }
  }
}
