/// Supervised term weights: the inverse gravity moment of a feature over the classes,
///
///   igm(f) = n₁(f) / Σ_r r · n_r(f),
///
/// with n_r(f) the number of training documents of the r-th most frequent class among
/// those that contain f (n₁ ≥ n₂ ≥ …). igm is 1 for a feature seen in one class only and
/// 2 / (C (C + 1)) for one spread evenly over C classes. A feature's idf is multiplied by
/// 1 + λ·igm(f), so that features concentrated in a class weigh more in the tf-idf vector
/// and the embedding bag. (Chen et al., "Turning from TF-IDF to TF-IGM for term weighting
/// in text classification", 2016, use 1 + λ·igm in place of idf.)
enum TermWeights {
  /// igm(f) for each of the `rows` vocabulary rows, from the documents' wide rows and
  /// their classes (0 for a row no document holds).
  static func igm(_ features: FeatureMatrix, labels: [Int32], classes: Int, rows: Int) -> [Float] {
    precondition(labels.count == features.count)
    // The classes of the documents holding each row, grouped by row (a counting sort).
    var starts = [Int](repeating: 0, count: rows + 1)
    for r in features.wideRows { starts[Int(r) + 1] += 1 }
    for r in 0..<rows { starts[r + 1] += starts[r] }
    var fill = starts
    var held = [Int32](repeating: 0, count: features.wideRows.count)
    for d in 0..<features.count {
      for p in features.wideStart[d]..<features.wideStart[d + 1] {
        let r = Int(features.wideRows[p])
        held[fill[r]] = labels[d]
        fill[r] += 1
      }
    }
    var out = [Float](repeating: 0, count: rows)
    var perClass = [Int32](repeating: 0, count: classes)
    var counts: [Int32] = []
    for r in 0..<rows where starts[r] < starts[r + 1] {
      counts.removeAll(keepingCapacity: true)
      for i in starts[r]..<starts[r + 1] {
        let c = Int(held[i])
        if perClass[c] == 0 { counts.append(Int32(c)) }
        perClass[c] += 1
      }
      // counts: the classes present; turn them into their counts, largest first.
      for i in counts.indices {
        let c = Int(counts[i])
        counts[i] = perClass[c]
        perClass[c] = 0
      }
      counts.sort(by: >)
      var moment: Float = 0
      for (rank, n) in counts.enumerated() { moment += Float(rank + 1) * Float(n) }
      out[r] = Float(counts[0]) / moment
    }
    return out
  }

  /// `vocab` with every idf multiplied by 1 + λ·igm, igm from `train`'s rows and labels.
  static func weighted(
    _ vocab: Vocabulary, train: FeatureMatrix, labels: [Int32], classes: Int, lambda: Float
  ) -> Vocabulary {
    let g = igm(train, labels: labels, classes: classes, rows: vocab.featureCount)
    var out = vocab
    for f in 0..<vocab.featureCount { out.idf[f] *= 1 + lambda * g[f] }
    return out
  }
}
