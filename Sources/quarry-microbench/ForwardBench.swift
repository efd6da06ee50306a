import Quarry

/// The work of a set of forward batches, counted from the feature matrix:
///   embedding bag  2·D flops per (doc, word) entry   (y += a·E[w]: one multiply, one add)
///   wide part      2·C flops per non-zero feature    (y += x·W[f])
///   dense layer    2·B·C·D flops (sgemm) + B·C bias adds
/// and the bytes it must gather at least once: a row of E (4·D) plus its index and weight
/// (8) per bag entry, a row of W_w (4·C) plus index and value (8) per non-zero.
struct ForwardWork {
  var docs = 0
  var bagEntries = 0
  var wideNNZ = 0
  var bagFlops: Double = 0
  var wideFlops: Double = 0
  var denseFlops: Double = 0
  var bagBytes: Double = 0
  var wideBytes: Double = 0
  /// Distinct rows of E and W_w the batch touches (a row shared by two documents of the
  /// batch is fetched from memory once, then hit in cache).
  var distinctBag = 0
  var distinctWide = 0

  var flops: Double { bagFlops + wideFlops + denseFlops }
  var bytes: Double { bagBytes + wideBytes }

  init(_ m: FeatureMatrix, docs list: ArraySlice<Int>, classes c: Int, dim d: Int) {
    var bagRows = Set<Int32>()
    var wideRows = Set<Int32>()
    for doc in list {
      bagEntries += m.bagStart[doc + 1] - m.bagStart[doc]
      wideNNZ += m.wideStart[doc + 1] - m.wideStart[doc]
      bagRows.formUnion(m.bagRows[m.bagStart[doc]..<m.bagStart[doc + 1]])
      wideRows.formUnion(m.wideRows[m.wideStart[doc]..<m.wideStart[doc + 1]])
    }
    distinctBag = bagRows.count
    distinctWide = wideRows.count
    docs = list.count
    bagFlops = 2 * Double(d) * Double(bagEntries)
    wideFlops = 2 * Double(c) * Double(wideNNZ)
    denseFlops = 2 * Double(docs * c * d) + Double(docs * c)
    bagBytes = Double(bagEntries) * Double(4 * d + 8)
    wideBytes = Double(wideNNZ) * Double(4 * c + 8)
  }

  static func + (a: ForwardWork, b: ForwardWork) -> ForwardWork {
    var r = a
    r.docs += b.docs
    r.bagEntries += b.bagEntries
    r.wideNNZ += b.wideNNZ
    r.bagFlops += b.bagFlops
    r.wideFlops += b.wideFlops
    r.denseFlops += b.denseFlops
    r.bagBytes += b.bagBytes
    r.wideBytes += b.wideBytes
    r.distinctBag += b.distinctBag
    r.distinctWide += b.distinctWide
    return r
  }
}

/// The forward pass of training batches: every batch of one shuffled epoch (as the
/// trainer draws them), through `Classifier.forward`, and its three kernels alone.
func forwardBenchmarks(
  model: Classifier, features m: FeatureMatrix, batch: Int, seed: UInt64, reps: Int
) -> (figures: [Figure], work: ForwardWork) {
  let c = model.classes
  let d = model.dim
  var order = Array(0..<m.count)
  var rng = SplitMix64(seed: seed)
  rng.shuffle(&order)
  let batches = stride(from: 0, to: order.count, by: batch).map {
    $0..<min(order.count, $0 + batch)
  }
  let work = batches.map { ForwardWork(m, docs: order[$0], classes: c, dim: d) }
    .reduce(ForwardWork(docs: [], m: m, classes: c, dim: d), +)
  let firstWork = ForwardWork(m, docs: order[batches[0]], classes: c, dim: d)
  var hidden = [Float](repeating: 0, count: batch * d)
  var logits = [Float](repeating: 0, count: batch * c)

  setBLASThreads(1)  // as finetune: Quarry's own threads over the batch, BLAS on one
  let figures = order.withUnsafeBufferPointer { ord in
    hidden.withUnsafeMutableBufferPointer { h in
      logits.withUnsafeMutableBufferPointer { z in
        model.withView { p in
          m.withView { x in
            let bench = ForwardBench(
              p: p, x: x, order: ord, batches: batches, batch: batch, hidden: h.base,
              logits: z.base, work: work, reps: reps)
            return [bench.epoch(threads: 1), bench.epoch(threads: 2)]
              + [bench.cacheHot(firstWork)] + bench.kernels()
          }
        }
      }
    }
  }
  return (figures, work)
}

/// A shuffled epoch of batches through a classifier's views, and the figures that time it.
private struct ForwardBench {
  var p: ClassifierView
  var x: FeatureView
  var order: UnsafeBufferPointer<Int>
  var batches: [Range<Int>]
  var batch: Int
  var hidden: UnsafeMutablePointer<Float>
  var logits: UnsafeMutablePointer<Float>
  var work: ForwardWork
  var reps: Int

