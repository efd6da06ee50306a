import Foundation
import XCTest

@testable import Quarry

final class ThesaurusTests: XCTestCase {
  /// A small MyThes file: markers after synonyms, a multi-word headword and synonyms, mixed
  /// case, duplicates, the headword among its own synonyms, and a headword ("only") whose
  /// synonyms are all marked.
  let sample = """
    UTF-8
    Happy|2
    (adj)|glad|Cheerful (similar term)|unhappy (antonym)|joyful (related term)
    (adj)|felicitous|well-chosen|Glad|happy|fortunate (generic term)
    motor car|1
    (noun)|Car|auto|motor vehicle (generic term)
    car|2
    (noun)|auto|Automobile|motor car|vehicle (generic term)
    (noun)|railway car|auto
    only|1
    (adj)|sole (similar term)

    """

  func load(
    _ bytes: [UInt8], restrictTo words: Set<String>? = nil, name: String = "th.dat"
  ) throws -> Thesaurus {
    try withTemporaryDirectory { dir in
      let path = dir + "/" + name
      try writeFile(path, bytes)
      return try Thesaurus.load(path: path, restrictTo: words)
    }
  }

  func load(_ text: String, restrictTo words: Set<String>? = nil) throws -> Thesaurus {
    try load(Array(text.utf8), restrictTo: words)
  }

  func testParsesBlocksDropsMarkersKeepsMultiWordSynonyms() throws {
    let t = try load(sample)
    XCTAssertEqual(t.synonyms(of: "happy"), ["glad", "felicitous", "well-chosen"])
    XCTAssertEqual(t.synonyms(of: "motor car"), ["car", "auto"])
    XCTAssertEqual(t.synonyms(of: "car"), ["auto", "automobile", "motor car", "railway car"])
    XCTAssertEqual(t.synonyms(of: "only"), [], "every synonym of 'only' is marked")
    XCTAssertEqual(t.synonyms(of: "sole"), [])
    XCTAssertEqual(t.synonyms(of: "vehicle"), [], "synonyms are not headwords")
    XCTAssertEqual(t.count, 3)
  }

  /// Debian's mythes-es writes "-" where the part of speech would be.
  func testSenseLinesWithoutAPartOfSpeech() throws {
    let t = try load("ISO8859-1\nperro|2\n-|can|chucho\n(noun)|can|sabueso\n")
    XCTAssertEqual(t.synonyms(of: "perro"), ["can", "chucho", "sabueso"])
    XCTAssertThrowsError(try load("UTF-8\nperro|1\n-can|chucho\n"))
  }

  func testSingleWordOnly() throws {
    let t = try load(sample)
    XCTAssertEqual(t.synonyms(of: "car", singleWordOnly: true), ["auto", "automobile"])
    XCTAssertEqual(
      t.synonyms(of: "happy", singleWordOnly: true), ["glad", "felicitous", "well-chosen"])
    XCTAssertEqual(t.synonyms(of: "nothing", singleWordOnly: true), [])
  }

  func testCRLFAndBlankLinesBetweenBlocks() throws {
    let text = "UTF-8\r\ncar|1\r\n(noun)|Auto |automobile\r\n\r\nbus|1\r\n(noun)|coach\r\n"
    let t = try load(text)
    XCTAssertEqual(t.synonyms(of: "car"), ["auto", "automobile"])
    XCTAssertEqual(t.synonyms(of: "bus"), ["coach"])
    XCTAssertEqual(t.count, 2)
  }

  func testUTF8NonASCIIIsLowercased() throws {
    let t = try load("UTF-8\nÉcole|1\n(noun)|Lycée|school|ÉCOLE\n")
    XCTAssertEqual(t.synonyms(of: "école"), ["lycée", "school"])
  }

  func testLatin1Encoding() throws {
    // "café" and "CAFÉ" in ISO 8859-1: é is the single byte 0xE9, É is 0xC9.
    var bytes = Array("ISO8859-1\ncaf".utf8) + [0xE9] + Array("|1\n(noun)|bistro|CAF".utf8)
    bytes += [0xC9] + Array("|Coffeehouse|na".utf8) + [0xEF] + Array("ve (antonym)\n".utf8)
    let t = try load(bytes)
    XCTAssertEqual(t.count, 1)
    XCTAssertEqual(t.synonyms(of: "caf\u{E9}"), ["bistro", "coffeehouse"])
  }

