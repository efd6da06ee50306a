import ArgumentParser
import Foundation
import Quarry

/// Default values of the flags come from `LayerTuner.Options`, the one place they are set.
private let defaults = LayerTuner.Options()

struct TuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tune",
    abstract:
      "Fine-tune MiniLM's top layers with a softmax head on R8: test accuracy, macro-F1, time per epoch, tokens/s.",
    discussion: """
      Trains on R8's training split and scores the head on its test split; tokens/s counts \
      the forward and backward passes of the tuned layers. Needs R8 and all-MiniLM-L6-v2 \
      under --cache (Scripts/setup). The frozen layers' outputs (the tuned layers' \
      inputs) are cached under --inputs-cache, so a second run with the same --layers, \
      --max-length and --limit skips them. Progress on stderr; the results on stdout.

      Examples:
        quarry-microbench tune --layers 1 --epochs 1 --limit 200
        quarry-microbench tune --layers 2 --lr 5e-5 --balanced
      """)

  @OptionGroup var cache: CacheOptions
  @Option(help: "Top encoder layers to tune (the layers below stay frozen).")
  var layers = defaults.layers
  @Option(help: "Epochs.") var epochs = defaults.epochs
  @Option(help: "AdamW's peak learning rate for the tuned layers.")
  var lr = defaults.learningRate
  @Option(help: "AdamW's peak learning rate for the head.") var headLr = defaults.headLearningRate
  @Option(help: "Texts per step.") var batch = defaults.batchSize
  @Option(help: "Tokens per text at most (longer texts are cut).") var maxLength = 256
  @Option(help: "Threads to run on.") var threads = defaults.threads
  @Option(help: "Random seed.") var seed = defaults.seed
  @Flag(help: "Weight each text by N / (C·n_c), n_c the texts of its class.")
  var balanced = false
  @Option(help: "Train on the first N training texts only (default: all).") var limit: Int?
  @Option(
    help: ArgumentHelp(
      "Where the tuned layers' inputs are cached (default: $TMPDIR/quarry-tune-inputs).",
      valueName: "dir"))
  var inputsCache: String?

  func validate() throws {
    for (name, value) in [
      ("--layers", layers), ("--epochs", epochs), ("--batch", batch),
      ("--max-length", maxLength), ("--threads", threads),
    ] where value < 1 {
      throw ValidationError("\(name) must be at least 1, got \(value)")
    }
  }

  var options: LayerTuner.Options {
    LayerTuner.Options(
      layers: layers, epochs: epochs, learningRate: lr, headLearningRate: headLr,
      batchSize: batch, seed: seed, threads: threads)
  }

  var inputsFolder: String { inputsCache ?? (NSTemporaryDirectory() + "quarry-tune-inputs") }

  func run() throws {
    let encoder = try BertEncoder.load(directory: cache.root + "/encoder/all-minilm-l6-v2")
    let data = try TuneData(cache: cache.root, limit: limit)
    let ids = (
      train: encoder.tokenize(data.train.texts, maxLength: maxLength, threads: threads),
      test: encoder.tokenize(data.test.texts, maxLength: maxLength, threads: threads)
    )
    let tag = "\(layers)-\(maxLength)-\(ids.train.count)"
    let trainInputs = try cachedInputs(
      inputsFolder + "/train-\(tag).f32", encoder: encoder, ids: ids.train, layers: layers,
      threads: threads)
    let testInputs = try cachedInputs(
      inputsFolder + "/test-\(layers)-\(maxLength).f32", encoder: encoder, ids: ids.test,
      layers: layers, threads: threads)
    note(
      "train: \(ids.train.count) texts, \(trainInputs.tokens) tokens; test: \(ids.test.count) texts, \(testInputs.tokens) tokens"
    )
    let (tuned, epochSeconds) = try train(encoder, trainInputs, data: data)
    let start = clock.now
    let pooled = LayerTuner.pooled(
      encoder: encoder, inputs: testInputs, layers: tuned.layers, threads: threads)
    let metrics = Metrics(
      predicted: tuned.predict(pooled: pooled), gold: data.testLabels, classes: data.names.count)
    printResults(
      tuned, metrics: metrics, epochSeconds: epochSeconds, trainTokens: trainInputs.tokens,
      testTokens: testInputs.tokens, testSeconds: (clock.now - start).seconds)
  }
}

