import ArgumentParser
import Foundation
import Quarry

/// Default values of the flags come from `TrainingConfig`, the one place they are set.
private let defaults = TrainingConfig()

struct FinetuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "finetune",
    abstract: "Train a classifier on a labelled corpus and write one model file.",
    discussion: """
      The embeddings start from --pretrained (word-vector text format, or a .safetensors \
      file with vocab.txt beside it) when given. With --valid, or a held-out share of the \
      training rows (--valid-fraction), the best epoch on it is kept; otherwise the last. \
      Progress goes to stderr; the model is written to a temporary name and renamed when \
      complete.

      The training state is saved to a checkpoint (OUTPUT.checkpoint by default) after an \
      epoch once --checkpoint-every seconds have passed since the last save, and when \
      SIGINT or SIGTERM stops the run (the state after its last whole epoch); it is \
      removed once the model is written. A run stopped by a signal, kill -9 or a crash \
      carries on from it when the same command is run again with --resume, and gives the \
      same model as a run that never stopped; run again without --resume, it refuses to \
      start until --force says to discard that checkpoint.

      --output and --checkpoint may not name an input (by any path or link), and a file \
      already at --output is replaced only when it is a Quarry model (or with --force).

      Examples:
        quarry finetune --train r8-train.tsv --pretrained glove.vec \\
          --output r8.qmodel
        quarry finetune --train r8-train.tsv --pretrained glove.vec \\
          --output r8.qmodel --resume
        # several labels a row ("tag1,tag2<TAB>text"): a multi-label model
        quarry finetune --train tags-train.tsv --pretrained glove.vec \\
          --output tags.qmodel
      """)

  @Option(help: "Training corpus.") var train: String
  @Option(help: "Where to write the model file.") var output: String
  @Option(help: "Validation corpus (default: none, or a share of --train with --valid-fraction).")
  var valid: String?
  @Option(help: "Pretrained vectors: .vec/.txt word vectors, or .safetensors + vocab.txt.")
  var pretrained: String?
  @Option(help: "Epochs.") var epochs: Int = defaults.epochs
  @Option(help: "Random seed: the same seed and thread count give the same model.")
  var seed: UInt64 = defaults.seed
  @Option(
    help: ArgumentHelp(
      "Learning rate per example (decays linearly to zero).",
      discussion:
        "Default: 2 × min(1, mean words per training row / 100), so short texts such as SMS messages (about 20 words: 0.41) take smaller steps than news articles (2)."
    )) var lr: Float?
  @Option(help: "Embedding learning rate as a multiple of --lr.") var embeddingLrScale: Float =
    defaults.embeddingLRScale
  @Option(help: "Dense-layer learning rate as a multiple of --lr.") var denseLrScale: Float =
    defaults.denseLRScale
  @Option(help: "Focal-loss γ on every row (0 = cross-entropy).") var lossGamma: Float = defaults
    .lossGamma
  @Option(
    help: ArgumentHelp(
      "L2 penalty on the wide part's rows (0: none).",
      discussion:
        "Default: \(TrainingConfig.unspacedWideL2) for a corpus mostly of scripts written without spaces (Chinese, Japanese, Thai), whose short rows train at the full rate; 0 otherwise."
    )) var wideL2: Float?
  @Option(
    help: ArgumentHelp(
      "Supervised term weights: each feature's idf times 1 + λ·igm, igm its concentration in one class (0: plain idf).",
      discussion:
        "Default: \(TrainingConfig.defaultIGM) for a single-label corpus; 0 for a multi-label one and with --stream."
    )) var igm: Float?
  @Option(help: "Minibatch size.") var batchSize: Int = defaults.batchSize
  @Option(help: "Embedding width without --pretrained (default: \(defaults.dim)).") var dim: Int?
  @Option(help: "Longest word n-gram (1 = words only).") var wordNgrams: Int = defaults.features
    .wordNgrams
  @Option(help: "Character n-gram lengths as MIN-MAX, e.g. 3-5 (default: none).")
  var charNgrams: String?
  @Option(help: "Drop features seen in fewer training rows than this.") var minCount: Int = defaults
    .minCount
  @Option(help: "Share of --train held out for validation when --valid is absent (0-0.5).")
  var validFraction: Float = defaults.validFraction
  @Option(help: "Class weights: balanced (N / (C·n_c)), sqrt or none.")
  var classWeights: ClassWeighting = defaults.classWeighting
  @Flag(help: "Drop punctuation tokens.") var noPunctuation = false
  @Option(help: "Folds of cross-fitting for mine-report's label checks (0 = off).")
  var crossFit: Int = defaults.crossFit
  @Option(
    help: "Epochs of each cross-fitting fold's model (at \(CrossFit.lrScale) times the base --lr).")
  var crossFitEpochs: Int = defaults.crossFitEpochs
  @Option(
    help: """
      Per-class offsets on the logits, fitted on the cross-fit scores to raise macro-F1: \
      tuned (kept when they raise the folds' macro-F1 by \(ClassBias.minimumGain) or more) or off.
      """)
  var classBias: ClassBias.Mode = defaults.classBias
  @Option(
    help: """
      Calibration: fitted (when the cross-fit scores are over-confident, one temperature \
      that softens the probabilities, half-way on a log scale to the one that minimises \
      their log loss) or off.
      """)
  var temperature: Temperature.Mode = defaults.temperature
  @Flag(
    help: """
      Train a multi-label model (one sigmoid output per class, every class above its \
      threshold predicted) even when no row has several labels. A corpus with several \
      labels on any row is multi-label without it.
      """)
  var multiLabel = false
  @Option(
    help: """
      Multi-label models: each class's decision threshold, tuned (by F1 on the cross-fit \
      scores) or half (0.5 for every class).
      """)
  var thresholds: Thresholds.Mode = .tuned
  @Option(help: "Where to save the training state (default: OUTPUT.checkpoint).")
  var checkpoint: String?
  @Option(
    help: """
      Seconds between checkpoint saves, at the end of an epoch (0: after every epoch). A \
      stop by SIGINT or SIGTERM saves the last whole epoch whenever the last save was.
      """)
  var checkpointEvery: Double = 30
  @Flag(help: "Save no checkpoint.") var noCheckpoint = false
  @Flag(help: "Carry on from the checkpoint of a stopped run with the same data and settings.")
  var resume = false
  @Flag(
    help:
      "Replace a file at --output that is not a Quarry model, and discard a stopped run's checkpoint instead of refusing to start."
  )
  var force = false
  @Option(
    help:
      "Refuse to train a model larger than this many MB (the wide part: features × classes × 4 bytes)."
  )
  var maxModelMb: Int = 2048
  @Flag(
    help: """
      Read --train in pieces instead of holding it (the default for a file over a quarter \
      of the memory): memory is bounded by the model, not the corpus. TSV, fastText or JSON \
      Lines; no checkpoints, cross-fitting, training dynamics or --valid-fraction.
      """)
  var stream = false
  @Option(help: "With --stream: the most words and n-grams counted (rare ones are pruned).")
  var maxFeatures: Int = 2_000_000
  @Flag(
    help:
      "Parse --pretrained's text every run, instead of keeping a binary copy in $QUARRY_CACHE/vector-cache."
  )
  var noVectorCache = false
  @OptionGroup(title: "Encoder") var encoder: EncoderOptions
  @Option(help: "With --encoder: the longest input in tokens (longer texts are cut).")
  var encoderMaxLength: Int = 256
  @Option(
    help: ArgumentHelp(
      "With --encoder: fine-tune the encoder's top N layers on the training corpus first (0: frozen).",
      discussion:
        "The layers below run once; the top N and a softmax head then train with AdamW, and the head's logits are added to the n-gram model's. The tuned layers are stored in the model. R8 with N = 2 takes minutes where frozen takes seconds; the outcome is cached like the vectors."
    ))
  var tuneLayers: Int = 0
  @Option(help: "With --tune-layers: epochs of tuning.") var tuneEpochs: Int = 3
  @Option(help: "With --tune-layers: AdamW's peak rate for the tuned layers.")
  var tuneLr: Float = 1e-4
  @OptionGroup(title: "Hard-negative mining, focal loss and augmentation") var mining: MiningOptions
  @OptionGroup var compute: ComputeOptions
  @OptionGroup var corpus: CorpusOptions

  func validate() throws {
    guard epochs >= 1, epochs <= 10_000 else { throw ValidationError("--epochs must be 1…10000") }
    if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive") }
    if let wideL2 {
      // Each step shrinks a row by 1 − η·λ, η up to the rate times the folds' scale.
      let fastest = (lr ?? defaults.learningRate) * CrossFit.lrScale
      guard wideL2 >= 0, wideL2 * fastest < 0.5 else {
        throw ValidationError(
          "--wide-l2 must be 0 or more and under \(0.5 / fastest) at this learning rate (a step shrinks a row by 1 − rate × λ), got \(wideL2)"
        )
      }
    }
    if let igm, !(igm >= 0 && igm <= 100) {
      throw ValidationError("--igm must be between 0 and 100, got \(igm)")
    }
    guard batchSize >= 1, batchSize <= 65_536 else {
      throw ValidationError("--batch-size must be 1…65536")
    }
    if let dim {
      guard dim >= 1, dim <= 4096 else { throw ValidationError("--dim must be 1…4096") }
      guard pretrained == nil else {
        throw ValidationError(
          "--dim sets the embedding width without --pretrained; with it, the vectors' width is used"
        )
      }
    }
    guard maxModelMb >= 1 else { throw ValidationError("--max-model-mb must be at least 1") }
    guard crossFit == 0 || (2...20).contains(crossFit) else {
      throw ValidationError("--cross-fit must be 0 (off) or 2…20")
    }
    guard crossFitEpochs >= 1 else {
      throw ValidationError("--cross-fit-epochs must be at least 1")
    }
    guard (1...5).contains(wordNgrams) else { throw ValidationError("--word-ngrams must be 1…5") }
    guard validFraction >= 0, validFraction <= 0.5 else {
      throw ValidationError("--valid-fraction must be between 0 and 0.5")
    }
    guard (8...4096).contains(encoderMaxLength) else {
      throw ValidationError("--encoder-max-length must be 8…4096")
    }
    guard maxFeatures >= 1000 else { throw ValidationError("--max-features must be at least 1000") }
    guard (0...64).contains(tuneLayers) else { throw ValidationError("--tune-layers must be 0…64") }
    if tuneLayers > 0 {
      guard encoder.encoder != nil else {
        throw ValidationError("--tune-layers needs --encoder (the layers to tune)")
      }
      guard !stream else { throw ValidationError("--tune-layers does not work with --stream") }
      guard (1...100).contains(tuneEpochs) else {
        throw ValidationError("--tune-epochs must be 1…100")
      }
      guard tuneLr > 0, tuneLr.isFinite else { throw ValidationError("--tune-lr must be positive") }
    }
    guard checkpointEvery >= 0, checkpointEvery.isFinite else {
      throw ValidationError("--checkpoint-every must be 0 or more seconds")
    }
    guard !(noCheckpoint && (resume || checkpoint != nil)) else {
      throw ValidationError("--no-checkpoint cannot go with --resume or --checkpoint")
    }
    _ = try charNgramRange()
  }

  func charNgramRange() throws -> (Int, Int) {
    guard let s = charNgrams else { return (0, 0) }
    let parts = s.split(separator: "-").compactMap { Int($0) }
    guard parts.count == 2, parts[0] >= 1, parts[1] >= parts[0], parts[1] <= 10 else {
      throw ValidationError("--char-ngrams takes MIN-MAX with 1 ≤ MIN ≤ MAX ≤ 10, e.g. 3-5")
    }
    return (parts[0], parts[1])
  }

  func run() throws {
    var config = TrainingConfig()
    config.epochs = epochs
    config.seed = seed
    config.threads = compute.threads
    if let lr {
      config.learningRate = lr
      config.scaleLearningRate = false
    }
    config.embeddingLRScale = embeddingLrScale
    config.batchSize = batchSize
    config.lossGamma = lossGamma
    config.wideL2 = wideL2
    config.igm = igm
    config.denseLRScale = denseLrScale
    config.dim = dim ?? defaults.dim
    config.maxModelBytes = maxModelMb << 20
    config.minCount = minCount
    config.validFraction = validFraction
    config.classWeighting = classWeights
    mining.apply(to: &config)
    config.crossFit = crossFit
    config.crossFitEpochs = crossFitEpochs
    config.classBias = classBias
    config.temperature = temperature
    config.features.wordNgrams = wordNgrams
    config.features.tokenizer.keepPunctuation = !noPunctuation
    (config.features.charNgramMin, config.features.charNgramMax) = try charNgramRange()

    let start = Date()
    if stream || FinetuneCommand.tooLargeToHold(train) {
      return try runStreaming(config: config, start: start)
    }
    let checkpointPath = noCheckpoint ? nil : (checkpoint ?? output + ".checkpoint")
    try checkTargets(checkpoint: checkpointPath)
    let trainCorpus = try corpus.read(train)
    let validCorpus = try checkInputs()
    let checkpointing = Finetune.Checkpointing(
      path: checkpointPath, interval: checkpointEvery, resume: resume)
    let frozen = try encoder.load(maxLength: encoderMaxLength, threads: compute.threads)
    let model = try underInterrupts(config: config, checkpoint: checkpointPath) { progress in
      try Finetune.run(
        train: trainCorpus, valid: validCorpus, pretrained: pretrained, config: config,
        thesaurus: config.mine && config.augment ? mining.thesaurusChoice() : .none,
        encoder: frozen, tuning: tuning(layers: frozen?.encoder.config.layers),
        vectorCache: vectorCache, checkpointing: checkpointing, multiLabel: multiLabel,
        thresholds: thresholds, shouldStop: { Interrupts.requested != 0 }, progress: progress)
    }
    try ModelFile.write(model, to: output, force: force)
    if let checkpointPath {
      OutputTarget(flag: "--checkpoint", path: checkpointPath, kind: .checkpoint).removeIfOwned()
    }
    let best = model.metadata.epochs.first { $0.epoch == model.metadata.bestEpoch }
    var summary = "wrote \(output) (best epoch \(model.metadata.bestEpoch)"
    if let a = best?.validAccuracy, let f = best?.validMacroF1 {
      summary += String(
        format: model.isMultiLabel
          ? ": valid subset accuracy %.4f, macro-F1 %.4f at 0.5"
          : ": valid accuracy %.4f, macro-F1 %.4f",
        a, f)
    }
    summary += String(format: ") in %.2f s", Date().timeIntervalSince(start))
    Diagnostics.note(summary)
  }

  /// The tuning settings, nil when no layer is tuned; an error when there are fewer layers.
  func tuning(layers: Int?) throws -> LayerTuner.Options? {
    guard tuneLayers > 0, let layers else { return nil }
    guard tuneLayers <= layers else {
      throw InputError(
        path: encoder.encoder ?? "--encoder",
        "this encoder has \(layers) layers, fewer than --tune-layers \(tuneLayers)")
    }
    return LayerTuner.Options(
      layers: tuneLayers, epochs: tuneEpochs, learningRate: tuneLr, seed: seed,
      threads: compute.threads)
  }

  /// Where the binary copies of pretrained text vectors are kept (nil: none).
  var vectorCache: String? {
    noVectorCache ? nil : cacheRoot + "/vector-cache"
  }

  /// A file larger than a quarter of the machine's memory is streamed.
  static func tooLargeToHold(_ path: String) -> Bool {
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    return UInt64(max(size, 0)) > ProcessInfo.processInfo.physicalMemory / 4
  }

  /// finetune with the corpus read in pieces (`StreamingFinetune`).
  func runStreaming(config: TrainingConfig, start: Date) throws {
    guard !resume, checkpoint == nil, encoder.encoder == nil, !multiLabel else {
      throw ValidationError(
        "--resume, --checkpoint, --encoder and --multi-label do not go with a streamed corpus")
    }
    if validFraction > 0 && valid == nil {
      Diagnostics.warn("--valid-fraction is not used with a streamed corpus: give --valid")
    }
    if let igm, igm > 0 {
      Diagnostics.warn("--igm is not used with a streamed corpus: its features keep plain idf")
    }
    try checkTargets(checkpoint: nil)
    let validCorpus = try checkInputs()
    let model = try underInterrupts(config: config, checkpoint: nil) { progress in
      try StreamingFinetune.run(
        train: train, format: corpus.dataFormat.format, skipBadRows: corpus.skipBadRows,
        labelSeparator: corpus.labelSeparator, valid: validCorpus, pretrained: pretrained,
        config: config, maxFeatures: maxFeatures,
        vectorCache: vectorCache, shouldStop: { Interrupts.requested != 0 }, progress: progress)
    }
    try ModelFile.write(model, to: output, force: force)
    Diagnostics.note(
      String(format: "wrote %@ in %.2f s", output, Date().timeIntervalSince(start)))
  }

  /// Reads --valid, and checks --pretrained exists, before any long work.
  func checkInputs() throws -> Corpus? {
    let validCorpus = try valid.map(corpus.read)
    if let pretrained, !FileManager.default.fileExists(atPath: pretrained) {
      throw InputError(path: pretrained, "no such file")
    }
    return validCorpus
  }

  /// Every file this run reads, with the flag that names it.
  var inputs: [(flag: String, path: String)] {
    var files = [("--train", train)]
    if let valid { files.append(("--valid", valid)) }
    if let pretrained {
      files.append(("--pretrained", pretrained))
      files.append(("--pretrained's vocab.txt", directory(of: pretrained) + "/vocab.txt"))
    }
    if let e = encoder.encoder {
      for name in ["model.safetensors", "config.json", "vocab.txt"] {
        files.append(("--encoder", e + "/" + name))
      }
    }
    for t in mining.thesaurusFiles { files.append(("--thesaurus", t)) }
    return files
  }

  /// Refuses, before any work, an --output or --checkpoint that names an input or each
  /// other, a file at either that is not of its kind (--output: unless --force), and a
  /// stopped run's checkpoint that neither --resume nor --force says what to do with.
  func checkTargets(checkpoint: String?) throws {
    let model = OutputTarget(flag: "--output", path: output, kind: .model)
    let saved = checkpoint.map { OutputTarget(flag: "--checkpoint", path: $0, kind: .checkpoint) }
    let targets = [model] + (saved.map { [$0] } ?? [])
    try model.check(inputs: inputs, others: targets, force: force)
    guard let saved else { return }
    try saved.check(inputs: inputs, others: targets, force: nil)
    if !resume && !force && FileIdentity(saved.path) != nil {
      throw InputError(
        path: saved.path,
        "the checkpoint of a stopped run is here: run with --resume to carry on from it, or with --force to start afresh and replace it"
      )
    }
  }

  /// Runs a trainer with SIGINT/SIGTERM caught and its progress on stderr. A signal ends
  /// it (during training, or after it, before the model is written) with `interrupted`.
  func underInterrupts(
    config: TrainingConfig, checkpoint: String?,
    _ body: ((Finetune.Event) -> Void) throws -> Model
  ) throws -> Model {
    Interrupts.install()
    let model: Model
    do {
      model = try body { event in
        switch event {
        case .note(let s): Diagnostics.note(s)
        case .warning(let s): Diagnostics.warn(s)
        case .training(let t): Diagnostics.show(t, epochs: config.epochs)
        }
      }
    } catch let stopped as Stopped {
      throw interrupted(during: stopped.stageWords, checkpoint: checkpoint)
    }
    if Interrupts.requested != 0 {
      throw interrupted(during: "the last steps", checkpoint: checkpoint)
    }
    return model
  }

  /// Says what a signal stopped and how to carry on; the exit status is 128 + the signal.
  func interrupted(during what: String, checkpoint: String?) -> ExitCode {
    let sig = Interrupts.requested
    var s = "stopped by \(Interrupts.name(sig)) during \(what); no model written to \(output)"
    if let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
      s += ". The state after the last whole epoch is in \(checkpoint): run the same command"
      s += " with --resume to carry on"
    }
    Diagnostics.note(s)
    return ExitCode(128 + sig)
  }
}
