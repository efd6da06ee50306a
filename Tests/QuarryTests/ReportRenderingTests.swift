import Foundation
import XCTest

@testable import Quarry

/// `MineReport.renderText` and `renderHTML`: order, limits, widths, escaping, the data-map
/// SVG, self-containment. Set QUARRY_REPORT_HTML=/path/report.html to also write the
/// realistic report of `testRealisticReport` there (to look at in a browser).
final class ReportRenderingTests: XCTestCase {
  static let evil = "<script>alert(1)</script>&\"'"

  /// Three of each kind, with distinct line numbers and texts, and four map points.
  func smallReport() -> MineReport {
    MineReport(
      source: .dynamics, model: "out/r8.qmodel", data: "corpora/r8/train.tsv", rows: 4,
      labels: ["acq", "earn", "trade"],
      boundary: [
        .init(line: 31, label: "earn", confused_with: "acq", margin: -0.021, text: "boundary one"),
        .init(line: 32, label: "acq", confused_with: "earn", margin: 0.004, text: "boundary two"),
        .init(line: 33, label: "trade", confused_with: "acq", margin: 0.05, text: "boundary three"),
      ],
      label_issues: [
        .init(line: 21, label: "earn", suggested: "acq", score: 0.97, text: "issue one"),
        .init(line: 22, label: "trade", suggested: "earn", score: 0.8, text: "issue two"),
        .init(line: 23, label: "acq", suggested: "trade", score: 0.61, text: "issue three"),
      ],
      confusions: [
        .init(label: "earn", confused_with: "acq", count: 17, near: 9),
        .init(label: "acq", confused_with: "earn", count: 11, near: 4),
        .init(label: "trade", confused_with: "acq", count: 3, near: 1),
      ],
      data_map: [
        .init(line: 1, label: "earn", confidence: 0.98, variability: 0.02, correctness: 1),
        .init(line: 21, label: "earn", confidence: 0.1, variability: 0.05, correctness: 0),
        .init(line: 31, label: "earn", confidence: 0.5, variability: 0.31, correctness: 0.6),
        .init(line: 40, label: "acq", confidence: 0.7, variability: 0.2, correctness: 0.8),
      ])
  }

  func emptyReport() -> MineReport {
    MineReport(
      source: .model, model: "m.qmodel", data: "d.tsv", rows: 0, labels: [], boundary: [],
      label_issues: [], confusions: [], data_map: [])
  }

  /// Offsets of `needles` in `haystack`, failing on any missing one.
  func positions(
    _ needles: [String], in haystack: String, file: StaticString = #filePath, line: UInt = #line
  )
    -> [Int]
  {
    needles.compactMap { needle in
      guard let r = haystack.range(of: needle) else {
        XCTFail("missing \(needle)", file: file, line: line)
        return nil
      }
      return haystack.distance(from: haystack.startIndex, to: r.lowerBound)
    }
  }

  /// The rows of the confused-pairs section with runs of spaces collapsed.
  func pairLines(_ text: String) -> [String] {
    guard let start = text.range(of: "Most confused class pairs") else { return [] }
    return text[start.upperBound...].split(separator: "\n").dropFirst(3).map {
      $0.split(separator: " ").joined(separator: " ")
    }
  }

  func testTextHasHeaderSectionsAndRowsInOrder() {
    let text = smallReport().renderText(top: 10)
    // The header runs to the first blank line; the source is in words, not its key.
    let header = text.components(separatedBy: "\n\n").first ?? ""
    XCTAssertFalse(header.contains("source:"), header)
    for part in [
      "corpora/r8/train.tsv", "out/r8.qmodel", "rows: 4", "figures from: training dynamics",
    ] {
      XCTAssertTrue(header.contains(part), "header lacks \(part): \(header)")
    }
    let order = positions(
      [
        "Likely label errors (3)", "issue one", "issue two", "issue three", "Boundary rows (3)",
        "boundary one",
        "boundary two", "boundary three", "Most confused class pairs (3)",
      ], in: text)
    XCTAssertEqual(order, order.sorted())
    XCTAssertEqual(
      pairLines(text), ["earn → acq 17 9", "acq → earn 11 4", "trade → acq 3 1"], "pairs, in order")
    XCTAssertTrue(
      text.contains("    21  earn  → acq        0.970  issue one"),
      "issue labels, arrows aligned:\n\(text)")
    XCTAssertTrue(text.contains("0.970"), "score")
    XCTAssertTrue(text.contains("−0.021") && text.contains("+0.004"), "signed margins")
    XCTAssertFalse(text.contains("\u{1B}"), "no ANSI escapes")
  }