/// R8's two splits, the first --limit rows of training, and their labels as class indices.
struct TuneData {
  var train: CorpusTexts
  var test: CorpusTexts
  /// The class names, sorted; a label's index is its class.
  var names: [String]
  var trainLabels: [Int32]
  var testLabels: [Int32]

  init(cache: String, limit: Int?) throws {
    train = try CorpusTexts(tsv: cache + "/corpora/r8/train.tsv")
    test = try CorpusTexts(tsv: cache + "/corpora/r8/test.tsv")
    if let limit {
      train.texts = Array(train.texts.prefix(limit))
      train.rowLabels = Array(train.rowLabels.prefix(limit))
    }
    names = Set(train.rowLabels).sorted()
    let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
    trainLabels = train.rowLabels.map { index[$0] ?? 0 }
    testLabels = test.rowLabels.map { index[$0] ?? 0 }
  }

  /// Each training text's weight N / (C·n_c), so that every class weighs the same.
  var balancedWeights: [Float] {
    let w = ClassWeighting.balanced.weights(labels: trainLabels, classes: names.count)
    return trainLabels.map { w[Int($0)] }
  }
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
  let start = clock.now
  let inputs = try LayerTuner.inputs(
    encoder: encoder, ids: ids, tunedLayers: layers, threads: threads,
    progress: { done, total in
      if done % 640 < 32 || done == total { note("  frozen layers 0..<\(first): \(done)/\(total)") }
    })
  let seconds = (clock.now - start).seconds
  note(
    String(
      format: "frozen layers 0..<%d: %.1f s, %.0f tokens/s", first, seconds,
      Double(inputs.tokens) / seconds))
  let bytes = inputs.states.withUnsafeBytes { Data($0) }
  try? FileManager.default.createDirectory(
    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
  // Never over a file already there: ours of the same key (which the read above
  // would have taken had it been whole) or someone else's.
  try? bytes.write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
  return inputs
}

extension TuneCommand {
  /// Trains the tuned layers and the head, noting the loss every 50 steps; returns them
  /// and each epoch's seconds.
  func train(_ encoder: BertEncoder, _ inputs: LayerTuner.Inputs, data: TuneData) throws -> (
    TunedLayers, [Double]
  ) {
    var epochStart = clock.now
    var epochSeconds: [Double] = []
    let steps = (inputs.count + batch - 1) / batch
    let tuned = try LayerTuner.train(
      encoder: encoder, inputs: inputs, labels: data.trainLabels, classes: data.names.count,
      weights: balanced ? data.balancedWeights : nil, options: options,
      progress: { epoch, step, loss in
        if step % 50 == 0 {
          note(String(format: "  epoch %d batch %d/%d loss %.4f", epoch + 1, step, steps, loss))
        }
        if step == steps - 1 {
          let s = (clock.now - epochStart).seconds
          epochSeconds.append(s)
          epochStart = clock.now
          note(
            String(
              format: "epoch %d: %.1f s, %.0f tokens/s", epoch + 1, s, Double(inputs.tokens) / s))
        }
      })
    return (tuned, epochSeconds)
  }

  func printResults(
    _ tuned: TunedLayers, metrics: Metrics, epochSeconds: [Double], trainTokens: Int,
    testTokens: Int, testSeconds: Double
  ) {
    let meanEpoch = epochSeconds.reduce(0, +) / Double(max(epochSeconds.count, 1))
    print(
      String(
        format:
          "tune R8: layers %d, epochs %d, lr %g, head lr %g, batch %d, max length %d, threads %d, balanced %@",
        layers, epochs, lr, headLr, batch, maxLength, threads, balanced ? "yes" : "no"))
    print(
      "  epoch losses: "
        + tuned.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: " "))
    print(
      String(
        format: "  test accuracy %.4f, macro-F1 %.4f", metrics.accuracy, metrics.macroF1))
    print(
      String(
        format: "  %.1f s per epoch, %.0f tokens/s forward+backward (%d tokens per epoch)",
        meanEpoch, Double(trainTokens) / meanEpoch, trainTokens))
    print(
      String(
        format: "  test: top %d layers + head over %d tokens in %.1f s", layers, testTokens,
        testSeconds))
  }
}
