import Foundation

/// The model file, one file in the `TensorFile` container (`FileKind.model`, version 1, or
/// 2 with tuned encoder layers): a JSON `ModelMetadata`, then the tensors (wide,
/// embedding, dense, bias, the encoder part W_u, idf, the feature index, the tuned encoder
/// layers, and the training dynamics when there are any), then a checksum.
///
/// `write` builds the bytes, writes them to a temporary name beside the target and renames
/// it, so a crash never leaves half a model under the real name. `read` checks the
/// checksum first, then every length and shape, and throws `InputError` on any mismatch.
public enum ModelFile {
  /// Version 2: a model with tuned encoder layers (`encoder.tuned.*`), which a reader of
  /// version 1 would run on the frozen encoder; every other model is written as version 1.
  public static let version: UInt32 = 2

  public static func encode(_ model: Model) throws -> [UInt8] {
    TensorFile.concatenated(try parts(model))
  }

  /// The file as `TensorFile.parts`: header and metadata, the tensor section, the checksum.
  static func parts(_ model: Model) throws -> [[UInt8]] {
    var t = TensorFile.Builder()
    let c = model.classifier
    let v = model.vocabulary
    t.add("wide", c.wide)
    t.add("embedding", c.embedding)
    t.add("dense", c.dense)
    t.add("bias", c.bias)
    if c.encoderDim > 0 { t.add("encoder.weights", c.encoderWeights) }
    BertLayerWeights.add(model.tunedLayers, prefix: "encoder.tuned", to: &t)
    t.add("idf", v.idf)
    t.add("index.keys", v.index.slotKeys)
    t.add("index.rows", v.index.slotRows)
    if let dyn = model.dynamics, let lines = model.trainLines {
      t.add("dynamics.lines", lines)
      t.add("dynamics.pgold", dyn.pGold)
      t.add("dynamics.predicted", dyn.predicted)
      if let held = model.heldOut, held.count == lines.count * c.classes {
        t.add("heldout.probs", held)
        if let hd = model.heldOutDynamics, hd.rows == lines.count {
          t.add("heldout.pgold", hd.pGold)
          t.add("heldout.predicted", hd.predicted)
        }
      }
    }
    // The directory is rebuilt: a decoded model carries the one of its old file.
    return try TensorFile.parts(
      .model, version: model.tunedLayers.isEmpty ? 1 : 2, metadata: model.metadata, tensors: t)
  }

  /// Writes `model` to `path` atomically (temporary file in the same directory, renamed);
  /// a file already there is replaced only when it is a model file, or with `force`.
  public static func write(_ model: Model, to path: String, force: Bool = false) throws {
    try AtomicFile.write(parts: try parts(model), to: path, kind: .model, force: force)
  }

  public static func read(_ path: String) throws -> Model {
    try decode(try FileContents.open(path), path: path)
  }

  public static func decode(_ bytes: [UInt8], path: String) throws -> Model {
    try decode(FileContents(bytes), path: path)
  }

