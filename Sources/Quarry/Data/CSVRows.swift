/// RFC 4180 CSV: a header row naming `text` and `label` (any order, case-insensitive,
/// other columns ignored), then records whose quoted fields may hold commas, doubled
/// quotes and newlines. A record is known by the line it starts on.
enum CSVRows {
  static func parse(
    lines: [Line], path: String, skip: (InputError) throws -> Void, emit: (Example) -> Void
  ) throws {
    var i = 0
    var header: [String]? = nil
    var textCol = -1
    var labelCol = -1
    while i < lines.count {
      let startLine = lines[i].number
      if let e = lines[i].error {
        try skip(e)
        i += 1
        continue
      }
      if lines[i].text.allSatisfy(\.isWhitespace) {
        i += 1
        continue
      }
      // Gather one record, which may span lines while a quote is open.
      var fields: [String] = []
      var field = ""
      var inQuotes = false
      var broken: InputError? = nil
      var atFieldStart = true
      recordLoop: while true {
        let text = lines[i].text
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
            field.append(ch)
            atFieldStart = false
          }
        }
        i += 1
        if !inQuotes { break recordLoop }
        guard i < lines.count, lines[i].error == nil else {
          broken = InputError(path: path, line: startLine, "unterminated quoted field")
          break recordLoop
        }
        field.append("\n")
      }
      fields.append(field)
      if let broken {
        try skip(broken)
        continue
      }
      guard header != nil else {
        let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        header = names
        textCol = names.firstIndex(of: "text") ?? -1
        labelCol = names.firstIndex(of: "label") ?? -1
        if textCol < 0 || labelCol < 0 {
          throw InputError(
            path: path, line: startLine,
            "CSV header must name columns 'text' and 'label', found \(names.joined(separator: ","))"
          )
        }
        continue
      }
      guard fields.count > max(textCol, labelCol) else {
        try skip(
          InputError(
            path: path, line: startLine,
            "expected at least \(max(textCol, labelCol) + 1) fields, found \(fields.count)"))
        continue
      }
      do {
        emit(
          try CorpusReader.checked(
            label: fields[labelCol].trimmingCharacters(in: .whitespaces), text: fields[textCol],
            path: path, line: startLine))
      } catch let e as InputError {
        try skip(e)
      }
    }
    if header == nil { throw InputError(path: path, "no CSV header") }
  }
}
