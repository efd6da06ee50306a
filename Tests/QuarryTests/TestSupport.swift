import Foundation
import XCTest

@testable import Quarry

/// Uniform floats in [-scale, scale) from a seeded generator.
func randomFloats(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
  (0..<n).map { _ in (rng.nextUnitFloat() * 2 - 1) * scale }
}

/// Calls `body` with compressed sparse rows (`starts`, `rows`, `values`) as the kernels
/// read them, and `docs` as a batch.
func withCSRView<R>(
  starts: [Int], rows: [Int32], values: [Float], docs: [Int],
  _ body: (CSRView, UnsafeBufferPointer<Int>) -> R
) -> R {
  starts.withUnsafeBufferPointer { s in
    rows.withUnsafeBufferPointer { r in
      values.withUnsafeBufferPointer { v in
        docs.withUnsafeBufferPointer { d in
          body(CSRView(starts: s.base, rows: r.base, values: v.base), d)
        }
      }
    }
  }
}

/// A fresh empty directory under the system temporary directory, removed by `body`'s end.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
  let dir = NSTemporaryDirectory() + "quarry-tests-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }
  return try body(dir)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
  try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func writeFile(_ path: String, _ text: String) throws {
  try writeFile(path, Array(text.utf8))
}

/// `|a − b| ≤ rel · max(|a|, |b|) + abs`.
func isClose(_ a: Double, _ b: Double, rel: Double, abs: Double) -> Bool {
  Swift.abs(a - b) <= rel * max(Swift.abs(a), Swift.abs(b)) + abs
}

/// Runs `body` expecting an `InputError`; returns it (nil and a failure otherwise).
@discardableResult
func expectInputError(
  _ what: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) -> InputError? {
  do {
    try body()
    XCTFail("\(what): expected an InputError, got none", file: file, line: line)
  } catch let e as InputError {
    return e
  } catch {
    XCTFail("\(what): expected an InputError, got \(error)", file: file, line: line)
  }
  return nil
}

/// A synthetic corpus of three classes (food, money, sport) told apart by keywords: every
/// text holds two keywords of its class and two shared noise words, in a seeded order.
enum KeywordCorpus {
  static let labels = ["food", "money", "sport"]
  static let keywords = [
    ["bread", "cheese", "soup", "recipe", "oven"], ["bank", "rates", "stock", "market", "loan"],
    ["goal", "match", "team", "score", "league"],
  ]
  static let noise = ["the", "a", "today", "new", "big", "story", "report", "of"]

  /// Rows in class order food, money, sport, food, …
  static func rows(count: Int, seed: UInt64) -> [(label: Int32, text: String)] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { i in
      let y = i % 3
      var words = [
        keywords[y][Int(rng.next() % 5)], keywords[y][Int(rng.next() % 5)],
        noise[Int(rng.next() % 8)], noise[Int(rng.next() % 8)],
      ]
      rng.shuffle(&words)
      return (Int32(y), words.joined(separator: " "))
    }
  }

  /// The same rows with label names.
  static func named(count: Int, seed: UInt64) -> [(label: String, text: String)] {
    rows(count: count, seed: seed).map { (labels[Int($0.label)], $0.text) }
  }

  /// Features, labels and an initial classifier, as `Finetune.run` builds them.
  static func setup(_ rows: [(label: Int32, text: String)], config: TrainingConfig, classes: Int)
    -> (data: LabeledData, initial: Classifier)
  {
    let texts = rows.map(\.text)
    let (vocab, _) = Vocabulary.build(texts: texts, config: config.features)
    var rng = SplitMix64(seed: config.seed)
    let embedding =
      Matrix(rows: vocab.wordCount, cols: config.dim, uniform: 1 / Float(config.dim), rng: &rng)
      .values
    let data = LabeledData(
      features: FeatureMatrix(texts: texts, vocabulary: vocab, config: config.features),
      labels: rows.map(\.label))
    let initial = Classifier(
      classes: classes, featureCount: vocab.featureCount, wordCount: vocab.wordCount,
      dim: config.dim, embedding: embedding)
    return (data, initial)
  }
}