  func testRestrictTo() throws {
    let t = try load(sample, restrictTo: ["car", "only", "bogus", "auto"])
    XCTAssertEqual(t.count, 1)
    XCTAssertEqual(t.synonyms(of: "car"), ["auto", "automobile", "motor car", "railway car"])
    XCTAssertEqual(t.synonyms(of: "happy"), [])
    XCTAssertEqual(try load(sample, restrictTo: ["happy", "motor car"]).count, 2)
    XCTAssertEqual(try load(sample, restrictTo: []).count, 0)
  }

  func testInitEntriesNormalizes() {
    let t = Thesaurus(entries: [
      "Dog": ["Hound", "hound", "dog", "", "Canine"], "cat": [], "cow": ["COW"],
    ])
    XCTAssertEqual(t.synonyms(of: "dog"), ["hound", "canine"])
    XCTAssertEqual(t.count, 1)
  }

  /// Expects loading `text` to fail at `line`, with the error naming the file.
  func expectLoadError(
    _ text: String, line: Int?, restrictTo words: Set<String>? = nil,
    file: StaticString = #filePath, at: UInt = #line
  ) {
    do {
      try withTemporaryDirectory { dir in
        let path = dir + "/bad.dat"
        try writeFile(path, text)
        let e = expectInputError("load", file: file, line: at) {
          _ = try Thesaurus.load(path: path, restrictTo: words)
        }
        guard let e else { return }
        XCTAssertEqual(e.path, path, file: file, line: at)
        XCTAssertEqual(e.line, line, e.description, file: file, line: at)
        if let line {
          XCTAssertTrue(
            e.description.contains("bad.dat:\(line):"), e.description, file: file, line: at)
        }
      }
    } catch {
      XCTFail("\(error)", file: file, line: at)
    }
  }

  func testMalformedCountLineNamesTheLine() {
    let bad = "UTF-8\ncar|2\n(noun)|auto\n(noun)|railcar\nbus\n(noun)|coach\n"
    expectLoadError(bad, line: 5)
    expectLoadError(bad, line: 5, restrictTo: ["car"])
    expectLoadError("UTF-8\ncar|two\n(noun)|auto\n", line: 2)
    expectLoadError("UTF-8\ncar|\n(noun)|auto\n", line: 2)
    expectLoadError("UTF-8\n|1\n(noun)|auto\n", line: 2)
  }

  func testShortBlockNamesItsCountLine() {
    // "car" declares 3 senses but has 2; the next count line is not a sense line.
    let short =
      "UTF-8\nbus|1\n(noun)|coach\ncar|3\n(noun)|auto\n(noun)|railcar\nvan|1\n(noun)|truck\n"
    expectLoadError(short, line: 4)
    expectLoadError(short, line: 4, restrictTo: ["bus"])
    // The file ends inside the block.
    expectLoadError("UTF-8\nbus|1\n(noun)|coach\ncar|3\n(noun)|auto\n", line: 4)
  }

  func testUnsupportedEncodingAndMissingFile() throws {
    expectLoadError("KOI8-R\ncar|1\n(noun)|auto\n", line: 1)
    expectLoadError("car|1\n(noun)|auto\n", line: 1)
    try withTemporaryDirectory { dir in
      let path = dir + "/absent.dat"
      let e = expectInputError("missing") { _ = try Thesaurus.load(path: path) }
      XCTAssertEqual(e?.path, path)
      XCTAssertNil(e?.line)
      XCTAssertTrue(e?.description.contains("absent.dat") ?? false)
    }
  }

  /// The Debian mythes-en-us file fetched by Scripts/setup, when present.
  func testRealFile() throws {
    let cache =
      ProcessInfo.processInfo.environment["QUARRY_CACHE"] ?? NSHomeDirectory() + "/.cache/quarry"
    let path = cache + "/thesaurus/th_en_US_v2.dat"
    guard FileManager.default.fileExists(atPath: path) else {
      if ProcessInfo.processInfo.environment["QUARRY_REQUIRE_DATA"] == "1" {
        return XCTFail("no thesaurus at \(path) (QUARRY_REQUIRE_DATA=1)")
      }
      throw XCTSkip("no thesaurus at \(path) (run Scripts/setup)")
    }
    let t = try Thesaurus.load(path: path)
    XCTAssertGreaterThan(t.count, 100_000)
    let happy = t.synonyms(of: "happy")
    XCTAssertTrue(happy.contains("glad"), "\(happy)")
    XCTAssertFalse(happy.contains("unhappy"), "antonym kept: \(happy)")
    XCTAssertFalse(happy.contains("cheerful"), "related term kept: \(happy)")
    let car = t.synonyms(of: "car")
    XCTAssertTrue(car.contains("automobile") && car.contains("motorcar"), "\(car)")
    XCTAssertFalse(car.contains("motor vehicle"), "generic term kept: \(car)")
    let movie = t.synonyms(of: "movie")
    XCTAssertTrue(movie.contains("film") && movie.contains("motion picture"), "\(movie)")
    XCTAssertFalse(t.synonyms(of: "movie", singleWordOnly: true).contains("motion picture"))
    for (word, syns) in [("happy", happy), ("car", car), ("movie", movie)] {
      XCTAssertFalse(syns.contains(word))
      XCTAssertEqual(Set(syns).count, syns.count)
      XCTAssertEqual(syns, syns.map { $0.lowercased() })
      XCTAssertFalse(syns.contains { $0.contains("(") })
    }

    let r = try Thesaurus.load(path: path, restrictTo: ["happy", "car", "zzzz-not-a-word"])
    XCTAssertEqual(r.count, 2)
    XCTAssertEqual(r.synonyms(of: "happy"), happy)
    XCTAssertEqual(r.synonyms(of: "car"), car)
    XCTAssertEqual(r.synonyms(of: "movie"), [])
  }