  func testTextColumnsAreAligned() {
    let lines = smallReport().renderText(top: 10).split(separator: "\n").map(String.init)
    // The text column of the three issue rows starts at the same offset as its header.
    let rows = lines.filter { $0.contains("issue ") }
    XCTAssertEqual(rows.count, 3)
    let starts = Set(
      rows.compactMap { row in
        row.range(of: "issue ").map { row.distance(from: row.startIndex, to: $0.lowerBound) }
      })
    XCTAssertEqual(starts.count, 1, "\(rows)")
    let headerLine = lines.first { $0.contains("label → suggested") } ?? ""
    XCTAssertEqual(
      headerLine.range(of: "text").map {
        headerLine.distance(from: headerLine.startIndex, to: $0.lowerBound)
      }, starts.first)
  }

  func testTextTopLimitsEachList() {
    let text = smallReport().renderText(top: 2)
    XCTAssertTrue(text.contains("issue two") && !text.contains("issue three"))
    XCTAssertTrue(text.contains("boundary two") && !text.contains("boundary three"))
    XCTAssertEqual(pairLines(text), ["earn → acq 17 9", "acq → earn 11 4"])
    XCTAssertTrue(text.contains("Likely label errors (top 2 of 3)"), text)
    let none = smallReport().renderText(top: 0)
    XCTAssertFalse(none.contains("issue one") || none.contains("boundary one"))
  }

  func testTextRespectsWidthAndFlattensTexts() {
    var report = smallReport()
    let long = String(repeating: "Shares of the company rose sharply after the merger. ", count: 20)
    report.label_issues[0].text = "first line\nsecond\tline \u{1B}[31mred\u{1B}[0m " + long
    report.data = "/a/very/long/path/" + String(repeating: "deep/", count: 30) + "train.tsv"
    for width in [60, 80, 100, 140] {
      let text = report.renderText(top: 10, width: width)
      for line in text.split(separator: "\n") {
        XCTAssertLessThanOrEqual(line.count, width, "width \(width): \(line)")
      }
      let issueLine =
        text.split(separator: "\n").first { $0.contains("first line") }.map(String.init) ?? ""
      XCTAssertEqual(issueLine.count, width, "a long text fills the width exactly")
      XCTAssertTrue(issueLine.hasSuffix("…"))
      XCTAssertTrue(
        issueLine.contains("first line second line [31mred [0m Shares") || width < 80, issueLine)
      XCTAssertTrue(text.contains("train.tsv"), "the file name of a long path survives")
    }
    XCTAssertFalse(report.renderText(top: 10).contains("\u{1B}"))
  }

  func testEmptyReportRendersInBothForms() {
    let text = emptyReport().renderText(top: 10)
    for s in [
      "Likely label errors: none", "Boundary rows: none", "Most confused class pairs: none",
    ] {
      XCTAssertTrue(text.contains(s), s)
    }
    let html = emptyReport().renderHTML(top: 10)
    XCTAssertTrue(html.contains("data map is empty"))
    XCTAssertEqual(html.components(separatedBy: "None in this report.").count - 1, 3)
    XCTAssertFalse(html.contains("<circle"))
    XCTAssertTrue(html.hasSuffix("</html>\n"))
  }

  /// The calibration figures in both forms: a line under the text header, and in HTML a
  /// section with one bar and one dot per non-empty bin inside the diagram's frame.
  func testCalibrationInBothForms() throws {
    var report = smallReport()
    let p: [Float] = [0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.6, 0.4, 0.4, 0.6]
    report.calibration = .init(
      Calibration(probabilities: p, gold: [0, 0, 1, 1, 0, 1], classes: 2))
    let text = report.renderText(top: 5, width: 200)
    XCTAssertTrue(
      text.contains("calibration: ECE 0.4000, log loss "), text)
    let html = report.renderHTML(top: 5)
    let start = try XCTUnwrap(html.range(of: "<section id=\"calibration\">"))
    let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
    let section = String(html[start.lowerBound..<end.upperBound])
    XCTAssertTrue(section.contains("Expected calibration error <b>0.4000</b>"), section)
    // Two non-empty bins: two bars and the frame; two dots.
    XCTAssertEqual(section.components(separatedBy: "<rect ").count - 1, 3)
    XCTAssertEqual(section.components(separatedBy: "<circle ").count - 1, 2)
    XCTAssertTrue(section.contains("4 rows, confidence 0.900, accuracy 0.500"), section)
    // A report without calibration figures says so.
    report.calibration = nil
    XCTAssertTrue(report.renderHTML(top: 5).contains("No calibration figures"))
    XCTAssertFalse(report.renderText(top: 5, width: 200).contains("calibration:"))
  }

