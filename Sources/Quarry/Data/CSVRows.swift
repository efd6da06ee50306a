/// RFC 4180 CSV: a header row naming `text` and `label`, or `text` and `labels` (labels
/// joined by a separator; any order, case-insensitive, other columns ignored), then records whose quoted fields may hold commas, doubled
/// quotes and newlines. A record is known by the line it starts on.
///
/// A quote left open swallows the rows after it into one field until another quote
/// closes it. So a record that runs over a line which, read alone, is a whole row (the
/// header's width, no quote inside an unquoted field) with one of the corpus's labels is
/// taken for such a slip: it is an error at the line that
/// opened the quote, and with `skip` that line alone is dropped and the lines after it
/// are read as rows again.
enum CSVRows {
  static func parse(
    lines: [Line], path: String, labelSeparator: String = CorpusReader.defaultLabelSeparator,
    skip: (InputError) throws -> Void, emit: (Example) -> Void
  ) throws {
    var first = Pass(lines: lines, path: path, labelSeparator: labelSeparator)
    try first.run()
    let labels = Set(first.examples.map(\.label))
    let slips = first.swallowed.filter { labels.contains($0.label) }
    guard !slips.isEmpty else {
      for e in first.errors { try skip(e) }
      first.examples.forEach(emit)
      return
    }
    var second = Pass(
      lines: lines, path: path, labelSeparator: labelSeparator,
      breakAt: Dictionary(slips.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a }))
    try second.run()
    for e in second.errors { try skip(e) }
    second.examples.forEach(emit)
  }

  /// A line inside a multi-line field that reads alone as a row with label `label`.
  struct Swallowed {
    var start: Int
    var line: Int
    var label: String
  }

  /// One reading of the file: its examples and its bad rows, in order.
  struct Pass {
    let lines: [Line]
    let path: String
    /// Records starting at these lines are bad rows of one line (an unclosed quote).
    var breakAt: [Int: Swallowed] = [:]
    var examples: [Example] = []
    var errors: [InputError] = []
    var swallowed: [Swallowed] = []
    var header: [String]? = nil
    var textCol = -1
    var labelCol = -1
    /// Whether the label column is `labels` (split at `labelSeparator`) or `label` (whole).
    var severalLabels = false
    let labelSeparator: String

    init(
      lines: [Line], path: String, labelSeparator: String, breakAt: [Int: Swallowed] = [:]
    ) {
      self.lines = lines
      self.path = path
      self.labelSeparator = labelSeparator
      self.breakAt = breakAt
    }

    mutating func run() throws {
      var i = 0
      while i < lines.count {
        let startLine = lines[i].number
        if let e = lines[i].error {
          errors.append(e)
          i += 1
          continue
        }
        if lines[i].text.allSatisfy(\.isWhitespace) {
          i += 1
          continue
        }
        if let slip = breakAt[startLine] {
          errors.append(
            InputError(
              path: path, line: startLine,
              "a quote opened on this line runs on over line \(slip.line), which reads as a row of its own (label '\(slip.label)'): close the quote, or double a quote meant as text (\"\")"
            ))
          i += 1
          continue
        }
        // Gather one record, which may span lines while a quote is open.
        var record = RecordScanner()
        var broken: InputError? = nil
        var continued = false
        while true {
          record.feed(lines[i].text)
          if continued { noteIfRow(lines[i], start: startLine) }
          continued = true
          i += 1
          if !record.inQuotes { break }
          guard i < lines.count, lines[i].error == nil else {
            broken = InputError(path: path, line: startLine, "unterminated quoted field")
            break
          }
          record.field.append("\n")
        }
        let fields = record.finish()
        if let broken {
          errors.append(broken)
          continue
        }
        guard header != nil else {
          try readHeader(fields, line: startLine)
          continue
        }
        guard fields.count > max(textCol, labelCol) else {
          errors.append(
            InputError(
              path: path, line: startLine,
              "expected at least \(max(textCol, labelCol) + 1) fields, found \(fields.count)"))
          continue
        }
        do {
          examples.append(
            try CorpusReader.checked(
              labels: severalLabels
                ? CorpusReader.splitLabels(
                  fields[labelCol], separator: labelSeparator, path: path, line: startLine)
                : [fields[labelCol].trimmingCharacters(in: .whitespaces)],
              text: fields[textCol], path: path, line: startLine))
        } catch let e as InputError {
          errors.append(e)
        }
      }
      if header == nil { throw InputError(path: path, "no CSV header") }
    }

    mutating func readHeader(_ fields: [String], line: Int) throws {
      let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      header = names
      textCol = names.firstIndex(of: "text") ?? -1
      labelCol = names.firstIndex(of: "label") ?? -1
      if labelCol < 0, let several = names.firstIndex(of: "labels") {
        labelCol = several
        severalLabels = true
      }
      if textCol < 0 || labelCol < 0 {
        throw InputError(
          path: path, line: line,
          "CSV header must name columns 'text' and 'label' (or 'labels'), found \(names.joined(separator: ","))"
        )
      }
    }

    /// Records `line`, swallowed by the record that started at `start`, when it reads
    /// alone as a whole row of the header's width with a label.
    mutating func noteIfRow(_ line: Line, start: Int) {
      guard let header, breakAt.isEmpty else { return }
      var alone = RecordScanner()
      alone.feed(line.text)
      guard !alone.inQuotes, !alone.strayQuote else { return }
      let fields = alone.finish()
      guard fields.count == header.count else { return }
      let label = fields[labelCol].trimmingCharacters(in: .whitespaces)
      if !label.isEmpty {
        swallowed.append(Swallowed(start: start, line: line.number, label: label))
      }
    }
  }

  /// The fields of one record, fed a line at a time.
  struct RecordScanner {
    var fields: [String] = []
    var field = ""
    var inQuotes = false
    var atFieldStart = true
    /// A quote inside an unquoted field: fine in a record, but a line holding one is not
    /// a row of its own (it closes a field opened on an earlier line).
    var strayQuote = false

    mutating func feed(_ text: Substring) {
      var it = text.makeIterator()
      while let ch = it.next() {
        if inQuotes {
          if ch == "\"" {
            var peek = it
            if peek.next() == "\"" {
              field.append("\"")
              it = peek
            } else {
              inQuotes = false
            }
          } else {
            field.append(ch)
          }
        } else if ch == "\"" && atFieldStart {
          inQuotes = true
          atFieldStart = false
        } else if ch == "," {
          fields.append(field)
          field = ""
          atFieldStart = true
        } else {
          if ch == "\"" { strayQuote = true }
          field.append(ch)
          atFieldStart = false
        }
      }
    }

    /// The fields, the last one closed.
    mutating func finish() -> [String] {
      fields.append(field)
      return fields
    }
  }
}
