/// Classification metrics from a confusion matrix: confusion[g][p] counts rows of gold
/// class g predicted as p. Precision_c = TP/(TP+FP), recall_c = TP/(TP+FN),
/// F1_c = 2PR/(P+R) (0 when undefined), macro-F1 = mean of F1_c over classes with any
/// gold or predicted row, accuracy = Σ TP / N.
public struct Metrics: Sendable, Equatable {
  public var confusion: [[Int]]
  public var accuracy: Float
  public var macroF1: Float
  public var precision: [Float]
  public var recall: [Float]
  public var f1: [Float]
  public var support: [Int]

  public init(predicted: [Int32], gold: [Int32], classes: Int) {
    var cm = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    for (p, g) in zip(predicted, gold) { cm[Int(g)][Int(p)] += 1 }
    confusion = cm
    var correct = 0
    precision = []
    recall = []
    f1 = []
    support = []
    var f1Sum: Float = 0
    var present = 0
    for k in 0..<classes {
      let tp = cm[k][k]
      correct += tp
      let goldK = cm[k].reduce(0, +)
      let predK = (0..<classes).reduce(0) { $0 + cm[$1][k] }
      let p: Float = predK > 0 ? Float(tp) / Float(predK) : 0
      let r: Float = goldK > 0 ? Float(tp) / Float(goldK) : 0
      let f: Float = p + r > 0 ? 2 * p * r / (p + r) : 0
      precision.append(p)
      recall.append(r)
      f1.append(f)
      support.append(goldK)
      if goldK > 0 || predK > 0 {
        f1Sum += f
        present += 1
      }
    }
    accuracy = gold.isEmpty ? 0 : Float(correct) / Float(gold.count)
    macroF1 = present > 0 ? f1Sum / Float(present) : 0
  }

  /// Metrics of the arg-max of row-major N×C probabilities.
  public init(probabilities p: [Float], gold: [Int32], classes: Int) {
    self.init(predicted: Metrics.argmax(p, classes: classes), gold: gold, classes: classes)
  }

  public static func argmax(_ p: [Float], classes: Int) -> [Int32] {
    let n = p.count / classes
    var out = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      var best = 0
      for c in 1..<classes where p[i * classes + c] > p[i * classes + best] { best = c }
      out[i] = Int32(best)
    }
    return out
  }
}