  func testHTMLEscapesEveryUserText() {
    var report = smallReport()
    report.label_issues[1].text = Self.evil
    report.boundary[0].text = "a < b && c > d " + Self.evil
    report.label_issues[0].label = "<b>earn</b>"
    report.data = "x\"><script>alert(2)</script>.tsv"
    let html = report.renderHTML(top: 10)
    XCTAssertFalse(html.lowercased().contains("<script"), "no raw script tag")
    XCTAssertFalse(html.contains("<b>earn</b>"))
    XCTAssertFalse(html.contains("x\">"))
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"
    XCTAssertEqual(
      html.components(separatedBy: escaped).count - 1, 2, "both rows show the text, escaped")
    XCTAssertTrue(html.contains("a &lt; b &amp;&amp; c &gt; d"))
    XCTAssertTrue(html.contains("&lt;b&gt;earn&lt;/b&gt;"))
  }

  func testHTMLIsSelfContained() {
    let html = smallReport().renderHTML(top: 10)
    for bad in ["http://", "https://", "<link", "src=", "@import", "url(", "<script", "//fonts"] {
      XCTAssertFalse(html.lowercased().contains(bad), bad)
    }
    XCTAssertTrue(html.contains("<style>") && html.contains("<svg"))
  }

  /// (cx, cy) of every circle, and the viewBox's width and height.
  func circles(_ html: String) -> (points: [(Double, Double)], width: Double, height: Double) {
    func attribute(_ name: String, _ s: Substring) -> Double? {
      guard let start = s.range(of: " \(name)=\"") else { return nil }
      let rest = s[start.upperBound...]
      return rest.firstIndex(of: "\"").flatMap { Double(rest[..<$0]) }
    }
    var points: [(Double, Double)] = []
    for piece in html.components(separatedBy: "<circle").dropFirst() {
      let s = Substring(piece)
      points.append((attribute("cx", s) ?? .nan, attribute("cy", s) ?? .nan))
    }
    let box =
      html.range(of: "viewBox=\"0 0 ").map { html[$0.upperBound...] }?.split(separator: "\"").first
      ?? ""
    let wh = box.split(separator: " ").compactMap { Double($0) }
    return (points, wh.first ?? 0, wh.last ?? 0)
  }

  func assertInside(
    _ c: (points: [(Double, Double)], width: Double, height: Double),
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertGreaterThan(c.width, 0, file: file, line: line)
    for (x, y) in c.points {
      XCTAssertTrue(
        x >= 0 && x <= c.width && y >= 0 && y <= c.height, "(\(x), \(y))", file: file, line: line)
    }
  }

  func testDataMapHasOneCircleEachInsideTheViewBox() {
    var report = smallReport()
    var rng = SplitMix64(seed: 7)
    report.data_map = (0..<300).map { i in
      .init(
        line: 100 + i, label: "earn", confidence: rng.nextUnitFloat(),
        variability: rng.nextUnitFloat() * 0.45,
        correctness: Float(i % 6) / 5)
    }
    report.data_map.append(
      .init(line: 21, label: "earn", confidence: 1, variability: 0.45, correctness: 1))
    report.data_map.append(
      .init(line: 22, label: "trade", confidence: 0, variability: 0, correctness: 0))
    let html = report.renderHTML(top: 10)
    let c = circles(html)
    XCTAssertEqual(c.points.count, 302)
    assertInside(c)
    XCTAssertEqual(
      html.components(separatedBy: "<title>line ").count - 1, 2, "the two issues are outlined")
    for s in [
      "variability", "confidence", "easy-to-learn", "ambiguous", "hard-to-learn", "Correctness",
    ] {
      XCTAssertTrue(html.contains(s), s)
    }
    XCTAssertFalse(html.contains("nan"))
  }

  func testExactDuplicatesAreDrawnOnce() {
    var report = emptyReport()
    report.data_map =
      (0..<50).map {
        .init(line: $0, label: "a", confidence: 0.9, variability: 0.1, correctness: 1)
      }
      + [.init(line: 50, label: "a", confidence: 0.2, variability: 0.3, correctness: 0)]
    let html = report.renderHTML(top: 5)
    XCTAssertEqual(circles(html).points.count, 2)
    XCTAssertTrue(html.contains("49 rows at exactly the spot of another row"), "says so")
  }

