import ArgumentParser
import Foundation
import Quarry

// `quarry-microbench run`: Quarry's hot paths in release mode, each figure the median of
// several runs. Progress on stderr; a table (or, with --json, one JSON object) on stdout.

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Time the tokenizer, featurizer, forward pass, sgemm and loading.",
    discussion: """
      Sections (--only): text, the tokenizer, key extractor, featurizer and feature \
      matrix in MB/s of R8's training text; forward, Classifier.forward over a shuffled \
      epoch of R8 (B = 128) and its three kernels in GFLOP/s, with a 64 MiB sequential \
      read; sgemm, cblas_sgemm on the forward's shapes and on 2048³, and the forward ÷ \
      sgemm ratios when forward runs too; vectors, GloVe 50d through PretrainedVectors \
      (R8's words, then every word); model, ModelFile.read of --model and, with \
      --quarry, whole `quarry predict` and `quarry --version` processes.

      Needs R8's training split and GloVe 50d under --cache (Scripts/setup). Each figure \
      is the median of --reps timed runs after one warm-up.

      Examples:
        quarry-microbench --only text,forward --reps 3
        quarry-microbench run --model r8.qmodel --quarry .build/release/quarry --json
      """)

  @OptionGroup var cache: CacheOptions
  @Option(
    help: ArgumentHelp(
      "An R8 model from `quarry finetune`: its vocabulary and weights are used, and its load time measured.",
      discussion:
        "Without it the vocabulary is built here, the forward pass runs on random weights and the model figures are skipped.",
      valueName: "path"))
  var model: String?
  @Option(
    help: ArgumentHelp(
      "The quarry binary, for the whole-process predict figure.", valueName: "path"))
  var quarry: String?
  @Option(help: "Timed runs per figure, after one warm-up.") var reps = 7
  @Option(
    help: ArgumentHelp(
      "Sections to run, comma-separated: \(Section.names) (default: all).", valueName: "list"),
    transform: { try Section.list($0) })
  var only = Set(Section.allCases)
  @Flag(help: "Print one JSON object instead of the table.") var json = false

  func validate() throws {
    guard reps >= 1 else { throw ValidationError("--reps must be at least 1, got \(reps)") }
  }

  func run() throws {
    let report = try measure()
    if json { try printJSON(report) } else { printTable(report) }
  }

  /// The figures of every section --only names, in the table's order.
  func measure() throws -> Report {
    let inputs = try BenchInputs(cache: cache.root, modelPath: model)
    var figures: [Figure] = []
    var work: ForwardWork? = nil
    if only.contains(.text) { figures += textSection(inputs) }
    if only.contains(.forward) {
      let forward = forwardSection(inputs)
      figures += forward.figures
      work = forward.work
    }
    if only.contains(.sgemm) {
      figures += sgemmSection(inputs, work: work)
      if let work { figures += comparisons(figures, work: work) }
    }
    if only.contains(.vectors) { figures += try vectorsSection(inputs) }
    if only.contains(.model) { figures += try modelSection() }
    return Report(
      date: ISO8601DateFormatter().string(from: Date()), machine: machineDescription(),
      cores: ProcessInfo.processInfo.activeProcessorCount, reps: reps, figures: figures)
  }
}

/// The sections of a run, as --only names them.
enum Section: String, CaseIterable {
  case text, forward, sgemm, vectors, model

  static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

  /// The sections of a comma-separated list.
  static func list(_ text: String) throws -> Set<Section> {
    Set(
      try text.split(separator: ",").map { name in
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard let section = Section(rawValue: trimmed) else {
          throw ValidationError("unknown section '\(trimmed)' (sections: \(names))")
        }
        return section
      })
  }
}

/// What the sections share: R8's training texts, and the vocabulary and features of
/// --model, or a vocabulary built here.
struct BenchInputs {
  var cache: String
  var corpus: CorpusTexts
  var model: Model?
  var config: FeatureConfig
  var vocabulary: Vocabulary

  init(cache: String, modelPath: String?) throws {
    let trainPath = cache + "/corpora/r8/train.tsv"
    note("reading \(trainPath)")
    self.cache = cache
    corpus = try CorpusTexts(tsv: trainPath)
    model = try modelPath.map { try ModelFile.read($0) }
    config = model?.metadata.config.features ?? FeatureConfig()
    vocabulary =
      model?.vocabulary ?? Vocabulary.build(texts: corpus.texts, config: config).0
  }

  var glove: String { cache + "/vectors/glove.6B.50d.vec" }

  /// The model's classifier, or one of 50 dimensions with random embeddings.
  func classifier() -> Classifier {
    if let model { return model.classifier }
    var rng = SplitMix64(seed: 1)
    return Classifier(
      classes: corpus.labels.count, featureCount: vocabulary.featureCount,
      wordCount: vocabulary.wordCount, dim: 50,
      embedding: (0..<(vocabulary.wordCount * 50)).map { _ in rng.nextUnitFloat() - 0.5 })
  }
}

extension RunCommand {
  func textSection(_ inputs: BenchInputs) -> [Figure] {
    note("tokenizer and featurizer")
    return textBenchmarks(
      corpus: inputs.corpus, vocabulary: inputs.vocabulary, config: inputs.config, reps: reps)
  }

  func forwardSection(_ inputs: BenchInputs) -> (figures: [Figure], work: ForwardWork) {
    note("forward pass")
    let features = FeatureMatrix(
      texts: inputs.corpus.texts, vocabulary: inputs.vocabulary, config: inputs.config,
      threads: 2)
    let (figures, work) = forwardBenchmarks(
      model: inputs.classifier(), features: features, batch: 128, seed: 1, reps: reps)
    return (figures + [memoryBenchmark(reps: reps)], work)
  }

  /// sgemm on the forward's shapes: those of the model (or of the random classifier), with
  /// the words and non-zeros per document the forward section counted (or typical ones).
  func sgemmSection(_ inputs: BenchInputs, work: ForwardWork?) -> [Figure] {
    note("sgemm")
    let c = inputs.model?.classifier.classes ?? inputs.corpus.labels.count
    let d = inputs.model?.classifier.dim ?? 50
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
    return sgemmBenchmarks(shapes: shapes, reps: reps)
  }

  func vectorsSection(_ inputs: BenchInputs) throws -> [Figure] {
    note("pretrained vectors")
    let r8 = try vectorBenchmarks(
      path: inputs.glove, vocabulary: inputs.vocabulary,
      label: "R8 vocabulary (\(inputs.vocabulary.wordCount) words)", reps: reps)
    note("building the vocabulary of every GloVe word")
    let all = try fullVocabulary(vectorsPath: inputs.glove)
    let every = try vectorBenchmarks(
      path: inputs.glove, vocabulary: all, label: "every word (\(all.wordCount))",
      reps: max(3, reps / 2))
    return [r8, every]
  }

  func modelSection() throws -> [Figure] {
    guard let path = model else {
      note("no --model: the model-load figures are skipped")
      return []
    }
    note("model load")
    var figures = try modelBenchmarks(path: path, reps: reps)
    if let quarry {
      figures += try processBenchmarks(quarry: quarry, model: path, reps: reps)
    } else {
      note("no --quarry: the whole-process predict figure is skipped")
    }
    return figures
  }
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
