import Foundation
import Quarry

// `quarry-microbench tune`: fine-tunes the top N layers of MiniLM with a softmax head on
// R8's training split and reports the head's test accuracy and macro-F1, the time per
// epoch and the tokens/s of forward + backward. The frozen layers' outputs (the tuned
// layers' inputs) are cached under --cache-dir, so a second run skips them.

let tuneUsage = """
  usage: quarry-microbench tune [--cache DIR] [--layers N] [--epochs N] [--lr X] [--head-lr X]
                                [--batch N] [--max-length N] [--threads N] [--seed N]
                                [--balanced] [--limit N] [--inputs-cache DIR]
  """

struct TuneArguments {
  var cache =
    ProcessInfo.processInfo.environment["QUARRY_CACHE"]
    ?? (NSHomeDirectory() + "/.cache/quarry")
  var options = LayerTuner.Options()
  var maxLength = 256
  var balanced = false
  var limit: Int? = nil
  var inputsCache = NSTemporaryDirectory() + "quarry-tune-inputs"
}

func parseTuneArguments(_ args: [String]) -> TuneArguments {
  var t = TuneArguments()
  let d = LayerTuner.Options()
  scanArguments(args, usage: tuneUsage) { flag, value in
    switch flag {
    case "--cache": t.cache = value()
    case "--layers": t.options.layers = Int(value()) ?? d.layers
    case "--epochs": t.options.epochs = Int(value()) ?? d.epochs
    case "--lr": t.options.learningRate = Float(value()) ?? d.learningRate
    case "--head-lr": t.options.headLearningRate = Float(value()) ?? d.headLearningRate
    case "--batch": t.options.batchSize = Int(value()) ?? d.batchSize
    case "--threads": t.options.threads = Int(value()) ?? d.threads
    case "--seed": t.options.seed = UInt64(value()) ?? d.seed
    case "--max-length": t.maxLength = Int(value()) ?? 256
    case "--balanced": t.balanced = true
    case "--limit": t.limit = Int(value())
    case "--inputs-cache": t.inputsCache = value()
    default: return false
    }
    return true
  }
  return t
}