  func testWithoutDynamicsPlotsAgainstRowOrder() {
    var report = emptyReport()
    report.label_issues = [.init(line: 7, label: "a", suggested: "b", score: 0.9, text: "t")]
    report.data_map = (1...400).map {
      .init(
        line: $0, label: "a", confidence: Float($0 % 10) / 9, variability: 0,
        correctness: $0 % 10 < 4 ? 0 : 1)
    }
    let html = report.renderHTML(top: 5)
    XCTAssertTrue(html.contains("No training dynamics"))
    XCTAssertTrue(html.contains("line number"))
    XCTAssertFalse(html.contains("easy-to-learn"), "the regions need dynamics")
    XCTAssertTrue(html.contains(">right<") && html.contains(">wrong<"), "a two-entry legend")
    let c = circles(html)
    XCTAssertEqual(c.points.count, 400)
    assertInside(c)
    XCTAssertEqual(Set(c.points.map { $0.0 }).count, 400, "one column per row")
  }

  func testLongTextFoldsIntoDetails() {
    var report = smallReport()
    report.label_issues[0].text = String(repeating: "word ", count: 300) + "END"
    let html = report.renderHTML(top: 10)
    XCTAssertTrue(html.contains("<details><summary>"))
    XCTAssertTrue(html.contains("END</details>"), "the whole text is in the page")
  }

  /// ~5,000 rows shaped like a real data map, 30 boundary rows, 20 label issues.
  func testRealisticReport() throws {
    let report = ReportShowcase.make()
    let html = report.renderHTML(top: 25)
    let c = circles(html)
    XCTAssertGreaterThan(c.points.count, 4_000)
    XCTAssertLessThanOrEqual(c.points.count, 5_000)
    assertInside(c)
    XCTAssertLessThan(html.utf8.count, 400_000, "the page stays small")
    let text = report.renderText(top: 25)
    XCTAssertTrue(
      text.contains("Likely label errors (20)") && text.contains("Boundary rows (top 25 of 30)"))
    if let path = ProcessInfo.processInfo.environment["QUARRY_REPORT_HTML"] {
      try writeFile(path, html)
      try writeFile(path.replacingOccurrences(of: ".html", with: "") + ".txt", text)
      var flat = report
      for k in flat.data_map.indices {
        flat.data_map[k].variability = 0
        flat.data_map[k].correctness = flat.data_map[k].confidence > 0.4 ? 1 : 0
      }
      flat.source = .model
      try writeFile(
        path.replacingOccurrences(of: ".html", with: "-model.html"), flat.renderHTML(top: 25))
      try writeFile(
        path.replacingOccurrences(of: ".html", with: "-empty.html"),
        emptyReport().renderHTML(top: 25))
    }
  }
}

/// A synthetic but realistic report over Reuters R8's labels: training dynamics simulated
/// over six epochs for 5,000 rows (mostly easy, an ambiguous band, a small hard cluster),
/// news-like texts, one long text and one with HTML special characters.
enum ReportShowcase {
  static let labels = ["acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"]

  static let texts = [
    "Shr 28 cts vs 22 cts net 1.4 mln vs 1.1 mln revs 12.6 mln vs 10.9 mln",
    "The company said it agreed to acquire the remaining 51 pct stake in its Canadian unit for 120 mln dlrs",
    "OPEC oil ministers meeting in Vienna agreed to extend output ceilings through the second quarter",
    "The Bundesbank left its discount rate unchanged at 3.0 pct, dealers said",
    "U.S. Agriculture Department reported export inspections of wheat at 18.2 mln bushels",
    "Japan's trade surplus widened to 8.14 billion dlrs in February from 5.76 billion a year earlier",
    "The dollar fell against the yen in nervous trading after remarks by Treasury officials",
    "Tanker rates for VLCCs loading in the Gulf firmed as owners held out for higher freight",
    "Fed funds opened at 6-1/4 pct and the Fed is expected to add reserves via customer repurchase agreements",
    "Texaco Canada said it raised crude postings 50 cts a barrel, effective today",
    "Qtly div 15 cts vs 15 cts prior, pay April 15, record March 31",
    "Talks on the takeover bid broke down, the board said, after the bidder refused to raise its offer",
    "Grain traders said the Soviet Union bought about 500,000 tonnes of U.S. corn for shipment in spring",
    "Bank of England provided the money market with 215 mln stg assistance in the afternoon session",
    "Strike at the port of Rotterdam entered its third week, halting container traffic",
    "The EC Commission proposed tariffs on Japanese semiconductors in retaliation, trade sources said",
  ]

