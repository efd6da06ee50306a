import Foundation

extension MineReport {
  /// The report as one self-contained HTML page: inline CSS and SVG, no scripts, nothing
  /// fetched (a Content-Security-Policy forbids it). A summary line, the data map of
  /// dataset cartography (Swayamdipta et al. 2020) as SVG, and tables of the first `top`
  /// label issues, boundary rows and confused pairs. Every text from the data (row texts,
  /// labels, paths) is HTML-escaped.
  public func renderHTML(top: Int) -> String {
    let top = max(top, 0)
    let title = "Mine report — " + ReportHTML.fileName(data)
    return ReportHTML.page(
      title: title,
      body: htmlSummary() + DataMapSVG(report: self).section()
        + ReliabilitySVG(report: self).section() + htmlLabelIssues(top: top)
        + htmlBoundary(top: top) + htmlConfusions(top: top))
  }

  /// The data, model, size and source as a row of facts, then the counts, linked to
  /// their tables.
  private func htmlSummary() -> String {
    let e = ReportHTML.escape
    let facts = [
      ("data", "<code>\(e(data))</code>"), ("model", "<code>\(e(model))</code>"),
      ("rows", "\(ReportFormatting.grouped(rows)) · \(labels.count) labels"),
      ("figures from", e(source.words)),
    ]
    return ReportHTML.facts(facts)
      + ReportHTML.counts([
        ("label-issues", label_issues.count, "likely label errors"),
        ("boundary", boundary.count, "boundary rows"),
        ("confusions", confusions.count, "confused class pairs"),
      ])
  }

  private func htmlLabelIssues(top: Int) -> String {
    let shown = label_issues.prefix(top)
    return ReportHTML.rowsSection(
      id: "label-issues", title: "Likely label errors", total: label_issues.count,
      explain: "Rows whose given label is probably wrong, most probable first. "
        + "<i>Score</i>: how likely the given label is wrong (0–1); <i>suggested</i>: the label \(source.suggester == .outOfFold ? "the out-of-fold models, which never trained on the row, believe" : "the model believes").",
      columns: [
        ("line", "num line"), ("label", "lab"), ("suggested", "lab"), ("score", "num fig"),
        ("text", "text"),
      ],
      rows: shown.map { r in
        "<tr><td class=\"num\">\(r.line)</td><td>\(ReportHTML.chip(r.label))</td>"
          + "<td>\(ReportHTML.chip(r.suggested, suggested: true))</td>"
          + "<td class=\"num\">\(ReportHTML.bar(r.score, ReportFormatting.fixed(r.score, 3)))</td>"
          + "<td class=\"text\">\(ReportHTML.rowText(r.text))</td></tr>\n"
      })
  }

  private func htmlBoundary(top: Int) -> String {
    let shown = boundary.prefix(top)
    return ReportHTML.rowsSection(
      id: "boundary", title: "Boundary rows", total: boundary.count,
      explain: "Rows nearest the decision boundary, smallest margin first. "
        + "<i>Margin</i> = p(label) − p(confused with); negative: the model prefers the other class.",
      columns: [
        ("line", "num line"), ("label", "lab"), ("confused with", "lab"),
        ("margin", "num fig"), ("text", "text"),
      ],
      rows: shown.map { r in
        let margin = ReportFormatting.signed(r.margin, 3)
        return "<tr><td class=\"num\">\(r.line)</td><td>\(ReportHTML.chip(r.label))</td>"
          + "<td>\(ReportHTML.chip(r.confused_with))</td>"
          + "<td class=\"num\(margin.hasPrefix("−") ? " neg" : "")\">\(margin)</td>"
          + "<td class=\"text\">\(ReportHTML.rowText(r.text))</td></tr>\n"
      })
  }

