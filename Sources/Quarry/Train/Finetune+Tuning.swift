import Foundation

extension Finetune {
  /// Fine-tunes the encoder's top `options.layers` layers on the training texts and labels
  /// (`LayerTuner`: the layers below run once, the tuned ones and a softmax head train
  /// with AdamW), and returns the tuned encoder and its head.
  ///
  /// A yes from `shouldStop` ends it with `Stopped`.
  /// The outcome (the tuned layers and the head) is cached beside the encoder vectors,
  /// named by the frozen weights, the texts, the labels and every tuning setting, so a
  /// second finetune of the same corpus reads it instead of tuning again.
  static func tuneNoting(
    _ encoder: FrozenEncoder, _ texts: [String], labels: [Int32], classes: Int,
    options: LayerTuner.Options, shouldStop: () -> Bool = { false }, progress: (Event) -> Void
  ) throws -> (FrozenEncoder, TunedLayers) {
    let clock = ContinuousClock()
    let start = clock.now
    func seconds() -> Double { (clock.now - start).seconds }
    let path = tuningCachePath(encoder, texts, labels: labels, options: options)
    if let path, let cached = readTuning(path, encoder: encoder, classes: classes),
      cached.layers.count == options.layers
    {
      progress(
        .note(
          String(
            format: "encoder: top %d layer%@ as tuned before, read from the cache (%.2f s)",
            cached.layers.count, cached.layers.count == 1 ? "" : "s", seconds())))
      return (try encoder.tuned(cached.layers), cached)
    }
    let inputs = try tuningInputsNoting(
      encoder, texts, options: options, shouldStop: shouldStop, progress: progress)
    var epochLoss: (epoch: Int, sum: Double, batches: Int) = (0, 0, 0)
    func noteEpoch() {
      progress(
        .note(
          String(
            format: "encoder: tuning epoch %d/%d  loss %.4f  (%.0f s)", epochLoss.epoch + 1,
            options.epochs, epochLoss.sum / Double(epochLoss.batches), seconds())))
    }
    let tuned = try LayerTuner.train(
      encoder: encoder.encoder, inputs: inputs, labels: labels, classes: classes,
      options: options, shouldStop: shouldStop
    ) { epoch, _, loss in
      if epoch != epochLoss.epoch, epochLoss.batches > 0 {
        noteEpoch()
        epochLoss = (epoch, 0, 0)
      }
      epochLoss.epoch = epoch
      epochLoss.sum += Double(loss)
      epochLoss.batches += 1
    }
    if epochLoss.batches > 0 { noteEpoch() }
    if let path, let dir = encoder.cacheDirectory {
      // A cache that cannot be written only costs time next run.
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      try? writeTuning(path, tuned, encoder: encoder)
    }
    progress(
      .note(
        String(
          format: "encoder: top %d layer%@ tuned in %.1f s", tuned.layers.count,
          tuned.layers.count == 1 ? "" : "s", seconds())))
    return (try encoder.tuned(tuned.layers), tuned)
  }

  /// The training texts through the encoder's frozen layers (`LayerTuner.inputs`), with a
  /// note every 10 s and one at the end.
  static func tuningInputsNoting(
    _ encoder: FrozenEncoder, _ texts: [String], options: LayerTuner.Options,
    shouldStop: () -> Bool, progress: (Event) -> Void
  ) throws -> LayerTuner.Inputs {
    let clock = ContinuousClock()
    let start = clock.now
    let e = encoder.encoder
    let ids = e.tokenize(texts, maxLength: encoder.maxLength, threads: options.threads)
    var lastNote = start
    let inputs = try LayerTuner.inputs(
      encoder: e, ids: ids, tunedLayers: options.layers, threads: options.threads,
      shouldStop: shouldStop
    ) { done, total in
      if clock.now - lastNote > .seconds(10) {
        lastNote = clock.now
        progress(.note("encoder: \(done) of \(total) training texts through the frozen layers"))
      }
    }
    progress(
      .note(
        String(
          format: "encoder: %d training texts (%d tokens) through the %d frozen layers in %.1f s",
          texts.count, inputs.tokens, inputs.firstLayer, (clock.now - start).seconds)))
    return inputs
  }

