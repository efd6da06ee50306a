import COpenBLAS
import Foundation

/// A BERT-family encoder (such as all-MiniLM-L6-v2) that runs on OpenBLAS: texts in, one
/// mean-pooled and one [CLS] vector per text out.
///
/// The forward pass over a batch of packed sequences (R = Σ L_b rows, no padding):
///
///     x   = LayerNorm(word[id] + position[p] + type[0])                    R×H
///     per layer:
///       qkv = x·W_qkvᵀ + b_qkv                                             R×3H   one sgemm
///       c   = attention(qkv), per sequence and head                        R×H
///       x   = LayerNorm(x + c·W_oᵀ + b_o)                                  R×H
///       f   = GELU(x·W_1ᵀ + b_1)                                           R×I
///       x   = LayerNorm(x + f·W_2ᵀ + b_2)                                  R×H
///     mean[b] = average of x over b's rows;  cls[b] = x[b's first row]
///
/// Texts are sorted by token count (longest first) and taken `batchSize` at a time, so
/// each batch holds texts of similar length; results come back in input order.
/// Cost per token: about 2·layers·(4H² + 2HI) flops plus 4·L·H per layer for attention.
public struct BertEncoder: Sendable {
  public let config: BertConfig
  public let weights: BertWeights
  public let tokenizer: WordPiece
  /// Where the encoder came from, for error messages.
  public let source: String

  /// Reads `config.json`, `model.safetensors` and `vocab.txt` from `directory`.
  public static func load(directory: String) throws -> BertEncoder {
    let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue
    else {
      throw InputError(
        path: dir, "not a directory (expected model.safetensors, config.json, vocab.txt)")
    }
    let config = try BertConfig.load(path: dir + "/config.json")
    let tokenizer = try WordPiece.load(path: dir + "/vocab.txt")
    guard tokenizer.tokens.count <= config.vocabSize else {
      throw InputError(
        path: dir + "/vocab.txt",
        "\(tokenizer.tokens.count) tokens, but config.json says vocab_size \(config.vocabSize)")
    }
    let weights = try BertWeights.load(path: dir + "/model.safetensors", config: config)
    return BertEncoder(config: config, weights: weights, tokenizer: tokenizer, source: dir)
  }

  /// The token ids of each text ([CLS] … [SEP], at most `maxLength`, itself capped at the
  /// model's positions), tokenized on `threads` threads.
  public func tokenize(_ texts: [String], maxLength: Int = 256, threads: Int = 1) -> [[Int32]] {
    let cap = min(maxLength, config.maxPositions)
    var out = [[Int32]](repeating: [], count: texts.count)
    let parts = max(1, min(threads, texts.count / 16))
    out.withUnsafeMutableBufferPointer { o in
      parallelFor(parts) { part in
        for i in chunk(texts.count, part: part, parts: parts) {
          o[i] = tokenizer.encode(texts[i], maxLength: cap)
        }
      }
    }
    return out
  }

  /// Encodes `texts`: rows in input order. `progress(done, total)` is called after each
  /// batch with the texts encoded so far.
  public func encode(
    _ texts: [String], options: EncodeOptions = EncodeOptions(),
    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
  ) throws -> EncoderFeatures {
    try encode(
      ids: tokenize(texts, maxLength: options.maxLength, threads: options.threads),
      options: options, progress: progress)
  }

  /// Encodes sequences of token ids (as `tokenize` makes them): rows in input order. Every
  /// id must be below the vocabulary size and every sequence non-empty and no longer than
  /// the model's positions. `progress(done, total)` is called after each batch.
  public func encode(
    ids: [[Int32]], options: EncodeOptions = EncodeOptions(),
    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
  ) throws -> EncoderFeatures {
    let h = config.hidden
    try check(ids: ids)
    let order = ids.indices.sorted {
      ids[$0].count > ids[$1].count || (ids[$0].count == ids[$1].count && $0 < $1)
    }
    let batch = max(1, options.batchSize)
    let threads = max(1, options.threads)
    var mostRows = 0
    for start in stride(from: 0, to: order.count, by: batch) {
      let rows = order[start..<min(start + batch, order.count)].reduce(0) { $0 + ids[$1].count }
      mostRows = max(mostRows, rows)
    }
    var mean = [Float](repeating: 0, count: ids.count * h)
    var cls = [Float](repeating: 0, count: ids.count * h)
    var flops = 0.0
    let previousThreads = openblas_get_num_threads()
    setBLASThreads(1)
    defer { setBLASThreads(Int(previousThreads)) }
    let ws = EncoderWorkspace(rows: mostRows, config: config)
    mean.withUnsafeMutableBufferPointer { m in
      cls.withUnsafeMutableBufferPointer { c in
        for start in stride(from: 0, to: order.count, by: batch) {
          let members = Array(order[start..<min(start + batch, order.count)])
          let lengths = members.map { ids[$0].count }
          let packed = members.flatMap { ids[$0] }
          flops += forward(packed: packed, lengths: lengths, workspace: ws, threads: threads)
          poolForward(
            ws.x, lengths: lengths, hidden: h, rowOf: members, mean: m.base, cls: c.base)
          progress(start + members.count, ids.count)
        }
      }
    }
    return EncoderFeatures(
      rows: ids.count, hidden: h, mean: mean, cls: cls, lengths: ids.map(\.count), flops: flops)
  }

