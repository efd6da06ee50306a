/// Hard negatives of a one-vs-rest (multi-label) model, per class.
extension Miner {
  /// Rows without class c are candidates for c when p_c ≥ this: the ones the model
  /// pulls towards c, up to and across the boundary that a tuned threshold (often well
  /// under ½ for a rare class) puts there.
  public static let perLabelFloor: Float = 0.1

  /// For every class c, the rows whose set lacks c with p_c ≥ `perLabelFloor`, ranked by
  /// p_c, highest first; the top ⌈`mineFraction` · candidates⌉ of each class are kept, at
  /// most ⌈maxRows / C⌉ each with `maxRows`. A row kept for several classes is trained
  /// once (its first class counts it). Cost: O(N·C + candidates · log).
  public func selectPerLabel(
    probabilities p: [Float], labelSets: [[Int32]], maxRows: Int? = nil
  ) -> Selection {
    let c = classes
    var candidates = [[(row: Int, p: Float)]](repeating: [], count: c)
    var has = [Bool](repeating: false, count: c)
    for (i, set) in labelSets.enumerated() {
      for y in set { has[Int(y)] = true }
      for k in 0..<c where !has[k] && p[i * c + k] >= Miner.perLabelFloor {
        candidates[k].append((i, p[i * c + k]))
      }
      for y in set { has[Int(y)] = false }
    }
    let cap = maxRows.map { max(1, ($0 + c - 1) / c) }
    var taken = Set<Int>()
    var rows: [Int] = []
    var perClass = [Int](repeating: 0, count: c)
    for k in 0..<c {
      let ranked = candidates[k].sorted { $0.p != $1.p ? $0.p > $1.p : $0.row < $1.row }
      var keep = Int((config.mineFraction * Float(ranked.count)).rounded(.up))
      if let cap { keep = min(keep, cap) }
      for r in ranked.prefix(keep) where taken.insert(r.row).inserted {
        rows.append(r.row)
        perClass[k] += 1
      }
    }
    return Selection(rows: rows, perClass: perClass)
  }
}
