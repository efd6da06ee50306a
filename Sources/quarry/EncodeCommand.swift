import ArgumentParser
import Foundation
import Quarry

/// A measuring tool for the transformer encoder: encodes texts with a BERT-family
/// checkpoint and reports its throughput on stderr.
struct EncodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Encode texts with a BERT-family checkpoint and report the throughput.",
    discussion: """
      Reads a folder with model.safetensors, config.json and vocab.txt. The input
      is one text per line, or with --corpus a labelled corpus (its texts).
      Prints tokens/s, docs/s and the GFLOP/s of the forward pass on stderr;
      --output writes the pooled vectors as a float32 .npy (rows × hidden).
      --sgemm also times cblas_sgemm alone on the encoder's shapes.

      Example:
        quarry encode --encoder ~/.cache/quarry/encoder/all-minilm-l6-v2 \\
          --input r8/train.tsv --corpus --limit 500
      """,
    shouldDisplay: false)

  @Option(help: "Checkpoint folder (model.safetensors, config.json, vocab.txt).")
  var encoder: String
  @Option(help: "Texts, one per line (or a corpus with --corpus).") var input: String
  @Flag(help: "Read --input as a labelled corpus (any of the four formats).")
  var corpus = false
  @Option(help: "Encode only the first N texts.") var limit: Int?
  @Option(help: "Tokens per text, [CLS] and [SEP] included.") var maxLength: Int = 256
  @Option(help: "Texts per forward pass.") var batch: Int = 32
  @Option(help: "Pooling written by --output: mean or cls.") var pooling: Pooling = .mean
  @Option(help: "Write the pooled vectors here (.npy, float32, rows × hidden).")
  var output: String?
  @Flag(help: "Replace a file already at --output.") var force = false
  @Flag(name: .customLong("sgemm"), help: "Also time cblas_sgemm alone on the encoder's shapes.")
  var timeSgemmAlone = false
  @OptionGroup var compute: ComputeOptions

  func validate() throws {
    guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
    guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
    guard (limit ?? 1) >= 1 else { throw ValidationError("--limit must be at least 1") }
  }

  func run() throws {
    var texts: [String]
    if corpus {
      let c = try CorpusReader.read(path: input)
      texts = c.examples.map(\.text)
    } else {
      texts = try TextLines.split(FileBytes.read(input, allowEmpty: true), path: input)
    }
    if let limit { texts = Array(texts.prefix(limit)) }
    if let output {
      try OutputTarget(flag: "--output", path: output, kind: .foreign).check(
        inputs: [("--input", input)]
          + ["model.safetensors", "config.json", "vocab.txt"].map {
            ("--encoder", encoder + "/" + $0)
          },
        force: force)
    }

    Diagnostics.adviseOnBLAS()
    var clock = ContinuousClock.now
    let model = try BertEncoder.load(directory: encoder)
    let loadSeconds = seconds(since: clock)
    let options = EncodeOptions(maxLength: maxLength, batchSize: batch, threads: compute.threads)

    clock = .now
    let ids = model.tokenize(texts, maxLength: maxLength, threads: compute.threads)
    let tokenizeSeconds = seconds(since: clock)
    clock = .now
    let cpuStart = cpuSeconds()
    let features = try model.encode(ids: ids, options: options)
    let encodeSeconds = seconds(since: clock)
    let encodeCPU = cpuSeconds() - cpuStart

    let total = tokenizeSeconds + encodeSeconds
    let tokens = Double(features.tokens)
    Diagnostics.note(
      "loaded \(encoder) in \(f1(loadSeconds)) s: \(model.config.layers) layers, hidden "
        + "\(model.config.hidden), \(model.config.heads) heads, FFN \(model.config.intermediate)")
    Diagnostics.note(
      "\(texts.count) texts, \(features.tokens) tokens (mean \(f1(tokens / Double(max(texts.count, 1))))"
        + ", \(features.lengths.filter { $0 == min(maxLength, model.config.maxPositions) }.count) truncated)"
        + ", \(compute.threads) threads, batch \(batch), max length \(maxLength)")
    Diagnostics.note(
      "tokenize \(f2(tokenizeSeconds)) s, encode \(f2(encodeSeconds)) s: "
        + "\(Int(tokens / total)) tokens/s, \(f1(Double(texts.count) / total)) docs/s, "
        + "\(f1(features.flops / encodeSeconds / 1e9)) GFLOP/s "
        + "(\(f1(features.flops / 1e9)) GFLOP in sgemm and attention)")
    Diagnostics.note(
      "encode used \(f2(encodeCPU)) CPU s (\(f2(encodeCPU / encodeSeconds)) cores busy): "
        + "\(Int(tokens / encodeCPU)) tokens per CPU second, "
        + "\(f1(features.flops / encodeCPU / 1e9)) GFLOP per CPU second")

    if timeSgemmAlone { timeSgemm(model.config, rows: min(features.tokens, batch * maxLength)) }
    if let output {
      try writeNpy(
        output, pooling == .mean ? features.mean : features.cls, rows: features.rows,
        cols: features.hidden)
    }
  }

  /// Times cblas_sgemm alone on the encoder's projections, x (rows×H) · Wᵀ, with OpenBLAS on
  /// all threads, and with OpenBLAS on one thread over `threads` row ranges (as the
  /// encoder runs it).
  func timeSgemm(_ c: BertConfig, rows: Int) {
    let h = c.hidden
    let shapes = [
      ("QKV", h, 3 * h), ("attention out", h, h), ("FFN in", h, c.intermediate),
      ("FFN out", c.intermediate, h),
    ]
    let threads = compute.threads
    for (name, n, m) in shapes {
      let x = [Float](repeating: 0.01, count: rows * n)
      let w = [Float](repeating: 0.02, count: m * n)
      var out = [Float](repeating: 0, count: rows * m)
      let flops = 2 * Double(rows) * Double(n) * Double(m)
      var line = "sgemm \(name) (\(rows)×\(n))·(\(n)×\(m)):"
      for split in [false, true] {
        setBLASThreads(split ? 1 : threads)
        let parts = split ? threads : 1
        var best = Double.infinity
        for _ in 0..<5 {
          let start = ContinuousClock.now
          x.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
              out.withUnsafeMutableBufferPointer { op in
                let (xb, wb, ob) = (xp.base, wp.base, op.base)
                parallelFor(parts) { part in
                  let r = chunk(rows, part: part, parts: parts)
                  sgemm(
                    transA: false, transB: true, m: r.count, n: m, k: n, alpha: 1,
                    xb + r.lowerBound * n, wb, beta: 0, ob + r.lowerBound * m)
                }
              }
            }
          }
          best = min(best, seconds(since: start))
        }
        line +=
          split
          ? " \(f1(flops / best / 1e9)) GFLOP/s (\(threads) row ranges, BLAS 1 thread)"
          : " \(f1(flops / best / 1e9)) GFLOP/s (BLAS \(threads) threads);"
      }
      Diagnostics.note(line)
    }
  }

  /// A NumPy .npy file (format 1.0) of float32 rows × cols, little-endian, C order.
  func writeNpy(_ path: String, _ values: [Float], rows: Int, cols: Int) throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let n = UInt16(header.utf8.count)
    bytes += [UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
    bytes.reserveCapacity(bytes.count + 4 * values.count)
    for v in values {
      let b = v.bitPattern.littleEndian
      bytes += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
    }
    try AtomicFile.write(bytes, to: path, kind: .foreign, force: force)
  }

  /// User plus system CPU time of this process so far.
  func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    let user = Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) * 1e-6
    return user + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) * 1e-6
  }

  func seconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).seconds
  }

  func f1(_ x: Double) -> String { String(format: "%.1f", x) }
  func f2(_ x: Double) -> String { String(format: "%.2f", x) }
}