  /// Throws an `InputError` unless every sequence is non-empty, no longer than the model's
  /// positions, and holds only ids below the vocabulary size.
  func check(ids: [[Int32]]) throws {
    for (i, seq) in ids.enumerated() {
      guard !seq.isEmpty, seq.count <= config.maxPositions else {
        throw InputError(
          path: source,
          "sequence \(i) has \(seq.count) tokens; expected 1...\(config.maxPositions)")
      }
      if let bad = seq.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
        throw InputError(
          path: source, "sequence \(i) holds token id \(bad), outside 0..<\(config.vocabSize)")
      }
    }
  }

  /// The forward pass of one batch of packed sequences, leaving the vectors after the first
  /// `layerCount` layers (default all) in `workspace.x` ((Σ lengths)×H). Returns the flops
  /// of its sgemms and attention.
  func forward(
    packed ids: [Int32], lengths: [Int], workspace ws: EncoderWorkspace, threads: Int,
    layerCount: Int? = nil
  ) -> Double {
    let c = config
    let (h, rows) = (c.hidden, ids.count)
    let count = min(layerCount ?? weights.layers.count, weights.layers.count)
    embeddingForward(ws.x, ids: ids, lengths: lengths, weights: weights, hidden: h)
    layerNormForward(
      ws.x, scale: weights.embeddingNormScale, shift: weights.embeddingNormShift, rows: rows, n: h,
      eps: c.layerNormEps, threads: threads)
    for l in weights.layers.prefix(count) {
      layerForward(l, lengths: lengths, workspace: ws, threads: threads)
    }
    return BertEncoder.flops(lengths: lengths, config: c) * Double(count)
      / Double(max(c.layers, 1))
  }

  /// One transformer block over the packed rows in `workspace.x` ((Σ lengths)×H), in place.
  func layerForward(
    _ l: BertLayerWeights, lengths: [Int], workspace ws: EncoderWorkspace, threads: Int
  ) {
    let c = config
    let (h, i) = (c.hidden, c.intermediate)
    let rows = lengths.reduce(0, +)
    sgemmLinearForward(
      ws.qkv, ws.x, weight: l.qkv, bias: l.qkvBias, rows: rows, n: h, m: 3 * h, threads: threads)
    attentionForward(
      ws.ctx, qkv: ws.qkv, lengths: lengths, hidden: h, heads: c.heads, threads: threads)
    sgemmLinearForward(
      ws.x, ws.ctx, weight: l.attentionOut, bias: l.attentionOutBias, rows: rows, n: h, m: h,
      accumulate: true, threads: threads)
    layerNormForward(
      ws.x, scale: l.attentionNormScale, shift: l.attentionNormShift, rows: rows, n: h,
      eps: c.layerNormEps, threads: threads)
    sgemmLinearForward(
      ws.ffn, ws.x, weight: l.ffnIn, bias: l.ffnInBias, rows: rows, n: h, m: i, threads: threads)
    geluForward(ws.ffn, count: rows * i, threads: threads)
    sgemmLinearForward(
      ws.x, ws.ffn, weight: l.ffnOut, bias: l.ffnOutBias, rows: rows, n: i, m: h, accumulate: true,
      threads: threads)
    layerNormForward(
      ws.x, scale: l.outputNormScale, shift: l.outputNormShift, rows: rows, n: h,
      eps: c.layerNormEps, threads: threads)
  }

  /// The sgemm and attention flops of one forward pass over sequences of these lengths:
  /// per layer 2·R·(3H² + H² + 2HI) for the projections plus Σ_b 4·L_b²·H for attention.
  public static func flops(lengths: [Int], config c: BertConfig) -> Double {
    let h = Double(c.hidden)
    let rows = Double(lengths.reduce(0, +))
    let squares = lengths.reduce(0.0) { $0 + Double($1) * Double($1) }
    let perLayer = 2 * rows * (4 * h * h + 2 * h * Double(c.intermediate)) + 4 * squares * h
    return Double(c.layers) * perLayer
  }
}

/// The forward pass's buffers, allocated once per `encode` for its largest batch.
final class EncoderWorkspace {
  let x: UnsafeMutablePointer<Float>
  let qkv: UnsafeMutablePointer<Float>
  let ctx: UnsafeMutablePointer<Float>
  let ffn: UnsafeMutablePointer<Float>

  init(rows: Int, config: BertConfig) {
    let r = max(rows, 1)
    x = .allocate(capacity: r * config.hidden)
    qkv = .allocate(capacity: r * 3 * config.hidden)
    ctx = .allocate(capacity: r * config.hidden)
    ffn = .allocate(capacity: r * config.intermediate)
  }

  deinit {
    x.deallocate()
    qkv.deallocate()
    ctx.deallocate()
    ffn.deallocate()
  }
}
