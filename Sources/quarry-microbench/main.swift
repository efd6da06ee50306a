import Foundation
import Quarry

// quarry-microbench: Quarry's hot paths in release mode, each figure the median of
// several runs. Progress on stderr; a table (or, with --json, one JSON object) on stdout.

let usage = """
  usage: quarry-microbench [--cache DIR] [--model R8.qmodel] [--quarry PATH] [--reps N]
                           [--only text,forward,sgemm,vectors,model] [--json]

    --cache DIR    Scripts/setup's cache (default $QUARRY_CACHE or ~/.cache/quarry)
    --model PATH   an R8 model from `quarry finetune`: its vocabulary and weights are used,
                   and its load time measured (without it the vocabulary is built here and
                   the model figures are skipped)
    --quarry PATH  the quarry binary, for the whole-process predict figure
    --reps N       timed runs per figure, after one warm-up (default 7)
    --only LIST    sections to run (default all)
    --json         print JSON instead of the table
  """

struct Options {
  var cache =
    ProcessInfo.processInfo.environment["QUARRY_CACHE"]
    ?? (NSHomeDirectory() + "/.cache/quarry")
  var model: String? = nil
  var quarry: String? = nil
  var reps = 7
  var only: Set<String> = ["text", "forward", "sgemm", "vectors", "model"]
  var json = false
}

func parseOptions(_ args: [String]) -> Options {
  var o = Options()
  scanArguments(args, usage: usage) { flag, value in
    switch flag {
    case "--cache": o.cache = value()
    case "--model": o.model = value()
    case "--quarry": o.quarry = value()
    case "--reps": o.reps = max(1, Int(value()) ?? 7)
    case "--only": o.only = Set(value().split(separator: ",").map(String.init))
    case "--json": o.json = true
    default: return false
    }
    return true
  }
  return o
}

/// Calls `apply(flag, value)` for each flag of `args`; `value()` takes the flag's value
/// (a missing one ends the process with `usage`), and a false return means an unknown flag
/// (the same). `-h`/`--help` prints `usage` and exits.
func scanArguments(
  _ args: [String], usage: String, _ apply: (_ flag: String, _ value: () -> String) -> Bool
) {
  func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("\(message)\n\(usage)\n".utf8))
    exit(2)
  }
  var i = 0
  while i < args.count {
    let flag = args[i]
    if flag == "-h" || flag == "--help" {
      print(usage)
      exit(0)
    }
    let known = apply(flag) {
      i += 1
      guard i < args.count else { fail("missing value for \(flag)") }
      return args[i]
    }
    if !known { fail("unknown argument \(flag)") }
    i += 1
  }
}

func note(_ s: String) { FileHandle.standardError.write(Data("[microbench] \(s)\n".utf8)) }