/// The tuned layers' inputs for `ids`, read from `path` when it holds them (same lengths).
func cachedInputs(
  _ path: String, encoder: BertEncoder, ids: [[Int32]], layers: Int, threads: Int
) throws -> LayerTuner.Inputs {
  let lengths = ids.map(\.count)
  let h = encoder.config.hidden
  let first = encoder.config.layers - layers
  if let data = FileManager.default.contents(atPath: path),
    data.count == lengths.reduce(0, +) * h * 4
  {
    var states = [Float](repeating: 0, count: data.count / 4)
    _ = states.withUnsafeMutableBytes { data.copyBytes(to: $0) }
    note("read cached layer-\(first) inputs from \(path)")
    return LayerTuner.Inputs(firstLayer: first, hidden: h, lengths: lengths, states: states)
  }
  let start = Date()
  let inputs = try LayerTuner.inputs(
    encoder: encoder, ids: ids, tunedLayers: layers, threads: threads,
    progress: { done, total in
      if done % 640 < 32 || done == total { note("  frozen layers 0..<\(first): \(done)/\(total)") }
    })
  let seconds = Date().timeIntervalSince(start)
  note(
    String(
      format: "frozen layers 0..<%d: %.1f s, %.0f tokens/s", first, seconds,
      Double(inputs.tokens) / seconds))
  let bytes = inputs.states.withUnsafeBytes { Data($0) }
  try? FileManager.default.createDirectory(
    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
  try? bytes.write(to: URL(fileURLWithPath: path))
  return inputs
}

func runTune(_ t: TuneArguments) throws {
  let o = t.options
  let encoder = try BertEncoder.load(directory: t.cache + "/encoder/all-minilm-l6-v2")
  var train = try CorpusTexts(tsv: t.cache + "/corpora/r8/train.tsv")
  let test = try CorpusTexts(tsv: t.cache + "/corpora/r8/test.tsv")
  if let limit = t.limit {
    train.texts = Array(train.texts.prefix(limit))
    train.rowLabels = Array(train.rowLabels.prefix(limit))
  }
  let names = Set(train.rowLabels).sorted()
  let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
  let trainLabels = train.rowLabels.map { index[$0] ?? 0 }
  let testLabels = test.rowLabels.map { index[$0] ?? 0 }
  let trainIDs = encoder.tokenize(train.texts, maxLength: t.maxLength, threads: o.threads)
  let testIDs = encoder.tokenize(test.texts, maxLength: t.maxLength, threads: o.threads)
  let tag = "\(o.layers)-\(t.maxLength)-\(trainIDs.count)"
  let trainInputs = try cachedInputs(
    t.inputsCache + "/train-\(tag).f32", encoder: encoder, ids: trainIDs, layers: o.layers,
    threads: o.threads)
  let testInputs = try cachedInputs(
    t.inputsCache + "/test-\(o.layers)-\(t.maxLength).f32", encoder: encoder, ids: testIDs,
    layers: o.layers,
    threads: o.threads)
  note(
    "train: \(trainIDs.count) texts, \(trainInputs.tokens) tokens; test: \(testIDs.count) texts, \(testInputs.tokens) tokens"
  )

  var weights: [Float]? = nil
  if t.balanced {
    var counts = [Int](repeating: 0, count: names.count)
    for y in trainLabels { counts[Int(y)] += 1 }
    let n = Float(trainLabels.count)
    weights = trainLabels.map { n / (Float(names.count) * Float(counts[Int($0)])) }
  }
  var epochStart = Date()
  var epochTimes: [Double] = []
  let steps = (trainIDs.count + o.batchSize - 1) / o.batchSize
  let tuned = try LayerTuner.train(
    encoder: encoder, inputs: trainInputs, labels: trainLabels, classes: names.count,
    weights: weights, options: o,
    progress: { epoch, batch, loss in
      if batch % 50 == 0 {
        note(String(format: "  epoch %d batch %d/%d loss %.4f", epoch + 1, batch, steps, loss))
      }
      if batch == steps - 1 {
        let s = Date().timeIntervalSince(epochStart)
        epochTimes.append(s)
        epochStart = Date()
        note(
          String(
            format: "epoch %d: %.1f s, %.0f tokens/s", epoch + 1, s,
            Double(trainInputs.tokens) / s))
      }
    })
  let evalStart = Date()
  let pooled = LayerTuner.pooled(
    encoder: encoder, inputs: testInputs, layers: tuned.layers, threads: o.threads)
  let metrics = Metrics(
    predicted: tuned.predict(pooled: pooled), gold: testLabels, classes: names.count)
  let evalSeconds = Date().timeIntervalSince(evalStart)
  let meanEpoch = epochTimes.reduce(0, +) / Double(max(epochTimes.count, 1))
  print(
    String(
      format:
        "tune R8: layers %d, epochs %d, lr %g, head lr %g, batch %d, max length %d, threads %d, balanced %@",
      o.layers, o.epochs, o.learningRate, o.headLearningRate, o.batchSize, t.maxLength, o.threads,
      t.balanced ? "yes" : "no"))
  print(
    "  epoch losses: " + tuned.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: " ")
  )
  print(
    String(
      format: "  test accuracy %.4f, macro-F1 %.4f", metrics.accuracy, metrics.macroF1))
  print(
    String(
      format: "  %.1f s per epoch, %.0f tokens/s forward+backward (%d tokens per epoch)",
      meanEpoch, Double(trainInputs.tokens) / meanEpoch, trainInputs.tokens))
  print(
    String(
      format: "  test: top %d layers + head over %d tokens in %.1f s", o.layers, testInputs.tokens,
      evalSeconds))
}
