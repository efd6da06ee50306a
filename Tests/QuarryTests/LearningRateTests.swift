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

  /// A finetune of short rows trains at the scaled rate, says so, and stores it in the model;
  /// with scaling off it keeps the given rate and says nothing.
  func testFinetuneStoresTheRateItTrainedWith() throws {
    let corpus = try CheckpointTests.corpus()
    var config = CheckpointTests.config()
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