  private func htmlConfusions(top: Int) -> String {
    let shown = confusions.prefix(top)
    var h = ReportHTML.sectionHead(
      id: "confusions", title: "Most confused class pairs", shown: shown.count,
      total: confusions.count,
      explain: "<i>Count</i>: rows of the label predicted as the other class; "
        + "<i>near</i>: rows of the label whose runner-up is the other class inside the boundary band."
    )
    if shown.isEmpty { return h + "</section>\n" }
    let maxCount = max(shown.map(\.count).max() ?? 1, 1)
    h +=
      "<table class=\"pairs\">\n<thead><tr><th>label</th><th class=\"arrow\"></th><th>taken for</th>"
    h += "<th class=\"num\">count</th><th class=\"num\">near</th></tr></thead>\n<tbody>\n"
    for c in shown {
      h +=
        "<tr><td>\(ReportHTML.chip(c.label))</td><td class=\"arrow\">→</td>"
        + "<td>\(ReportHTML.chip(c.confused_with))</td>"
        + "<td class=\"num\">\(ReportHTML.bar(Float(c.count) / Float(maxCount), ReportFormatting.grouped(c.count)))</td>"
        + "<td class=\"num\">\(ReportFormatting.grouped(c.near))</td></tr>\n"
    }
    return h + "</tbody></table>\n</section>\n"
  }
}