  static func decode(_ bytes: FileContents, path: String) throws -> Model {
    let (file, meta) = try TensorFile.read(
      .model, bytes, path: path, maxVersion: version, as: ModelMetadata.self)
    let fail = file.fail
    let tensors = meta.tensors
    let c = meta.classes
    let d = meta.dim
    let f = meta.featureCount
    let w = meta.wordCount
    guard c >= 2, c == meta.labels.count, d >= 1, d <= 1 << 16, f >= w, w >= 0, f <= 1 << 31
    else {
      throw fail(
        "shape classes \(c) / labels \(meta.labels.count), dim \(d), features \(f), words \(w)")
    }
    let fc = meta.config.features
    guard (1...5).contains(fc.wordNgrams),
      (fc.charNgramMin == 0 && fc.charNgramMax == 0)
        || (1...10).contains(fc.charNgramMin) && (fc.charNgramMin...10).contains(fc.charNgramMax)
    else {
      throw fail(
        "feature settings: word n-grams \(fc.wordNgrams), character n-grams \(fc.charNgramMin)-\(fc.charNgramMax)"
      )
    }
    guard Set(meta.labels).count == meta.labels.count, !meta.labels.contains("") else {
      throw fail("labels are empty or repeated")
    }
    let keysEntry = meta.tensors.first { $0.name == "index.keys" }
    let slots = keysEntry?.count ?? 0
    let wide = try file.floatsInPlace("wide", f * c, in: tensors)
    let embedding = try file.floats("embedding", w * d, in: tensors)
    let dense = try file.floats("dense", c * d, in: tensors)
    let bias = try file.floats("bias", c, in: tensors)
    let h = meta.encoder?.hidden ?? 0
    guard h >= 0, h <= 1 << 16 else { throw fail("encoder width \(h)") }
    let encoderWeights = h > 0 ? try file.floats("encoder.weights", c * h, in: tensors) : []
    let tunedCount = meta.encoder?.tunedLayers ?? 0
    guard (0...64).contains(tunedCount) else { throw fail("tuned encoder layers \(tunedCount)") }
    let tuned = try BertLayerWeights.read(
      file, prefix: "encoder.tuned", count: tunedCount, hidden: h, in: tensors)
    if tunedCount > 0, BertLayerWeights.checksum(tuned) != meta.encoder?.tunedChecksum {
      throw fail("tuned encoder layers do not match their checksum")
    }
    let idf = try file.floats("idf", f, in: tensors)
    let keys = try file.uint64s("index.keys", slots, in: tensors)
    let rows = try file.int32s("index.rows", slots, in: tensors)
    guard let index = FeatureIndex(slotKeys: keys, slotRows: rows, count: f) else {
      throw fail("feature index does not hold \(f) features")
    }
    guard
      var classifier = Classifier(
        classes: c, featureCount: f, wordCount: w, dim: d, wide: wide, embedding: embedding,
        dense: dense, bias: bias, encoderDim: h, encoderWeights: encoderWeights)
    else { throw fail("weights do not fit the shapes") }
    if let multi = meta.multiLabel {
      guard multi.thresholds.count == c,
        multi.thresholds.allSatisfy({ $0.isFinite && $0 > 0 && $0 < 1 })
      else { throw fail("multi-label thresholds") }
      classifier.output = .sigmoid
    }
    // Training dynamics, when the file has them.
    var dynamics: Dynamics? = nil
    var trainLines: [Int32]? = nil
    var heldOut: [Float]? = nil
    var heldOutDynamics: Dynamics? = nil
    if let linesEntry = meta.tensors.first(where: { $0.name == "dynamics.lines" }) {
      let rows = linesEntry.count
      guard rows > 0 else { throw fail("dynamics shapes") }
      trainLines = try file.int32s("dynamics.lines", rows, in: tensors)
      guard
        let d = try Self.dynamics(file, prefix: "dynamics", rows: rows, classes: c, in: tensors)
      else { throw fail("dynamics shapes") }
      dynamics = d
      if meta.tensors.contains(where: { $0.name == "heldout.probs" }) {
        let held = try file.floats("heldout.probs", rows * c, in: tensors)
        guard held.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
          throw fail("held-out probabilities")
        }
        heldOut = held
        heldOutDynamics = try Self.dynamics(
          file, prefix: "heldout", rows: rows, classes: c, in: tensors)
      }
    }
    var model = Model(
      metadata: meta, vocabulary: Vocabulary(index: index, wordCount: w, idf: idf),
      classifier: classifier, dynamics: dynamics, trainLines: trainLines, heldOut: heldOut,
      heldOutDynamics: heldOutDynamics)
    model.tunedLayers = tuned
    return model
  }

  /// The dynamics stored as `prefix.pgold` and `prefix.predicted` (epoch-major, `rows` a
  /// epoch), or nil when the file has none.
  static func dynamics(
    _ file: TensorFile.Parsed, prefix: String, rows: Int, classes c: Int,
    in tensors: [TensorFile.Entry]
  ) throws -> Dynamics? {
    guard let entry = tensors.first(where: { $0.name == prefix + ".pgold" }) else { return nil }
    let cells = entry.count
    guard cells % rows == 0 else { throw file.fail("\(prefix) shapes") }
    let pGold = try file.floats(prefix + ".pgold", cells, in: tensors)
    let predicted = try file.int32s(prefix + ".predicted", cells, in: tensors)
    guard predicted.allSatisfy({ $0 >= 0 && Int($0) < c }), pGold.allSatisfy({ $0.isFinite }),
      let d = Dynamics(rows: rows, pGold: pGold, predicted: predicted)
    else { throw file.fail("\(prefix) values") }
    return d
  }
}