func run(_ o: Options) throws -> Report {
  let trainPath = o.cache + "/corpora/r8/train.tsv"
  let glove = o.cache + "/vectors/glove.6B.50d.vec"
  note("reading \(trainPath)")
  let corpus = try CorpusTexts(tsv: trainPath)
  let model = try o.model.map { try ModelFile.read($0) }
  let config = model?.metadata.config.features ?? FeatureConfig()
  let vocabulary =
    model?.vocabulary ?? Vocabulary.build(texts: corpus.texts, config: config).0
  var figures: [Figure] = []

  if o.only.contains("text") {
    note("tokenizer and featurizer")
    figures += textBenchmarks(
      corpus: corpus, vocabulary: vocabulary, config: config, reps: o.reps)
  }

  var work: ForwardWork? = nil
  if o.only.contains("forward") {
    note("forward pass")
    let features = FeatureMatrix(
      texts: corpus.texts, vocabulary: vocabulary, config: config, threads: 2)
    var rng = SplitMix64(seed: 1)
    let classifier =
      model?.classifier
      ?? Classifier(
        classes: corpus.labels.count, featureCount: vocabulary.featureCount,
        wordCount: vocabulary.wordCount, dim: 50,
        embedding: (0..<(vocabulary.wordCount * 50)).map { _ in rng.nextUnitFloat() - 0.5 })
    let (f, w) = forwardBenchmarks(
      model: classifier, features: features, batch: 128, seed: 1, reps: o.reps)
    figures += f
    work = w
    figures.append(memoryBenchmark(reps: o.reps))
  }

  if o.only.contains("sgemm") {
    note("sgemm")
    let c = model?.classifier.classes ?? corpus.labels.count
    let d = model?.classifier.dim ?? 50
    let words = work.map { Int((Double($0.bagEntries) / Double($0.docs)).rounded()) } ?? 70
    let nnz = work.map { Int((Double($0.wideNNZ) / Double($0.docs)).rounded()) } ?? 170
    let shapes = [
      GemmShape(name: "dense forward", m: 128, n: c, k: d, transB: true),
      GemmShape(name: "dense backward dW", m: c, n: d, k: 128, transA: true),
      GemmShape(name: "dense backward dH", m: 128, n: d, k: c),
      GemmShape(name: "bag as a dense GEMM", m: 128, n: d, k: words),
      GemmShape(name: "wide as a dense GEMM", m: 128, n: c, k: nnz),
      GemmShape(name: "square 2048", m: 2048, n: 2048, k: 2048),
    ]
    figures += sgemmBenchmarks(shapes: shapes, reps: o.reps)
    if let work { figures += comparisons(figures, work: work) }
  }

  if o.only.contains("vectors") {
    note("pretrained vectors")
    figures.append(
      try vectorBenchmarks(
        path: glove, vocabulary: vocabulary,
        label: "R8 vocabulary (\(vocabulary.wordCount) words)", reps: o.reps))
    note("building the vocabulary of every GloVe word")
    let all = try fullVocabulary(vectorsPath: glove)
    figures.append(
      try vectorBenchmarks(
        path: glove, vocabulary: all, label: "every word (\(all.wordCount))",
        reps: max(3, o.reps / 2)))
  }

  if o.only.contains("model") {
    if let path = o.model {
      note("model load")
      figures += try modelBenchmarks(path: path, reps: o.reps)
      if let q = o.quarry {
        figures += try processBenchmarks(quarry: q, model: path, reps: o.reps)
      } else {
        note("no --quarry: the whole-process predict figure is skipped")
      }
    } else {
      note("no --model: the model-load figures are skipped")
    }
  }

  let df = ISO8601DateFormatter()
  return Report(
    date: df.string(from: Date()), machine: machineDescription(),
    cores: ProcessInfo.processInfo.activeProcessorCount, reps: o.reps, figures: figures)
}

/// The forward against sgemm: on the dense layer's own shape, and against the time sgemm
/// would take for the forward's flops in its three shapes if the rows were dense.
func comparisons(_ figures: [Figure], work: ForwardWork) -> [Figure] {
  func rate(_ name: String) -> Double? { figures.first { $0.name == name }?.median }
  var out: [Figure] = []
  for t in [1, 2] {
    let s = t == 1 ? "" : "s"
    guard let fwd = rate("forward, \(t) thread\(s)"),
      let dense = rate("dense forward, \(t) thread\(s)"),
      let bag = rate("bag as a dense GEMM, \(t) thread\(s)"),
      let wide = rate("wide as a dense GEMM, \(t) thread\(s)")
    else { continue }
    let sgemmTime = work.bagFlops / bag + work.wideFlops / wide + work.denseFlops / dense
    let sameShapes = work.flops / sgemmTime
    out.append(
      Figure(
        section: "ratio", name: "forward ÷ sgemm dense shape, \(t) thread\(s)", unit: "×",
        median: fwd / dense, samples: [fwd / dense],
        detail: String(
          format: "%.2f ÷ %.2f GFLOP/s (sgemm %d×C×D)", fwd, dense, 128),
        target: "≥ 0.5×", meets: fwd / dense >= 0.5))
    out.append(
      Figure(
        section: "ratio", name: "forward ÷ sgemm same flops & shapes, \(t) thread\(s)",
        unit: "×", median: fwd / sameShapes, samples: [fwd / sameShapes],
        detail: String(
          format: "%.2f ÷ %.2f GFLOP/s (bag, wide and dense each as a dense sgemm)", fwd,
          sameShapes),
        target: "≥ 0.5×", meets: fwd / sameShapes >= 0.5))
  }
  return out
}

if CommandLine.arguments.dropFirst().first == "tune" {
  do {
    try runTune(parseTuneArguments(Array(CommandLine.arguments.dropFirst(2))))
    exit(0)
  } catch {
    FileHandle.standardError.write(Data("quarry-microbench tune: \(error)\n".utf8))
    exit(1)
  }
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
do {
  let report = try run(options)
  if options.json { try printJSON(report) } else { printTable(report) }
} catch {
  FileHandle.standardError.write(Data("quarry-microbench: \(error)\n".utf8))
  exit(1)
}
