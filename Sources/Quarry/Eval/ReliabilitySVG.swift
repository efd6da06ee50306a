import Foundation

/// The reliability diagram of a report's probabilities as an SVG figure: per bin of the
/// top-label probability, a bar as high as the share of its rows predicted right, drawn
/// over the bin's width, with a dot at (mean confidence, accuracy); the diagonal is
/// perfect calibration. A bar's shade grows with the bin's share of the rows, and bins
/// without rows are left out. ECE and log loss are printed above it.
struct ReliabilitySVG {
  let report: MineReport

  static let size = 360.0
  static let left = 52.0
  static let top = 12.0
  static let plot = 290.0

  func section() -> String {
    var h = "<section id=\"calibration\">\n<h2>Calibration</h2>\n"
    guard let c = report.calibration, report.rows > 0 else {
      return h + "<p class=\"empty\">No calibration figures in this report.</p>\n</section>\n"
    }
    let fixed = ReportFormatting.fixed
    h +=
      "<p class=\"explain\">Expected calibration error <b>\(fixed(c.ece, 4))</b>, log loss "
      + "<b>\(fixed(c.log_loss, 4))</b>, over \(c.bins.count) bins of the top-label "
      + "probability, from \(ReportHTML.escape(report.source.words)). A bar is a bin's share of "
      + "rows predicted right; bars on the diagonal mean the probabilities say what they mean, "
      + "below it that they claim too much.</p>\n"
    return h + "<div class=\"reliability\">" + svg(c) + "</div>\n</section>\n"
  }

  func svg(_ c: MineReport.CalibrationSummary) -> String {
    typealias S = ReliabilitySVG
    func px(_ v: Double) -> Double { S.left + min(max(v, 0), 1) * S.plot }
    func py(_ v: Double) -> Double { S.top + (1 - min(max(v, 0), 1)) * S.plot }
    let n = Double(max(c.bins.reduce(0) { $0 + $1.rows }, 1))
    let r = DataMapSVG.c
    var s =
      "<svg viewBox=\"0 0 \(Int(S.size)) \(Int(S.size))\" width=\"\(Int(S.size))\" height=\"\(Int(S.size))\" "
      + "role=\"img\" aria-label=\"Reliability diagram\" font-size=\"12\">\n"
    // Axes with ticks every 0.2, and the diagonal.
    for t in stride(from: 0.0, through: 1.0001, by: 0.2) {
      s +=
        "<line x1=\"\(r(px(t)))\" y1=\"\(r(py(0)))\" x2=\"\(r(px(t)))\" y2=\"\(r(py(1)))\" stroke=\"#edf0f4\"/>"
        + "<line x1=\"\(r(px(0)))\" y1=\"\(r(py(t)))\" x2=\"\(r(px(1)))\" y2=\"\(r(py(t)))\" stroke=\"#edf0f4\"/>"
        + "<text x=\"\(r(px(t)))\" y=\"\(r(py(0) + 16))\" text-anchor=\"middle\">\(String(format: "%.1f", t))</text>"
        + "<text x=\"\(r(px(0) - 6))\" y=\"\(r(py(t) + 4))\" text-anchor=\"end\">\(String(format: "%.1f", t))</text>\n"
    }
    for b in c.bins where b.rows > 0 {
      let shade = 0.25 + 0.75 * (Double(b.rows) / n).squareRoot()
      s +=
        "<rect x=\"\(r(px(Double(b.lower)) + 1))\" y=\"\(r(py(Double(b.accuracy))))\" "
        + "width=\"\(r((Double(b.upper - b.lower)) * S.plot - 2))\" "
        + "height=\"\(r(py(0) - py(Double(b.accuracy))))\" fill=\"#3b5bdb\" fill-opacity=\"\(String(format: "%.2f", shade))\">"
        + "<title>\(String(format: "%.2f–%.2f", b.lower, b.upper)): \(b.rows) rows, "
        + "confidence \(String(format: "%.3f", b.confidence)), accuracy \(String(format: "%.3f", b.accuracy))</title></rect>\n"
        + "<circle cx=\"\(r(px(Double(b.confidence))))\" cy=\"\(r(py(Double(b.accuracy))))\" r=\"3\" fill=\"#111\"/>\n"
    }
    s +=
      "<line x1=\"\(r(px(0)))\" y1=\"\(r(py(0)))\" x2=\"\(r(px(1)))\" y2=\"\(r(py(1)))\" stroke=\"#c0392b\" stroke-dasharray=\"5 4\"/>\n"
      + "<rect x=\"\(r(px(0)))\" y=\"\(r(py(1)))\" width=\"\(r(S.plot))\" height=\"\(r(S.plot))\" fill=\"none\" stroke=\"#8a93a5\"/>\n"
      + "<text x=\"\(r(px(0.5)))\" y=\"\(r(py(0) + 34))\" text-anchor=\"middle\">top-label probability</text>\n"
      + "<text transform=\"translate(14 \(r(py(0.5)))) rotate(-90)\" text-anchor=\"middle\">share right</text>\n"
    return s + "</svg>"
  }
}