/// HTML building blocks for `MineReport.renderHTML`.
enum ReportHTML {
  /// A whole page: inline CSS, no scripts, nothing fetched (a Content-Security-Policy
  /// forbids it), `title` escaped as the page's title and heading, then `body`.
  static func page(title: String, body: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    \(FileKind.reportGenerator)
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
    <title>\(escape(title))</title>
    <style>\(css)</style>
    </head>
    <body>
    <main>
    <h1>\(escape(title))</h1>

    """ + body + "</main>\n</body>\n</html>\n"
  }

  /// The facts of a report as a row of (name, HTML value) pairs.
  static func facts(_ facts: [(String, String)]) -> String {
    var h = "<dl class=\"facts\">"
    for (name, value) in facts { h += "<div><dt>\(name)</dt><dd>\(value)</dd></div>" }
    return h + "</dl>\n"
  }

  /// Counts linked to their sections: (section id, count, words).
  static func counts(_ counts: [(String, Int, String)]) -> String {
    "<p class=\"summary\">"
      + counts.map {
        "<a href=\"#\($0.0)\"><b>\(ReportFormatting.grouped($0.1))</b> \($0.2)</a>"
      }.joined(separator: " <span class=\"sep\">·</span> ") + "</p>\n"
  }
  /// `s` with `& < > " '` escaped, safe in text and in quoted attributes; control
  /// characters other than tab and newline are dropped.
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
      switch u {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      case "\t", "\n": out.unicodeScalars.append(u)
      default:
        if u.value < 0x20 || (0x7F...0x9F).contains(u.value) { continue }
        out.unicodeScalars.append(u)
      }
    }
    return out
  }

  /// The last component of a path.
  static func fileName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
  }

  /// A label as a small chip.
  static func chip(_ label: String, suggested: Bool = false) -> String {
    "<span class=\"chip\(suggested ? " sug" : "")\">\(escape(label))</span>"
  }

  /// A number after a small bar filled to `fraction` (0–1); numbers of up to five
  /// characters keep the bars of a column aligned.
  static func bar(_ fraction: Float, _ text: String) -> String {
    let f = fraction.isFinite ? min(max(fraction, 0), 1) : 0
    let percent = Int((f * 100).rounded())
    return
      "<span class=\"bar\"><span style=\"width:\(percent)%\"></span></span><span class=\"v\">\(text)</span>"
  }

  /// A row text, escaped; past 360 characters the rest folds into a `<details>`.
  static func rowText(_ text: String) -> String {
    let limit = 360
    guard text.count > limit + 40 else { return escape(text) }
    var cut = text.index(text.startIndex, offsetBy: limit)
    if let space = text[..<cut].lastIndex(of: " "), text.distance(from: space, to: cut) < 40 {
      cut = space
    }
    let rest = text[cut...]
    return "<details><summary>\(escape(String(text[..<cut])))<span class=\"more\"> … "
      + "(\(ReportFormatting.grouped(rest.count)) more characters)</span></summary>"
      + "\(escape(String(rest)))</details>"
  }

  static func sectionHead(id: String, title: String, shown: Int, total: Int, explain: String)
    -> String
  {
    var h = "<section id=\"\(id)\">\n<h2>\(title)"
    if total > 0 {
      let count =
        shown == total
        ? ReportFormatting.grouped(total) : "top \(shown) of \(ReportFormatting.grouped(total))"
      h += " <span class=\"count\">\(count)</span>"
    }
    h += "</h2>\n"
    if total == 0 { return h + "<p class=\"empty\">None in this report.</p>\n" }
    return h + "<p class=\"explain\">\(explain)</p>\n"
  }

  /// A section of rows: its head, then, when it shows any, a table of `columns`
  /// (name, class) whose body is `rows`, each a whole `<tr>` line.
  static func rowsSection(
    id: String, title: String, total: Int, explain: String, columns: [(String, String)],
    rows: [String]
  ) -> String {
    let h = sectionHead(id: id, title: title, shown: rows.count, total: total, explain: explain)
    if rows.isEmpty { return h + "</section>\n" }
    return h + tableHead(columns) + rows.joined() + "</tbody></table>\n</section>\n"
  }

  /// `<table><colgroup>…<thead>…<tbody>` for (header, class) columns.
  static func tableHead(_ columns: [(String, String)]) -> String {
    var h = "<table class=\"rows\">\n<colgroup>"
    for (_, cls) in columns { h += "<col class=\"\(cls)\">" }
    h += "</colgroup>\n<thead><tr>"
    for (name, cls) in columns {
      h += cls.hasPrefix("num") ? "<th class=\"num\">\(name)</th>" : "<th>\(name)</th>"
    }
    return h + "</tr></thead>\n<tbody>\n"
  }

  static let css = """
    :root{--ink:#1d2330;--muted:#5b6475;--rule:#dde1e8;--zebra:#f5f7fa;--accent:#3b5bdb}
    *{box-sizing:border-box}
    body{margin:0;background:#fff;color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
    main{max-width:1120px;margin:0 auto;padding:28px 32px 48px}
    h1{font-size:26px;margin:0 0 6px;font-weight:650}
    h2{font-size:19px;margin:36px 0 4px;font-weight:650;border-bottom:1px solid var(--rule);padding-bottom:4px}
    h2 .count{font-size:14px;font-weight:500;color:var(--muted);margin-left:6px}
    code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f6;padding:1px 5px;border-radius:4px;overflow-wrap:anywhere}
    .facts{display:flex;flex-wrap:wrap;gap:6px 32px;margin:10px 0 8px}
    .facts dt{font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
    .facts dd{margin:0}
    .summary{color:var(--muted);margin:0 0 8px}
    .summary a{color:inherit;text-decoration:none;border-bottom:1px solid var(--rule)}
    .summary a:hover{color:var(--accent)}
    .summary b{color:var(--ink)}
    .sep{color:#b0b6c2;margin:0 2px}
    .explain,.note,.empty{color:var(--muted);font-size:14px;margin:4px 0 12px}
    .empty{font-style:italic}
    .map{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}
    .map svg{flex:1 1 640px;max-width:760px;height:auto}
    .map svg text{fill:#2b3140}
    .reliability svg{width:100%;max-width:400px;height:auto}
    .legend{flex:0 1 260px;font-size:13.5px;padding-top:8px}
    .legend h3{font-size:13.5px;margin:0 0 6px;font-weight:650}
    .legend ul{list-style:none;margin:0 0 14px;padding:0}
    .legend li{display:flex;align-items:center;gap:8px;margin:2px 0}
    .legend .n{margin-left:auto;color:var(--muted);font-variant-numeric:tabular-nums}
    .dot{display:inline-block;width:11px;height:11px;border-radius:50%;flex:none}
    .dot.issue{width:12px;height:12px;background:#fff;border:2.5px solid #111}
    .legend dl{margin:0;color:var(--muted)}
    .legend dt{font-weight:600;color:var(--ink);margin-top:6px}
    .legend dd{margin:0}
    table{border-collapse:collapse;font-size:14px}
    table.rows{width:100%;table-layout:fixed}
    col.line{width:64px}col.lab{width:122px}col.fig{width:112px}col.wide{width:230px}col.kind{width:76px}
    th{white-space:nowrap;text-align:left;font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.04em;padding:6px 10px;border-bottom:2px solid var(--rule)}
    td{padding:6px 10px;vertical-align:baseline;border-bottom:1px solid #edf0f4}
    tbody tr:nth-child(even){background:var(--zebra)}
    .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    td.num{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
    td.neg{color:#c0392b}
    td.text{overflow-wrap:anywhere;white-space:normal}
    details summary{cursor:pointer;list-style:none}
    details summary::-webkit-details-marker{display:none}
    details .more{color:var(--accent);font-size:13px}
    details[open] .more{display:none}
    .chip{display:inline-block;max-width:100%;padding:0 7px;border-radius:10px;background:#eef1f6;border:1px solid #dfe3ea;font-size:13px;overflow-wrap:anywhere}
    .bar{display:inline-block;vertical-align:middle;height:6px;width:36px;margin:0 8px 2px 0;background:#e8ebf1;border-radius:3px;overflow:hidden}
    .bar span{display:block;height:6px;background:#7d8fd6}
    .v{display:inline-block;min-width:5ch;text-align:right}
    table.pairs td.arrow{color:var(--muted);padding:6px 2px}
    table.pairs td{padding-right:18px}
    .chip.sug{background:#e6ecff;border-color:#c9d4fb}
    """
}

/// The data map of dataset cartography as an SVG figure beside its legend: x = variability
/// (from 0 to a round number above its maximum), y = confidence (0–1), one circle per row
/// coloured by correctness, label-issue rows outlined on top. Without training dynamics
/// (every variability 0) x is the row's line number instead.
struct DataMapSVG {
  let report: MineReport

  static let width = 760.0
  static let height = 500.0
  static let plotLeft = 66.0
  static let plotRight = 744.0
  static let plotTop = 14.0
  static let plotBottom = 446.0
  /// Correctness 0, 0.2, …, 1 (rounded to fifths): a sequential palette (plasma, light
  /// orange to dark indigo) whose darkest colour, the most common, means always right.
  static let palette = ["#f89540", "#e16462", "#b12a90", "#7e03a8", "#4c02a1", "#0d0887"]

  struct Point {
    var x: Double
    var y: Double
    var bin: Int
    var line: Int
    var label: String
  }

  func section() -> String {
    var h = "<section id=\"data-map\">\n<h2>Data map</h2>\n"
    let points = report.data_map
    if points.isEmpty {
      return h + "<p class=\"empty\">No rows: the data map is empty.</p>\n</section>\n"
    }
    let dynamics = points.contains { $0.variability.isFinite && $0.variability > 0 }
    let issues = Dictionary(
      report.label_issues.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
    let (svg, drawn, merged) = render(dynamics: dynamics, issues: issues)
    let skipped = points.count - drawn - merged
    if dynamics {
      h +=
        "<p class=\"note\">One point per row: <i>confidence</i> is the mean probability of the row's label "
        + (report.source == .crossFit
          ? "across the epochs of the fold model that never trained on the row, "
          : "across training epochs, ")
        + "<i>variability</i> its standard deviation; colour: how often the row was "
        + "predicted right. Outlined: the likely label errors listed below.</p>\n"
    } else {
      h +=
        "<p class=\"note\"><b>No training dynamics</b> in this report (variability is 0 for every row), so "
        + "the map plots each row's confidence — the model's probability of its label — against its line "
        + "number; colour: whether the model predicts it right. Outlined: the likely label errors listed below.</p>\n"
    }
    h += "<div class=\"map\">\n" + svg + legend(dynamics: dynamics, issues: issues) + "</div>\n"
    var notes: [String] = []
    if merged > 0 {
      notes.append(
        "\(ReportFormatting.grouped(merged)) rows at exactly the spot of another row of the same colour are drawn once"
      )
    }
    if skipped > 0 {
      notes.append(
        "\(ReportFormatting.grouped(skipped)) rows without a finite confidence are left out")
    }
    if !notes.isEmpty {
      h +=
        "<p class=\"note\">\(ReportFormatting.grouped(drawn)) points drawn; "
        + notes.joined(separator: "; ") + ".</p>\n"
    }
    return h + "</section>\n"
  }

  static func bin(_ correctness: Float) -> Int {
    guard correctness.isFinite else { return 0 }
    return min(max(Int((correctness * 5).rounded()), 0), 5)
  }

  /// The SVG, the circles drawn, and the rows merged into an identical circle.
  func render(dynamics: Bool, issues issueByLine: [Int: MineReport.LabelIssue]) -> (
    String, Int, Int
  ) {
    typealias S = DataMapSVG
    let usable = report.data_map.filter {
      $0.confidence.isFinite && (!dynamics || $0.variability.isFinite)
    }
    // The x domain and its ticks.
    let lo: Double
    let hi: Double
    let step: Double
    if dynamics {
      let maxVar = Double(usable.map { max($0.variability, 0) }.max() ?? 0)
      step = S.niceStep(max(maxVar, 1e-6) / 5)
      lo = 0
      hi = max((maxVar / step - 1e-9).rounded(.up), 1) * step
    } else {
      let lines = usable.map { Double($0.line) }
      let minLine = lines.min() ?? 0
      let maxLine = max(lines.max() ?? 1, minLine + 1)
      step = max(S.niceStep((maxLine - minLine) / 6), 1)
      lo = (minLine / step).rounded(.down) * step
      hi = (maxLine / step).rounded(.up) * step
    }
    let pw = S.plotRight - S.plotLeft
    let ph = S.plotBottom - S.plotTop
    // Data sit a few pixels inside the axes, so that points at 0 do not cover them.
    let inset = 7.0
    func px(_ v: Double) -> Double {
      S.plotLeft + inset + min(max((v - lo) / (hi - lo), 0), 1) * (pw - 2 * inset)
    }
    func py(_ c: Double) -> Double { S.plotBottom - inset - min(max(c, 0), 1) * (ph - 2 * inset) }

    var s =
      "<svg viewBox=\"0 0 \(Int(S.width)) \(Int(S.height))\" width=\"\(Int(S.width))\" height=\"\(Int(S.height))\" "
      + "role=\"img\" aria-label=\"Data map\" font-size=\"12\">\n"
    s +=
      "<rect x=\"\(S.c(S.plotLeft))\" y=\"\(S.c(S.plotTop))\" width=\"\(S.c(pw))\" height=\"\(S.c(ph))\" fill=\"#fafbfd\"/>\n"
    // Grid, ticks and tick labels.
    s += "<g fill=\"none\" stroke=\"#e3e7ee\" stroke-width=\"1\">"
    let xTicks = stride(from: lo, through: hi + step * 1e-6, by: step).map { $0 }
    let yTicks = stride(from: 0.0, through: 1.0001, by: 0.2).map { $0 }
    for t in xTicks { s += "<path d=\"M\(S.c(px(t))) \(S.c(S.plotTop))V\(S.c(S.plotBottom))\"/>" }
    for t in yTicks { s += "<path d=\"M\(S.c(S.plotLeft)) \(S.c(py(t)))H\(S.c(S.plotRight))\"/>" }
    s += "</g>\n<g fill=\"none\" stroke=\"#5b6475\" stroke-width=\"1\">"
    s +=
      "<path d=\"M\(S.c(S.plotLeft)) \(S.c(S.plotTop))V\(S.c(S.plotBottom))H\(S.c(S.plotRight))\"/>"
    for t in xTicks { s += "<path d=\"M\(S.c(px(t))) \(S.c(S.plotBottom))v5\"/>" }
    for t in yTicks { s += "<path d=\"M\(S.c(S.plotLeft)) \(S.c(py(t)))h-5\"/>" }
    s += "</g>\n<g text-anchor=\"middle\">"
    let decimals = dynamics ? max(0, Int((-log10(step) - 1e-9).rounded(.up))) : 0
    for t in xTicks {
      let label =
        dynamics ? String(format: "%.\(decimals)f", t) : ReportFormatting.grouped(Int(t.rounded()))
      s += "<text x=\"\(S.c(px(t)))\" y=\"\(S.c(S.plotBottom + 19))\">\(label)</text>"
    }
    s += "</g>\n<g text-anchor=\"end\">"
    for t in yTicks {
      s +=
        "<text x=\"\(S.c(S.plotLeft - 9))\" y=\"\(S.c(py(t) + 4))\">\(String(format: "%.1f", t))</text>"
    }
    s += "</g>\n"
    let xTitle =
      dynamics
      ? "variability (std. of p(label) across epochs)" : "row (line number in the data file)"
    let yTitle =
      dynamics ? "confidence (mean p(label) across epochs)" : "confidence: the model's p(label)"
    s +=
      "<text x=\"\(S.c(S.plotLeft + pw / 2))\" y=\"\(S.c(S.height - 8))\" text-anchor=\"middle\" font-size=\"13.5\" font-weight=\"600\">\(xTitle)</text>\n"
    s +=
      "<text transform=\"translate(18 \(S.c(S.plotTop + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13.5\" font-weight=\"600\">\(yTitle)</text>\n"

    // Points: most often right first, so the rarer hard rows stay visible on top.
    let radius = usable.count > 20_000 ? 1.7 : usable.count > 2_000 ? 2.2 : 3
    var byBin = [[Point]](repeating: [], count: S.palette.count)
    var issues: [Point] = []
    var seen = Set<Int>()
    var drawn = 0
    var merged = 0
    for p in usable {
      let x = dynamics ? px(Double(p.variability)) : px(Double(p.line))
      let point = Point(
        x: (x * 10).rounded() / 10, y: (py(Double(p.confidence)) * 10).rounded() / 10,
        bin: S.bin(p.correctness), line: p.line, label: p.label)
      if issueByLine[p.line] != nil {
        issues.append(point)
        drawn += 1
        continue
      }
      let key =
        (point.bin * 10_000 + Int((point.x * 10).rounded())) * 10_000
        + Int((point.y * 10).rounded())
      if !seen.insert(key).inserted {
        merged += 1
        continue
      }
      byBin[point.bin].append(point)
      drawn += 1
    }
    let r = S.c(radius)
    for bin in stride(from: S.palette.count - 1, through: 0, by: -1) where !byBin[bin].isEmpty {
      s +=
        "<g fill=\"\(S.palette[bin])\" fill-opacity=\"\(bin == S.palette.count - 1 ? "0.45" : "0.75")\">\n"
      for p in byBin[bin] { s += "<circle cx=\"\(S.c(p.x))\" cy=\"\(S.c(p.y))\" r=\"\(r)\"/>" }
      s += "\n</g>\n"
    }
    if dynamics {
      // Region names where the paper puts them, each at the emptiest of a few spots near
      // its corner, under the outlined label issues.
      let all = byBin.flatMap { $0 } + issues
      let left = S.plotLeft + 12
      let right = S.plotRight - 12
      let mid = S.plotTop + ph / 2
      let easy = S.emptiest(
        "easy-to-learn", anchorEnd: false, among: all,
        [0, 50, 100, 150, 200].flatMap { dx in
          [(left + dx, S.plotTop + 24), (left + dx, S.plotTop + 44)]
        })
      let hard = S.emptiest(
        "hard-to-learn", anchorEnd: false, among: all,
        [0, 50, 100, 150, 200, 250].flatMap { dx in
          [(left + dx, S.plotBottom - 14), (left + dx, S.plotBottom - 34)]
        })
      let ambiguous = S.emptiest(
        "ambiguous", anchorEnd: true, among: all,
        [0, -40, 40, -80, 80, -120, 120].map { (right, mid + Double($0)) })
      s += "<g font-size=\"14\" font-style=\"italic\" font-weight=\"600\" fill=\"#1d2330\" "
      s += "stroke=\"#fff\" stroke-width=\"4\" stroke-linejoin=\"round\" paint-order=\"stroke\">"
      s += "<text x=\"\(S.c(easy.0))\" y=\"\(S.c(easy.1))\">easy-to-learn</text>"
      s += "<text x=\"\(S.c(hard.0))\" y=\"\(S.c(hard.1))\">hard-to-learn</text>"
      s +=
        "<text x=\"\(S.c(ambiguous.0))\" y=\"\(S.c(ambiguous.1))\" text-anchor=\"end\">ambiguous</text>"
      s += "</g>\n"
    }
    if !issues.isEmpty {
      s += "<g stroke=\"#111\" stroke-width=\"1.8\">\n"
      for p in issues {
        s +=
          "<circle cx=\"\(S.c(p.x))\" cy=\"\(S.c(p.y))\" r=\"\(S.c(radius + 2.3))\" fill=\"\(S.palette[p.bin])\">"
        let issue = issueByLine[p.line]
        let suggested = issue.map { " → " + ReportHTML.escape($0.suggested) } ?? ""
        s += "<title>line \(p.line): \(ReportHTML.escape(p.label))\(suggested)</title></circle>"
      }
      s += "\n</g>\n"
    }
    s += "</svg>\n"
    return (s, drawn, merged)
  }

  func legend(dynamics: Bool, issues: [Int: MineReport.LabelIssue]) -> String {
    var counts = [Int](repeating: 0, count: DataMapSVG.palette.count)
    for p in report.data_map { counts[DataMapSVG.bin(p.correctness)] += 1 }
    let binary = report.data_map.allSatisfy { $0.correctness == 0 || $0.correctness == 1 }
    var h = "<div class=\"legend\">\n"
    var entries: [(Int, String)] = []
    if binary {
      h += "<h3>Prediction</h3>\n<ul>\n"
      entries = [(5, "right"), (0, "wrong")]
    } else {
      h +=
        "<h3>Correctness</h3>\n<p class=\"explain\">share of epochs in which the row was predicted right</p>\n<ul>\n"
      entries = (0..<counts.count).reversed().map { ($0, String(format: "%.1f", Double($0) / 5)) }
    }
    for (bin, name) in entries {
      h += "<li><span class=\"dot\" style=\"background:\(DataMapSVG.palette[bin])\"></span>\(name)"
      h += "<span class=\"n\">\(ReportFormatting.grouped(counts[bin]))</span></li>\n"
    }
    let outlined = report.data_map.filter { issues[$0.line] != nil }.count
    h +=
      "<li><span class=\"dot issue\"></span>likely label error<span class=\"n\">\(ReportFormatting.grouped(outlined))</span></li>\n"
    h += "</ul>\n"
    if dynamics {
      h += "<dl>\n<dt>easy-to-learn</dt><dd>high confidence, low variability</dd>\n"
      h += "<dt>ambiguous</dt><dd>high variability: the model keeps changing its mind</dd>\n"
      h +=
        "<dt>hard-to-learn</dt><dd>low confidence, low variability: often mislabelled</dd>\n</dl>\n"
    }
    return h + "</div>\n"
  }

  /// Of the candidate baselines (x, y) for `text`, the first whose box (about 8 units a
  /// character, 16 high) covers the fewest points.
  static func emptiest(
    _ text: String, anchorEnd: Bool, among points: [Point], _ candidates: [(Double, Double)]
  ) -> (Double, Double) {
    let w = Double(text.count) * 8
    var best = candidates.first ?? (plotLeft, plotTop)
    var fewest = Int.max
    for (x, y) in candidates {
      let x0 = anchorEnd ? x - w - 4 : x - 4
      let covered = points.filter {
        $0.x >= x0 && $0.x <= x0 + w + 8 && $0.y >= y - 18 && $0.y <= y + 6
      }.count
      if covered < fewest {
        fewest = covered
        best = (x, y)
      }
    }
    return best
  }

  /// 1, 2 or 5 times a power of ten, at least `raw`.
  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let norm = raw / magnitude
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude
  }

  /// A coordinate with at most one decimal: "12", "12.5".
  static func c(_ v: Double) -> String {
    let tenths = Int((v * 10).rounded())
    let sign = tenths < 0 ? "-" : ""
    let m = tenths.magnitude
    return m % 10 == 0 ? "\(sign)\(m / 10)" : "\(sign)\(m / 10).\(m % 10)"
  }
}