  static let long =
    "Reuter - The board of directors said on Monday that, after a long review of strategic alternatives "
    + "that began last autumn and included talks with several potential partners in Europe and Japan, it had "
    + "agreed in principle to merge with its largest competitor in a share swap valued at about 1.2 billion "
    + "dlrs, creating the third largest producer of specialty chemicals in North America. Under the terms, "
    + "shareholders would receive 0.85 share of the combined company for each share held, a premium of "
    + "about 22 pct over Friday's closing price. The merger, which is subject to regulatory approval in the "
    + "United States and Canada as well as to the approval of both sets of shareholders, is expected to be "
    + "completed by the end of the third quarter. Analysts said the deal would let the companies cut annual "
    + "costs by some 90 mln dlrs, mostly by closing overlapping plants, but warned that antitrust authorities "
    + "could demand the sale of the polymer additives business, which had revenues of 310 mln dlrs last year. "
    + "Net profit for the year rose 14 pct to 88.3 mln dlrs, or 2.41 dlrs a share, on revenues of 1.9 billion."

  static let special =
    "Profit <up> 12 pct & dividend \"unchanged\" at 5 cts; CEO's note: <script>alert(1)</script> R&D > 40 pct"

  static func normal(_ rng: inout SplitMix64) -> Double {
    let u = Double(max(rng.nextUnitFloat(), 1e-7))
    let v = Double(rng.nextUnitFloat())
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
  }

  static func make() -> MineReport {
    var rng = SplitMix64(seed: 2020)
    var points: [MineReport.MapPoint] = []
    for line in 1...5_000 {
      let kind = rng.nextUnitFloat()
      // A row's logit of p(label) per epoch: mean, trend over epochs, epoch-to-epoch noise.
      let (mean, trend, noise): (Double, Double, Double) =
        kind < 0.72
        ? (2.2 + 1.6 * normal(&rng).magnitude, 1.2, 0.8)
        : kind < 0.94
          ? (1.2 * normal(&rng), 1.5 * normal(&rng), 1.4) : (-2.6 + 0.8 * normal(&rng), 0.3, 0.7)
      var ps: [Double] = []
      for epoch in 0..<6 {
        let logit = mean + trend * (Double(epoch) - 2.5) / 2.5 + noise * normal(&rng)
        ps.append(1 / (1 + exp(-logit)))
      }
      let confidence = ps.reduce(0, +) / 6
      let variability = (ps.map { ($0 - confidence) * ($0 - confidence) }.reduce(0, +) / 6)
        .squareRoot()
      let correctness = Double(ps.filter { $0 > 0.5 }.count) / 6
      points.append(
        .init(
          line: line, label: labels[Int(rng.next() % 8)], confidence: Float(confidence),
          variability: Float(variability), correctness: Float(correctness)))
    }
    func text(_ k: Int) -> String {
      k == 3 ? long : k == 7 ? special : texts[(k * 7) % texts.count]
    }
    func other(_ label: String, _ k: Int) -> String {
      let i = labels.firstIndex(of: label) ?? 0
      return labels[(i + 1 + k % 7) % 8]
    }
    let byConfidence = points.sorted { $0.confidence < $1.confidence }
    let issues = byConfidence.prefix(20).enumerated().map { k, p in
      MineReport.LabelIssue(
        line: p.line, label: p.label, suggested: other(p.label, k),
        score: 0.97 - Float(k) * 0.018 - p.confidence,
        text: text(k))
    }
    let byMargin = points.sorted { abs($0.confidence - 0.45) < abs($1.confidence - 0.45) }
    let boundary = byMargin.prefix(30).enumerated().map { k, p in
      MineReport.BoundaryRow(
        line: p.line, label: p.label, confused_with: other(p.label, k + 3),
        margin: Float(k) * 0.009 - 0.19 + (p.confidence - 0.45), text: text(k + 5))
    }.sorted { $0.margin < $1.margin }
    let pairs = [
      ("acq", "earn", 41, 63), ("earn", "acq", 29, 48), ("money-fx", "interest", 22, 35),
      ("interest", "money-fx", 17, 30), ("grain", "trade", 9, 14), ("crude", "ship", 7, 12),
      ("trade", "money-fx", 6, 11), ("ship", "crude", 5, 9), ("trade", "grain", 3, 8),
      ("acq", "crude", 2, 5),
    ]
    return MineReport(
      source: .dynamics, model: "out/r8.qmodel", data: "/root/.cache/quarry/corpora/r8/train.tsv",
      rows: points.count, labels: labels, boundary: boundary, label_issues: issues,
      confusions: pairs.map { .init(label: $0.0, confused_with: $0.1, count: $0.2, near: $0.3) },
      data_map: points)
  }
}
