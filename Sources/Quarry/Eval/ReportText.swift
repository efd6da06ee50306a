import Foundation

extension MineReport {
  /// The report for a terminal, as plain text without ANSI escapes: a header line (data,
  /// model, rows, source), then "Likely label errors", "Boundary rows" and "Most confused
  /// class pairs", each limited to its first `top` entries, in the report's order.
  ///
  /// Columns are aligned; row texts are put on one line (control characters become
  /// spaces) and cut with "…" so that every line fits in `width` characters (a line too
  /// long even without its text is cut at the end, a header field in the middle). Widths
  /// count `Character`s, which is the terminal width for most scripts.
  public func renderText(top: Int, width: Int = 100) -> String {
    let top = max(top, 0)
    let width = max(width, 1)
    let flat = ReportFormatting.oneLine
    var out = textHeader(width: width)

    let issues = label_issues.prefix(top)
    out += ReportTextTable.section(
      "Likely label errors", shown: issues.count, of: label_issues.count, width: width
    ) {
      let labelWidth = issues.map { flat($0.label).count }.max() ?? 0
      return ReportTextTable(
        headers: [
          "line",
          "label → suggested"
            + (source.suggester == .outOfFold ? " (by the out-of-fold models)" : ""),
          "score", "text",
        ],
        rightAligned: [true, false, true],
        rows: issues.map {
          [
            String($0.line),
            ReportFormatting.padded(flat($0.label), labelWidth) + " → " + flat($0.suggested),
            ReportFormatting.fixed($0.score, 3), $0.text,
          ]
        })
    }
    let boundaryRows = boundary.prefix(top)
    out += ReportTextTable.section(
      "Boundary rows", shown: boundaryRows.count, of: boundary.count, width: width
    ) {
      ReportTextTable(
        headers: ["line", "label", "confused with", "margin", "text"],
        rightAligned: [true, false, false, true],
        rows: boundaryRows.map {
          [
            String($0.line), flat($0.label), flat($0.confused_with),
            ReportFormatting.signed($0.margin, 3), $0.text,
          ]
        })
    }
    let pairs = confusions.prefix(top)
    out += ReportTextTable.section(
      "Most confused class pairs", shown: pairs.count, of: confusions.count, width: width
    ) {
      let labelWidth = pairs.map { flat($0.label).count }.max() ?? 0
      return ReportTextTable(
        headers: ["label → confused with", "count", "near"],
        rightAligned: [false, true, true],
        rows: pairs.map {
          [
            ReportFormatting.padded(flat($0.label), labelWidth) + " → " + flat($0.confused_with),
            String($0.count), String($0.near),
          ]
        },
        freeText: false)
    }
    return out.map { ReportFormatting.truncated($0, width) }.joined(separator: "\n") + "\n"
  }

  /// The header (`ReportFormatting.header`), with the calibration when there is one.
  private func textHeader(width: Int) -> [String] {
    ReportFormatting.header(
      [
        "data: " + ReportFormatting.oneLine(data), "model: " + ReportFormatting.oneLine(model),
        "rows: " + ReportFormatting.grouped(rows), "figures from: " + source.words,
      ],
      calibration: calibration.map {
        "calibration: ECE " + ReportFormatting.fixed($0.ece, 4) + ", log loss "
          + ReportFormatting.fixed($0.log_loss, 4)
          + " (\($0.bins.count) bins of the top-label probability)"
      }, width: width)
  }
}

/// Columns separated by two spaces under an underlined header; all but the last column are
/// as wide as their widest cell, and the last one, when it is free text, is put on one line
/// and takes the rest of the width, cut to fit. Other cells must be on one line already.
struct ReportTextTable {
  var headers: [String]
  /// For every column but the last, whether it is right-aligned (numbers).
  var rightAligned: [Bool]
  var rows: [[String]]
  var freeText = true

  /// A blank line, the section's title with how many rows it shows of how many, and the
  /// table when it shows any.
  static func section(
    _ title: String, shown: Int, of total: Int, width: Int, table: () -> ReportTextTable
  ) -> [String] {
    ["", ReportFormatting.sectionTitle(title, shown: shown, of: total)]
      + (shown > 0 ? table().render(width: width) : [])
  }