  /// Of an English and a Spanish thesaurus, a Spanish corpus gets the Spanish one and an
  /// English corpus the English one; Chinese characters get none, with a note naming the
  /// best candidate and its coverage; a candidate that does not read is passed over, but
  /// a file the user named must read.
  func testBestOfChoosesByCoverageAndNoneBelowTheMinimum() throws {
    try withTemporaryDirectory { dir in
      let en = dir + "/th_en_US_v2.dat"
      let es = dir + "/th_es_ES_v2.dat"
      let bad = dir + "/th_xx_v2.dat"
      try writeFile(en, Array("UTF-8\ncar|1\n(noun)|auto\nhouse|1\n(noun)|home\n".utf8))
      try writeFile(
        es, Array("UTF-8\ncoche|1\n(noun)|auto\ncasa|1\n(noun)|hogar\nperro|1\n(noun)|can\n".utf8))
      try writeFile(bad, Array("KOI8-R\n".utf8))
      let candidates = ThesaurusChoice.bestOf([bad, en, es])
      var notes: [String] = []
      let note: (Finetune.Event) -> Void = { if case .note(let s) = $0 { notes.append(s) } }

      let spanish = ["el": 3, "coche": 1, "y": 1, "la": 2, "casa": 2, "del": 1, "perro": 1]
      let a = try Finetune.chooseThesaurus(candidates, words: spanish, progress: note)
      XCTAssertEqual(a?.path, es)
      XCTAssertEqual(a?.thesaurus.synonyms(of: "casa"), ["hogar"])
      XCTAssertEqual(a?.coverage.types ?? 0, 3 / 7, accuracy: 1e-6)
      XCTAssertEqual(a?.coverage.tokens ?? 0, 4 / 11, accuracy: 1e-6)
      // "la" and "el" are English headwords too: by tokens English would lead; by distinct
      // words Spanish does.
      let enWithFunctionWords = dir + "/th_en_GB_v2.dat"
      try writeFile(
        enWithFunctionWords, Array("UTF-8\nla|1\n(noun)|lah\nel|1\n(noun)|elevated\n".utf8))
      XCTAssertEqual(
        try Finetune.chooseThesaurus(
          .bestOf([enWithFunctionWords, es]), words: spanish, progress: note)?.path, es)

      let english = ["the": 5, "car": 1, "and": 3, "house": 1]
      XCTAssertEqual(
        try Finetune.chooseThesaurus(candidates, words: english, progress: note)?.path, en)

      // A corpus of Chinese characters with a little English in it: 2 tokens of 42.
      var chinese = Dictionary(uniqueKeysWithValues: Array("体育新闻国内财经").map { (String($0), 5) })
      chinese["car"] = 2
      XCTAssertNil(try Finetune.chooseThesaurus(candidates, words: chinese, progress: note))
      XCTAssertTrue(
        notes.last?.contains(
          "no thesaurus covers this corpus (the best, th_en_US_v2.dat, has synonyms for 4.8% of its word tokens)"
        ) ?? false,
        "\(notes)")

      XCTAssertNil(try Finetune.chooseThesaurus(.bestOf([]), words: english, progress: note))
      XCTAssertTrue(notes.last?.hasPrefix("no thesaurus found") ?? false, "\(notes)")
      XCTAssertThrowsError(try Finetune.chooseThesaurus(.file(bad), words: english, progress: note))
      // A named file is used even when it covers little.
      XCTAssertEqual(
        try Finetune.chooseThesaurus(.file(en), words: chinese, progress: note)?.path, en)
    }
  }
}
