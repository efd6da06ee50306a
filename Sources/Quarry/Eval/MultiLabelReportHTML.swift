extension MultiLabelMineReport {
  /// The report as one self-contained HTML page (`ReportHTML.page`): the facts and counts,
  /// then tables of the first `top` label issues, boundary pairs and labels by misses and
  /// false alarms. Every text from the data is HTML-escaped.
  public func renderHTML(top: Int) -> String {
    let top = max(top, 0)
    let e = ReportHTML.escape
    let facts = [
      ("data", "<code>\(e(data))</code>"), ("model", "<code>\(e(model))</code>"),
      ("rows", "\(ReportFormatting.grouped(rows)) · \(labels.count) labels (multi-label)"),
      ("figures from", e(source.words)),
      (
        "calibration",
        "ECE per label \(ReportFormatting.fixed(calibration.ece, 4)) · log loss \(ReportFormatting.fixed(calibration.log_loss, 4))"
      ),
    ]
    let troubled = per_label.filter { $0.missed + $0.false_alarms > 0 }
    return ReportHTML.page(
      title: "Mine report — " + ReportHTML.fileName(data),
      body: ReportHTML.facts(facts)
        + ReportHTML.counts([
          ("label-issues", label_issues.count, "likely label errors"),
          ("boundary", boundary.count, "boundary pairs"),
          ("labels", troubled.count, "labels with misses or false alarms"),
        ]) + htmlLabelIssues(top: top) + htmlBoundary(top: top)
        + htmlLabels(Array(troubled.prefix(top)), total: troubled.count))
  }

  private func htmlLabelIssues(top: Int) -> String {
    ReportHTML.rowsSection(
      id: "label-issues", title: "Likely label errors", total: label_issues.count,
      explain:
        "Labels probably missing from a row, or wrongly on it, most probable first. <i>p</i>: the probability \(source == .crossFit ? "the out-of-fold models, which never trained on the row, give" : "the model gives") the label; <i>score</i>: how likely the row's labelling of it is wrong (0–1).",
      columns: [
        ("line", "num line"), ("label", "wide"), ("issue", "kind"), ("p", "num kind"),
        ("score", "num fig"), ("text", "text"),
      ],
      rows: label_issues.prefix(top).map { r in
        "<tr><td class=\"num\">\(r.line)</td><td>\(ReportHTML.chip(r.label, suggested: r.issue == .missing))</td>"
          + "<td>\(r.issue.rawValue)</td><td class=\"num\">\(ReportFormatting.fixed(r.probability, 3))</td>"
          + "<td class=\"num\">\(ReportHTML.bar(r.score, ReportFormatting.fixed(r.score, 3)))</td>"
          + "<td class=\"text\">\(ReportHTML.rowText(r.text))</td></tr>\n"
      })
  }

  private func htmlBoundary(top: Int) -> String {
    ReportHTML.rowsSection(
      id: "boundary", title: "Boundary pairs", total: boundary.count,
      explain:
        "(Row, label) pairs within the band, nearest the label's threshold first. <i>Margin</i> = logit p − logit threshold for a label the row carries, the opposite for one it does not; negative: the model decides against the row's labels.",
      columns: [
        ("line", "num line"), ("label", "wide"), ("given", "kind"), ("p", "num kind"),
        ("threshold", "num fig"), ("margin", "num kind"), ("text", "text"),
      ],
      rows: boundary.prefix(top).map { r in
        let margin = ReportFormatting.signed(r.margin, 3)
        return "<tr><td class=\"num\">\(r.line)</td><td>\(ReportHTML.chip(r.label))</td>"
          + "<td>\(r.given ? "yes" : "no")</td><td class=\"num\">\(ReportFormatting.fixed(r.probability, 3))</td>"
          + "<td class=\"num\">\(ReportFormatting.fixed(r.threshold, 3))</td>"
          + "<td class=\"num\(margin.hasPrefix("−") ? " neg" : "")\">\(margin)</td>"
          + "<td class=\"text\">\(ReportHTML.rowText(r.text))</td></tr>\n"
      })
  }

  private func htmlLabels(_ shown: [LabelSummary], total: Int) -> String {
    let maxCount = max(shown.map { $0.missed + $0.false_alarms }.max() ?? 1, 1)
    return ReportHTML.rowsSection(
      id: "labels", title: "Labels by misses and false alarms", total: total,
      explain:
        "<i>Missed</i>: rows carrying the label, under its threshold; <i>false alarms</i>: rows without it, at or over its threshold; <i>near</i>: its boundary pairs.",
      columns: [
        ("label", "wide"), ("threshold", "num fig"), ("support", "num fig"),
        ("missed", "num fig"), ("false alarms", "num fig"), ("near", "num fig"),
      ],
      rows: shown.map { r in
        let g = ReportFormatting.grouped
        return "<tr><td>\(ReportHTML.chip(r.label))</td>"
          + "<td class=\"num\">\(ReportFormatting.fixed(r.threshold, 3))</td>"
          + "<td class=\"num\">\(g(r.support))</td>"
          + "<td class=\"num\">\(ReportHTML.bar(Float(r.missed) / Float(maxCount), g(r.missed)))</td>"
          + "<td class=\"num\">\(ReportHTML.bar(Float(r.false_alarms) / Float(maxCount), g(r.false_alarms)))</td>"
          + "<td class=\"num\">\(g(r.near))</td></tr>\n"
      })
  }
}