  func render(width: Int) -> [String] {
    let indent = "  "
    let fixedCount = headers.count - 1
    var widths = headers.map { $0.count }
    for row in rows {
      for (k, cell) in row.enumerated() where k < fixedCount || !freeText {
        widths[k] = max(widths[k], cell.count)
      }
    }
    let fixedWidth = widths.prefix(fixedCount).reduce(0, +) + 2 * fixedCount + indent.count
    let textWidth = freeText ? max(width - fixedWidth, 1) : widths[fixedCount]

    func line(_ cells: [String]) -> String {
      var parts: [String] = []
      for (k, cell) in cells.enumerated() {
        if k < fixedCount {
          let right = k < rightAligned.count && rightAligned[k]
          parts.append(ReportFormatting.padded(cell, widths[k], right: right))
        } else if freeText {
          parts.append(ReportFormatting.truncated(ReportFormatting.oneLine(cell), textWidth))
        } else {
          parts.append(ReportFormatting.padded(cell, widths[k], right: rightAligned.last ?? false))
        }
      }
      return indent + parts.joined(separator: "  ")
    }

    var out = [line(headers)]
    let rules = (0..<headers.count).map { k in
      String(repeating: "-", count: k < fixedCount ? widths[k] : min(textWidth, max(widths[k], 4)))
    }
    out.append(indent + rules.joined(separator: "  "))
    out += rows.map(line)
    return out.map { $0.replacingOccurrences(of: " +$", with: "", options: .regularExpression) }
  }
}

/// Number and text formatting shared by the text and HTML renderers.
enum ReportFormatting {
  /// `x` with `digits` decimals; "–" when not finite.
  static func fixed(_ x: Float, _ digits: Int) -> String {
    x.isFinite ? String(format: "%.\(digits)f", Double(x)) : "–"
  }

  /// `x` with an explicit sign ("+0.120", "−0.050" with a minus sign; "0.000" unsigned).
  static func signed(_ x: Float, _ digits: Int) -> String {
    guard x.isFinite else { return "–" }
    let magnitude = String(format: "%.\(digits)f", Double(abs(x)))
    if magnitude.allSatisfy({ $0 == "0" || $0 == "." }) { return magnitude }
    return (x < 0 ? "−" : "+") + magnitude
  }

  /// `n` with thousands separated by commas: 12,345.
  static func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (k, c) in digits.enumerated() {
      if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return n < 0 ? "-" + out : out
  }

  /// A report's header: "Mine report" and its fields on one line when it fits in
  /// `width`, else one field a line; then the calibration line, if any, indented as the
  /// fields are.
  static func header(_ fields: [String], calibration: String?, width: Int) -> [String] {
    let line = "Mine report  " + fields.joined(separator: "  ")
    let head = line.count <= width ? [line] : ["Mine report"] + fields.map { fit("  " + $0, width) }
    guard let calibration else { return head }
    return head + [fit((head.count > 1 ? "  " : "") + calibration, width)]
  }

  /// "Title (n)", "Title (top n of m)", or "Title: none" for an empty list.
  static func sectionTitle(_ title: String, shown: Int, of total: Int) -> String {
    if total == 0 { return title + ": none" }
    if shown == total { return "\(title) (\(grouped(total)))" }
    return "\(title) (top \(grouped(shown)) of \(grouped(total)))"
  }

  /// `s` on one line: control characters (newlines, tabs, escapes) and bidirectional
  /// overrides become spaces, runs of white space one space, ends trimmed.
  static func oneLine(_ s: String) -> String {
    var out = ""
    var pendingSpace = false
    for c in s {
      let blank =
        c.isWhitespace
        || c.unicodeScalars.contains {
          $0.properties.generalCategory == .control || (0x202A...0x202E).contains($0.value)
            || (0x2066...0x2069).contains($0.value)
        }
      if blank {
        pendingSpace = !out.isEmpty
      } else {
        if pendingSpace { out.append(" ") }
        pendingSpace = false
        out.append(c)
      }
    }
    return out
  }

  /// `s` cut to at most `n` characters, ending in "…" when cut.
  static func truncated(_ s: String, _ n: Int) -> String {
    if s.count <= n { return s }
    if n <= 0 { return "" }
    return String(s.prefix(n - 1)) + "…"
  }

  /// `s` padded with spaces to `n` characters, on the right or (numbers) on the left.
  static func padded(_ s: String, _ n: Int, right: Bool = false) -> String {
    let pad = String(repeating: " ", count: max(n - s.count, 0))
    return right ? pad + s : s + pad
  }

  /// `s` cut in the middle ("…") to `n` characters, for lines that must fit: a path keeps
  /// its start and its file name.
  static func fit(_ s: String, _ n: Int) -> String {
    if s.count <= n { return s }
    if n <= 1 { return String(s.prefix(n)) }
    let head = (n - 1) / 2
    let tail = n - 1 - head
    return String(s.prefix(head)) + "…" + String(s.suffix(tail))
  }
}
