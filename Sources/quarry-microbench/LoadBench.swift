import Foundation
import Quarry

/// Pretrained-vector loading through `PretrainedVectors`, as finetune does it (the
/// dimension probe, then the load into a zeroed table of the vocabulary's words).
func vectorBenchmarks(path: String, vocabulary: Vocabulary, label: String, reps: Int) throws
  -> Figure
{
  var found = 0
  var fileWords = 0
  let secs = try timeRuns(reps: reps) {
    let dim = try PretrainedVectors.dimension(path: path)
    let zero = [Float](repeating: 0, count: vocabulary.wordCount * dim)
    let r = try PretrainedVectors.load(path: path, vocabulary: vocabulary, into: zero, dim: dim)
    found = r.found.lazy.filter { $0 }.count
    fileWords = r.fileWords
    consume(r.embedding.count)
  }
  let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  return Figure(
    section: "load", name: "GloVe 50d, \(label)", unit: "s", median: median(secs),
    samples: secs,
    detail: String(
      format: "%d of %d words parsed, %.0f MB/s over %.0f MB, 2 threads", found, fileWords,
      Double(size) / median(secs) / 1e6, Double(size) / 1e6),
    target: "≤ 1.0 s", meets: median(secs) <= 1.0,
    extra: ["words_parsed": Double(found), "file_words": Double(fileWords)])
}

/// A vocabulary of every word of a word-vector file, so that loading parses every line
/// (what fastText does): the unrestricted case.
func fullVocabulary(vectorsPath path: String) throws -> Vocabulary {
  let bytes = try FileBytes.read(path)
  var index = FeatureIndex(capacity: 1 << 19)
  var lineNo = 0
  for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
    lineNo += 1
    guard let sp = line.firstIndex(of: 0x20) else { continue }
    let word = line[line.startIndex..<sp]
    if lineNo == 1, line.allSatisfy({ $0 == 0x20 || ($0 >= 0x30 && $0 <= 0x39) }) { continue }
    let lowered = String(decoding: word, as: UTF8.self).lowercased()
    _ = index.insert(FeatureExtractor.wordKey(lowered.utf8))
  }
  return Vocabulary(
    index: index, wordCount: index.count, idf: [Float](repeating: 1, count: index.count))
}

/// `ModelFile.read`, and its two halves: the file's bytes, then `decode` (checksum, JSON
/// metadata, tensors, shape checks).
func modelBenchmarks(path: String, reps: Int) throws -> [Figure] {
  let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  let mb = Double(size) / 1e6
  let whole = try timeRuns(reps: reps) { consume(try ModelFile.read(path).classifier.classes) }
  var bytes: [UInt8] = []
  let read = try timeRuns(reps: reps) {
    bytes = try FileBytes.read(path)
    consume(bytes.count)
  }
  let decode = try timeRuns(reps: reps) {
    consume(try ModelFile.decode(bytes, path: path).classifier.classes)
  }
  func fig(_ name: String, _ secs: [Double], _ detail: String, target: Bool) -> Figure {
    Figure(
      section: "load", name: name, unit: "s", median: median(secs), samples: secs,
      detail: String(format: "%@; %.1f MB, %.0f MB/s", detail, mb, mb / median(secs)),
      target: target ? "≤ 0.1 s" : nil, meets: target ? median(secs) <= 0.1 : nil,
      extra: ["bytes": Double(size)])
  }
  return [
    fig("model, ModelFile.read", whole, "R8 model, in process", target: true),
    fig("· read the bytes", read, "FileBytes.read", target: false),
    fig("· decode", decode, "checksum + JSON + tensor copies + checks", target: false),
  ]
}

/// Whole `quarry` processes, wall time from spawn to exit: `predict` on one line, and
/// `--version` as the floor of starting a process. posix_spawn with stdin from a file and
/// stdout to /dev/null: Foundation's `Process` adds tens of milliseconds of its own.
func processBenchmarks(quarry: String, model: String, reps: Int) throws -> [Figure] {
  let input = NSTemporaryDirectory() + "/quarry-microbench-\(getpid()).txt"
  try Data("crude oil prices rose sharply\n".utf8).write(to: URL(fileURLWithPath: input))
  defer { try? FileManager.default.removeItem(atPath: input) }
  func run(_ args: [String]) throws -> Double {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([quarry] + args).map { strdup($0) } + [nil]
    defer { for a in argv { free(a) } }
    var pid: pid_t = 0
    let start = clock.now
    let rc = posix_spawn(&pid, quarry, &actions, nil, argv, environ)
    guard rc == 0 else { throw InputError(path: quarry, "cannot start (\(rc))") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let elapsed = clock.now - start
    guard status == 0 else {
      throw InputError(path: quarry, "\(args.joined(separator: " ")) exited with \(status)")
    }
    return elapsed.seconds
  }
  let args = ["predict", "--model", model]
  _ = try run(args)
  var predict: [Double] = []
  var version: [Double] = []
  for _ in 0..<max(1, reps) {
    predict.append(try run(args))
    version.append(try run(["--version"]))
  }
  return [
    Figure(
      section: "load", name: "quarry predict, 1 line", unit: "s", median: median(predict),
      samples: predict, detail: "whole process: start, load the model, featurize, print",
      target: "≤ 0.1 s (model load)", meets: median(predict) <= 0.1),
    Figure(
      section: "load", name: "· quarry --version", unit: "s", median: median(version),
      samples: version, detail: "the same binary starting and exiting: the process floor"),
  ]
}
