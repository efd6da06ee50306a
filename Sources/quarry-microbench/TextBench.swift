import Foundation
import Quarry

/// The texts of a `label<TAB>text` corpus (the text after the first TAB of each line).
struct CorpusTexts {
  var texts: [String]
  /// Each row's label, and the distinct labels.
  var rowLabels: [String]
  var labels: Set<String>
  var bytes: Int

  init(tsv path: String) throws {
    let raw = try FileBytes.read(path)
    var texts: [String] = []
    var rowLabels: [String] = []
    var bytes = 0
    for line in raw.split(separator: 0x0A, omittingEmptySubsequences: true) {
      guard let tab = line.firstIndex(of: 0x09) else { continue }
      rowLabels.append(String(decoding: line[..<tab], as: UTF8.self))
      var body = line[(tab + 1)...]
      if body.last == 0x0D { body = body.dropLast() }
      texts.append(String(decoding: body, as: UTF8.self))
      bytes += body.count
    }
    self.texts = texts
    self.rowLabels = rowLabels
    self.labels = Set(rowLabels)
    self.bytes = bytes
  }
}

/// Tokenizer and featurizer throughput, MB/s of text (1 MB = 10^6 bytes), one thread
/// unless the figure says otherwise.
func textBenchmarks(corpus: CorpusTexts, vocabulary: Vocabulary, config: FeatureConfig, reps: Int)
  -> [Figure]
{
  let mb = Double(corpus.bytes) / 1e6
  let docs = corpus.texts.count
  func figure(_ name: String, _ secs: [Double], _ detail: String, threads: Int = 1) -> Figure {
    Figure(
      section: "text", name: name, unit: "MB/s", median: mb / median(secs),
      samples: secs.map { mb / $0 },
      detail: String(
        format: "%@; %.2f MB, %d docs, %.1f ms/pass, %d thread%@", detail, mb, docs,
        1e3 * median(secs), threads, threads == 1 ? "" : "s"),
      extra: ["bytes": Double(corpus.bytes), "docs": Double(docs), "seconds": median(secs)])
  }
  var out: [Figure] = []

  let tokenizer = config.tokenizer
  var buffer = TokenBuffer()
  var tokens = 0
  let tok = timeRuns(reps: reps) {
    tokens = 0
    for t in corpus.texts {
      tokenizer.tokenize(t, into: &buffer)
      tokens += buffer.count
    }
    consume(tokens)
  }
  var f = figure("tokenizer", tok, "Tokenizer.tokenize alone")
  f.extra["tokens"] = Double(tokens)
  f.extra["tokens_per_second"] = Double(tokens) / median(tok)
  out.append(f)

  var extractor = FeatureExtractor(config: config)
  var keys = 0
  let ext = timeRuns(reps: reps) {
    keys = 0
    for t in corpus.texts {
      extractor.extract(t)
      keys += extractor.wordKeys.count + extractor.otherKeys.count
    }
    consume(keys)
  }
  f = figure(
    "extractor", ext, "tokens + FNV-1a word keys + word \(config.wordNgrams)-gram keys")
  f.extra["keys"] = Double(keys)
  out.append(f)

  var featurizer = Featurizer(vocabulary: vocabulary, config: config)
  var scratch = SparseFeatures()
  var nnz = 0
  let feat = timeRuns(reps: reps) {
    nnz = 0
    for t in corpus.texts {
      featurizer.features(t, into: &scratch)
      nnz += scratch.wideRows.count
    }
    consume(nnz)
  }
  f = figure(
    "featurizer", feat,
    "Featurizer.features: extractor + hash-table lookup + sort + sublinear tf-idf")
  f.extra["nnz"] = Double(nnz)
  out.append(f)

  for threads in [1, 2] {
    let fm = timeRuns(reps: reps) {
      let m = FeatureMatrix(
        texts: corpus.texts, vocabulary: vocabulary, config: config, threads: threads)
      consume(m.count)
    }
    out.append(
      figure(
        "feature matrix", fm, "FeatureMatrix(texts:) as finetune builds it", threads: threads))
  }
  return out
}
