extension MultiLabelMineReport {
  /// The report for a terminal, as plain text: a header (data, model, rows, labels,
  /// source, calibration), then "Likely label errors" and "Boundary pairs" (each with a
  /// line of legend) and the labels with the most misses and false alarms, each limited to
  /// its first `top` entries, every line cut to `width` characters (`MineReport.renderText`'s
  /// layout).
  public func renderText(top: Int, width: Int = 100) -> String {
    let top = max(top, 0)
    let width = max(width, 1)
    let flat = ReportFormatting.oneLine
    var out = textHeader(width: width)

    let issues = label_issues.prefix(top)
    out += ReportTextTable.section(
      "Likely label errors", shown: issues.count, of: label_issues.count, width: width
    ) {
      ReportTextTable(
        headers: ["line", "label", "issue", "p", "score", "text"],
        rightAligned: [true, false, false, true, true],
        rows: issues.map {
          [
            String($0.line), flat($0.label), $0.issue.rawValue,
            ReportFormatting.fixed($0.probability, 3), ReportFormatting.fixed($0.score, 3),
            $0.text,
          ]
        })
    }
    if !issues.isEmpty {
      out.append(
        "  issue: missing = the row lacks a label it probably has; wrong = it has one it probably lacks; score: how likely (0-1)"
      )
    }
    let pairs = boundary.prefix(top)
    out += ReportTextTable.section(
      "Boundary pairs", shown: pairs.count, of: boundary.count, width: width
    ) {
      ReportTextTable(
        headers: ["line", "label", "given", "p", "threshold", "margin", "text"],
        rightAligned: [true, false, false, true, true, true],
        rows: pairs.map {
          [
            String($0.line), flat($0.label), $0.given ? "yes" : "no",
            ReportFormatting.fixed($0.probability, 3), ReportFormatting.fixed($0.threshold, 3),
            ReportFormatting.signed($0.margin, 3), $0.text,
          ]
        })
    }
    if !pairs.isEmpty {
      out.append(
        "  nearest the threshold first; margin = ±(logit p − logit threshold), + when given: negative = decided against the row's labels"
      )
    }
    let worst = per_label.prefix(top).filter { $0.missed + $0.false_alarms > 0 }
    out += ReportTextTable.section(
      "Labels by misses and false alarms", shown: worst.count,
      of: per_label.filter { $0.missed + $0.false_alarms > 0 }.count, width: width
    ) {
      ReportTextTable(
        headers: ["label", "threshold", "support", "missed", "false alarms", "near"],
        rightAligned: [false, true, true, true, true, true],
        rows: worst.map {
          [
            flat($0.label), ReportFormatting.fixed($0.threshold, 3),
            ReportFormatting.grouped($0.support), ReportFormatting.grouped($0.missed),
            ReportFormatting.grouped($0.false_alarms), ReportFormatting.grouped($0.near),
          ]
        },
        freeText: false)
    }
    return out.map { ReportFormatting.truncated($0, width) }.joined(separator: "\n") + "\n"
  }

  /// The header (`ReportFormatting.header`), with the calibration.
  private func textHeader(width: Int) -> [String] {
    ReportFormatting.header(
      [
        "data: " + ReportFormatting.oneLine(data), "model: " + ReportFormatting.oneLine(model),
        "rows: " + ReportFormatting.grouped(rows), "labels: \(labels.count) (multi-label)",
        "figures from: " + source.words,
      ],
      calibration: "calibration: ECE per label " + ReportFormatting.fixed(calibration.ece, 4)
        + ", log loss " + ReportFormatting.fixed(calibration.log_loss, 4)
        + " (summed over labels)", width: width)
  }
}
