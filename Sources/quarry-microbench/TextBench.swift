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
  let bench = TextBench(corpus: corpus, reps: reps)
  return [
    bench.tokenizer(config.tokenizer),
    bench.extractor(config),
    bench.featurizer(vocabulary: vocabulary, config: config),
  ]
    + [1, 2].map { bench.featureMatrix(vocabulary: vocabulary, config: config, threads: $0) }
}

/// Passes over a corpus's texts, timed, as figures in MB/s.
private struct TextBench {
  var corpus: CorpusTexts
  var reps: Int

  /// Times passes of `perText` over every text; returns the seconds of each pass and the
  /// sum of what `perText` counted in one.
  func passes(_ perText: (String) -> Int) -> (secs: [Double], count: Int) {
    var count = 0
    let secs = timeRuns(reps: reps) {
      count = 0
      for t in corpus.texts { count += perText(t) }
      consume(count)
    }
    return (secs, count)
  }

  func tokenizer(_ tokenizer: Tokenizer) -> Figure {
    var buffer = TokenBuffer()
    let (secs, tokens) = passes { t in
      tokenizer.tokenize(t, into: &buffer)
      return buffer.count
    }
    var f = figure("tokenizer", secs, "Tokenizer.tokenize alone")
    f.extra["tokens"] = Double(tokens)
    f.extra["tokens_per_second"] = Double(tokens) / median(secs)
    return f
  }

  func extractor(_ config: FeatureConfig) -> Figure {
    var extractor = FeatureExtractor(config: config)
    let (secs, keys) = passes { t in
      extractor.extract(t)
      return extractor.wordKeys.count + extractor.otherKeys.count
    }
    var f = figure(
      "extractor", secs, "tokens + FNV-1a word keys + word \(config.wordNgrams)-gram keys")
    f.extra["keys"] = Double(keys)
    return f
  }

  func featurizer(vocabulary: Vocabulary, config: FeatureConfig) -> Figure {
    var featurizer = Featurizer(vocabulary: vocabulary, config: config)
    var scratch = SparseFeatures()
    let (secs, nnz) = passes { t in
      featurizer.features(t, into: &scratch)
      return scratch.wideRows.count
    }
    var f = figure(
      "featurizer", secs,
      "Featurizer.features: extractor + hash-table lookup + sort + sublinear tf-idf")
    f.extra["nnz"] = Double(nnz)
    return f
  }

  func featureMatrix(vocabulary: Vocabulary, config: FeatureConfig, threads: Int) -> Figure {
    let secs = timeRuns(reps: reps) {
      let m = FeatureMatrix(
        texts: corpus.texts, vocabulary: vocabulary, config: config, threads: threads)
      consume(m.count)
    }
    return figure(
      "feature matrix", secs, "FeatureMatrix(texts:) as finetune builds it", threads: threads)
  }

  func figure(_ name: String, _ secs: [Double], _ detail: String, threads: Int = 1) -> Figure {
    let mb = Double(corpus.bytes) / 1e6
    let docs = corpus.texts.count
    return Figure(
      section: "text", name: name, unit: "MB/s", median: mb / median(secs),
      samples: secs.map { mb / $0 },
      detail: String(
        format: "%@; %.2f MB, %d docs, %.1f ms/pass, %d thread%@", detail, mb, docs,
        1e3 * median(secs), threads, threads == 1 ? "" : "s"),
      extra: ["bytes": Double(corpus.bytes), "docs": Double(docs), "seconds": median(secs)])
  }
}
