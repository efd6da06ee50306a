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
  }
}
