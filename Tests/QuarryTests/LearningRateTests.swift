import XCTest

@testable import Quarry

/// The learning rate scaled by the corpus's text length.
final class LearningRateTests: XCTestCase {
  func testScaledRateFollowsMeanWordsUpToOneHundred() {
    var c = TrainingConfig()
    c.learningRate = 2
    XCTAssertEqual(c.scaledLearningRate(meanWords: 20), 0.4, accuracy: 1e-6)
    XCTAssertEqual(c.scaledLearningRate(meanWords: 50), 1, accuracy: 1e-6)
    XCTAssertEqual(c.scaledLearningRate(meanWords: 100), 2)
    XCTAssertEqual(c.scaledLearningRate(meanWords: 269), 2)
    XCTAssertEqual(c.scaledLearningRate(meanWords: .nan), 2)
    c.scaleLearningRate = false
    XCTAssertEqual(c.scaledLearningRate(meanWords: 20), 2)
  }

  /// Text mostly in a script without spaces keeps the full rate: its tokens are characters.
  func testUnspacedTextKeepsTheFullRate() throws {
    var c = TrainingConfig()
    c.learningRate = 2
    XCTAssertEqual(c.scaledLearningRate(meanWords: 20, unspacedShare: 0.5), 0.4, accuracy: 1e-6)
    XCTAssertEqual(c.scaledLearningRate(meanWords: 20, unspacedShare: 0.9), 2)

    // A finetune on short Chinese rows (two classes by their characters) says why.
    var tsv = ""
    for i in 0..<40 {
      tsv += i % 2 == 0 ? "sport\t足球比赛第\(i)场 进球\n" : "money\t股票市场上涨\(i)点 银行\n"
    }
    let corpus = try CorpusReader.parse(bytes: Array(tsv.utf8), path: "zh.tsv")
    var config = TrainingFixtures.fullRunConfig()
    config.validFraction = 0
    config.crossFit = 0
    config.learningRate = 1.5
    var notes: [String] = []
    let model = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config) {
      if case .note(let s) = $0 { notes.append(s) }
    }
    XCTAssertEqual(model.metadata.config.learningRate, 1.5)
    XCTAssertTrue(
      notes.contains { $0.contains("scripts written without spaces") && $0.contains("1.5") },
      "\(notes)")
    // The same run's wide part was penalised, and the model records by how much.
    XCTAssertEqual(model.metadata.config.wideL2, TrainingConfig.unspacedWideL2)
    XCTAssertTrue(notes.contains { $0.contains("L2 penalty 0.0002") }, "\(notes)")
  }

  /// The wide part's L2 penalty: the given one, else `unspacedWideL2` for text mostly of
  /// scripts without spaces and none for words.
  func testWideL2IsChosenByTheCorpusUnlessGiven() {
    var c = TrainingConfig()
    XCTAssertEqual(c.resolvedWideL2(unspacedShare: 0.9), TrainingConfig.unspacedWideL2)
    XCTAssertEqual(c.resolvedWideL2(unspacedShare: 0.5), 0)
    XCTAssertEqual(c.resolvedWideL2(unspacedShare: 0), 0)
    c.wideL2 = 0
    XCTAssertEqual(c.resolvedWideL2(unspacedShare: 0.9), 0)
    c.wideL2 = 1e-3
    XCTAssertEqual(c.resolvedWideL2(unspacedShare: 0), 1e-3)
  }

  /// A model file written before the setting existed has no `wideL2` in its config: it
  /// reads as nil (trained without a penalty), and a stored value reads back.
  func testConfigWithoutWideL2Decodes() throws {
    var c = TrainingConfig()
    c.wideL2 = 2e-4
    let data = try JSONEncoder().encode(c)
    XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: data).wideL2, 2e-4)
    var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    XCTAssertNotNil(object.removeValue(forKey: "wideL2"))
    let old = try JSONSerialization.data(withJSONObject: object)
    XCTAssertNil(try JSONDecoder().decode(TrainingConfig.self, from: old).wideL2)
  }

  /// Training with a penalty ends with smaller wide rows than without, from the same start
  /// and the same steps; the embedding and dense parts are not penalised directly.
  func testWideL2ShrinksTheWideWeights() throws {
    let rows = KeywordCorpus.rows(count: 90, seed: 5)
    var config = TrainingFixtures.fullRunConfig()
    config.validFraction = 0
    config.crossFit = 0
    config.mine = false
    config.scaleLearningRate = false
    func wideNorm(_ l2: Float) throws -> Double {
      config.wideL2 = l2
      let (data, initial) = KeywordCorpus.setup(rows, config: config, classes: 3)
      let r = try Trainer(config: config).train(model: initial, train: data, valid: nil)
      return r.model.wide.reduce(0) { $0 + Double($1 * $1) }
    }
    let plain = try wideNorm(0)
    let penalised = try wideNorm(0.02)
    XCTAssertGreaterThan(plain, 0)
    XCTAssertLessThan(penalised, 0.9 * plain, "plain \(plain), penalised \(penalised)")
  }

  /// A finetune of short rows trains at the scaled rate, says so, and stores it in the model;
  /// with scaling off it keeps the given rate and says nothing.
  func testFinetuneStoresTheRateItTrainedWith() throws {
    let corpus = try TrainingFixtures.noisyKeywordCorpus()
    var config = TrainingFixtures.fullRunConfig()
    config.validFraction = 0
    config.learningRate = 1.5
    var buffer = TokenBuffer()
    let words = corpus.examples.map {
      config.features.tokenizer.tokenize($0.text, into: &buffer)
      return buffer.count
    }.reduce(0, +)
    let meanWords = Double(words) / Double(corpus.examples.count)
    var notes: [String] = []
    let scaled = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config) {
      if case .note(let s) = $0 { notes.append(s) }
    }
    XCTAssertLessThan(meanWords, 100)
    XCTAssertEqual(
      scaled.metadata.config.learningRate, 1.5 * Float(meanWords / 100), accuracy: 1e-5)
    XCTAssertTrue(notes.contains { $0.hasPrefix("learning rate ") }, "\(notes)")
    config.scaleLearningRate = false
    notes = []
    let fixed = try Finetune.run(train: corpus, valid: nil, pretrained: nil, config: config) {
      if case .note(let s) = $0 { notes.append(s) }
    }
    XCTAssertEqual(fixed.metadata.config.learningRate, 1.5)
    XCTAssertFalse(notes.contains { $0.hasPrefix("learning rate ") })
    // Text of words: no penalty on the wide part, recorded as 0.
    XCTAssertEqual(scaled.metadata.config.wideL2, 0)
  }

  /// One sparse step with ∂L/∂Z = 0 and ∂L/∂H = 0: every wide row a document of the batch
  /// holds is multiplied by exactly 1 − η·λ, each time a document holds it; rows no
  /// document holds, and every embedding row, keep their bits.
  func testSparseStepShrinksOnlyTheWideRowsTheBatchHolds() throws {
    let rows = KeywordCorpus.rows(count: 12, seed: 9)
    var config = TrainingFixtures.fullRunConfig()
    config.dim = 4
    var (data, model) = KeywordCorpus.setup(rows, config: config, classes: 3)
    _ = data
    var rng = SplitMix64(seed: 3)
    model.wide = (0..<model.wide.count).map { _ in rng.nextUnitFloat() + 0.5 }
    let (wide, embedding) = (model.wide, model.embedding)
    let docs = [0, 2, 5]
    var holds = [Int](repeating: 0, count: model.wide.count / 3)
    for d in docs {
      let f = data.features
      for q in f.wideStart[d]..<f.wideStart[d + 1] { holds[Int(f.wideRows[q])] += 1 }
    }
    let (rate, l2): (Float, Float) = (0.5, 0.1)
    let zeros = [Float](repeating: 0, count: docs.count * max(3, config.dim))
    for threads in [1, 2] {
      var m = model
      m.withMutableView { p in
        data.features.withView { x in
          docs.withUnsafeBufferPointer { d in
            p.sparseStep(
              x, docs: d, dLogits: zeros, dHidden: zeros, rate: rate, embeddingRate: rate,
              wideL2: l2, threads: threads)
          }
        }
      }
      XCTAssertEqual(m.embedding, embedding)
      var shrunk = 0
      for (r, n) in holds.enumerated() {
        var expect = Array(wide[(r * 3)..<(r * 3 + 3)])
        for _ in 0..<n { expect = expect.map { $0 * (1 - rate * l2) + 0 } }
        XCTAssertEqual(Array(m.wide[(r * 3)..<(r * 3 + 3)]), expect, "row \(r), threads \(threads)")
        if n > 0 { shrunk += 1 }
      }
      XCTAssertGreaterThan(shrunk, 0)
      XCTAssertLessThan(shrunk, holds.count)
    }
  }
}