  /// The n-gram classifier with the tuned head as its encoder part:
  /// z = z_n-gram + W_head·u + b_head, the head's bias folded into the classifier's.
  static func joined(_ c: Classifier, tuned: TunedLayers) -> Classifier {
    guard
      let joined = Classifier(
        classes: c.classes, featureCount: c.featureCount, wordCount: c.wordCount, dim: c.dim,
        wide: c.wide, embedding: c.embedding, dense: c.dense,
        bias: zip(c.bias, tuned.headBias).map { $0 + $1 }, encoderDim: tuned.hidden,
        encoderWeights: tuned.head)
    else { preconditionFailure("the tuned head's shape is the classifier's") }
    return joined
  }

  struct TuningCacheMetadata: TensorMetadata {
    var weightsSHA256: String
    var classes, hidden, layers: Int
    var tensors: [ModelMetadata.TensorEntry] = []
  }

  /// The cache file of a tuning run: frozen weights, config and vocabulary, texts, labels, maximum length and
  /// every tuning setting (threads aside: they do not change the result).
  static func tuningCachePath(
    _ encoder: FrozenEncoder, _ texts: [String], labels: [Int32], options o: LayerTuner.Options
  ) -> String? {
    guard let dir = encoder.cacheDirectory else { return nil }
    var sum = Checksum.Stream()
    withUnsafeBytes(of: encoder.setupChecksum.littleEndian) { sum.update($0) }
    FrozenEncoder.add(texts, to: &sum)
    labels.withUnsafeBytes { sum.update($0) }
    // The tuner's version: bumped whenever its math changes, so old files are not read.
    let settings =
      "tuner 1 \(o.layers) \(o.epochs) \(o.learningRate) \(o.headLearningRate) \(o.weightDecay) "
      + "\(o.batchSize) \(o.warmup) \(o.clipNorm) \(o.seed) \(encoder.maxLength)"
    var s = settings
    s.withUTF8 { sum.update(UnsafeRawBufferPointer($0)) }
    let key = String(sum.finish(), radix: 16)
    return "\(dir)/\(encoder.weightsSHA256.prefix(16))-tune-\(key)-\(texts.count).qtune"
  }

  static func readTuning(_ path: String, encoder: FrozenEncoder, classes: Int) -> TunedLayers? {
    guard
      let (file, meta) = TensorFile.readCache(
        .tuningCache, path: path, as: TuningCacheMetadata.self),
      meta.weightsSHA256 == encoder.weightsSHA256, meta.classes == classes,
      meta.hidden == encoder.hidden,
      let layers = try? BertLayerWeights.read(
        file, prefix: "layer", count: meta.layers, hidden: meta.hidden, in: meta.tensors),
      layers.allSatisfy({ $0.fits(encoder.encoder.config) }),
      let w = try? file.floats("head", classes * meta.hidden, in: meta.tensors),
      let b = try? file.floats("head_bias", classes, in: meta.tensors)
    else { return nil }
    return TunedLayers(
      firstLayer: encoder.encoder.config.layers - layers.count, layers: layers, classes: classes,
      head: w, headBias: b)
  }

  static func writeTuning(
    _ path: String, _ tuned: TunedLayers, encoder: FrozenEncoder
  ) throws {
    var t = TensorFile.Builder()
    BertLayerWeights.add(tuned.layers, prefix: "layer", to: &t)
    t.add("head", tuned.head)
    t.add("head_bias", tuned.headBias)
    let meta = TuningCacheMetadata(
      weightsSHA256: encoder.weightsSHA256, classes: tuned.classes, hidden: encoder.hidden,
      layers: tuned.layers.count)
    try TensorFile.write(.tuningCache, metadata: meta, tensors: t, to: path, sync: false)
  }
}