  /// The documents of the batch `r` of `order`.
  func docs(_ r: Range<Int>) -> UnsafeBufferPointer<Int> { UnsafeBufferPointer(rebasing: order[r]) }

  func forward(_ r: Range<Int>, threads: Int) {
    p.forward(x, docs: docs(r), hidden: hidden, logits: logits, encoded: nil, threads: threads)
  }

  /// `Classifier.forward` over every batch of the epoch.
  func epoch(threads: Int) -> Figure {
    let secs = timeRuns(reps: reps) {
      for r in batches { forward(r, threads: threads) }
      consume(logits[0])
    }
    return figure(
      "forward, \(threads) thread\(threads == 1 ? "" : "s")", work.flops, work.bytes, secs,
      "Classifier.forward over a shuffled epoch, B=\(batch)")
  }

  /// One batch again and again: its rows stay in cache, so the gap to the epoch is what
  /// the memory gathers cost.
  func cacheHot(_ w1: ForwardWork) -> Figure {
    let first = batches[0]
    let inner = calibrate(target: .milliseconds(20)) { forward(first, threads: 1) }
    let hot = timeRuns(reps: reps) {
      for _ in 0..<inner { forward(first, threads: 1) }
      consume(logits[0])
    }
    return figure(
      "forward, 1 batch cache-hot", w1.flops * Double(inner), w1.bytes * Double(inner), hot,
      "the first batch repeated \(inner)×, 1 thread (µs of that batch)")
  }

  /// The kernels alone, 1 thread, over the same epoch of batches.
  func kernels() -> [Figure] {
    let (c, d) = (p.classes, p.dim)
    let bag = timeRuns(reps: reps) {
      for r in batches {
        embeddingBagForward(out: hidden, table: p.embedding, dim: d, bag: x.bag, docs: docs(r))
      }
      consume(hidden[0])
    }
    let wide = timeRuns(reps: reps) {
      for r in batches {
        sparseLinearForward(out: logits, weight: p.wide, classes: c, x: x.wide, docs: docs(r))
      }
      consume(logits[0])
    }
    let dense = timeRuns(reps: reps) {
      for r in batches {
        linearForward(
          out: logits, x: hidden, weight: p.dense, bias: p.bias, batch: r.count, inDim: d,
          outDim: c, beta: 0)
      }
      consume(logits[0])
    }
    return [
      figure(
        "· embedding bag", work.bagFlops, work.bagBytes, bag,
        "embeddingBagForward, "
          + gathered(work.bagEntries, "words", "D=\(d)", distinct: work.distinctBag)),
      figure(
        "· wide sparse-linear", work.wideFlops, work.wideBytes, wide,
        "sparseLinearForward, "
          + gathered(work.wideNNZ, "non-zeros", "C=\(c)", distinct: work.distinctWide)),
      figure(
        "· dense layer + bias", work.denseFlops, 0, dense,
        "linearForward, fixed order: \(batch)×\(c)×\(d) (B×C×D) + bias"),
    ]
  }

  /// "`entries / docs` `what`/doc, `width`, d distinct rows of e/batch" for a sparse kernel
  /// that gathers `entries` rows over the epoch, `distinct` of them distinct per batch summed.
  func gathered(_ entries: Int, _ what: String, _ width: String, distinct: Int) -> String {
    let nb = Double(batches.count)
    return String(
      format: "%d %@/doc, %@, %.0f distinct rows of %.0f/batch", entries / max(work.docs, 1),
      what, width, Double(distinct) / nb, Double(entries) / nb)
  }

  func figure(_ name: String, _ flops: Double, _ bytes: Double, _ secs: [Double], _ detail: String)
    -> Figure
  {
    let t = median(secs)
    let perBatch = 1e6 * t / Double(batches.count)
    return Figure(
      section: "forward", name: name, unit: "GFLOP/s", median: flops / t / 1e9,
      samples: secs.map { flops / $0 / 1e9 },
      detail: bytes > 0
        ? String(
          format: "%@; %.1f µs/batch, %.2f GB/s gathered, %.2f flop/byte", detail, perBatch,
          bytes / t / 1e9, flops / bytes)
        : String(format: "%@; %.1f µs/batch", detail, perBatch),
      extra: [
        "flops": flops, "bytes": bytes, "seconds": t, "batches": Double(batches.count),
        "us_per_batch": 1e6 * t / Double(batches.count), "gbytes_per_s": bytes / t / 1e9,
        "bag_entries": Double(work.bagEntries), "wide_nnz": Double(work.wideNNZ),
        "distinct_bag_rows": Double(work.distinctBag),
        "distinct_wide_rows": Double(work.distinctWide),
      ])
  }
}

extension ForwardWork {
  /// No documents.
  init(docs: [Int], m: FeatureMatrix, classes: Int, dim: Int) {
    self.init(m, docs: docs[...], classes: classes, dim: dim)
  }
}
