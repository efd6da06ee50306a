import ArgumentParser

/// How a command prints its results. Every printing command spells it the same way:
/// `--format F` names the format, `--json` is short for its JSON format, and the two
/// given together must agree.
protocol OutputFormat: RawRepresentable, CaseIterable, ExpressibleByArgument, Equatable
where RawValue == String {
  /// The format `--json` stands for.
  static var json: Self { get }
}

extension OutputFormat {
  /// The format `--format` and `--json` ask for; `fallback` when neither is given.
  static func chosen(_ format: Self?, json: Bool, fallback: Self) throws -> Self {
    if json, let format, format != Self.json {
      throw ValidationError(
        "--json means --format \(Self.json.rawValue), not --format \(format.rawValue): give one of them"
      )
    }
    return json ? Self.json : format ?? fallback
  }

  /// "text, json or html", for help texts.
  static var choices: String {
    let names = allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
  }
}

/// `evaluate`: tables, or one JSON object.
enum EvaluateFormat: String, OutputFormat {
  case text, json
}

/// `predict`: label<TAB>probability per line, or one JSON object per line.
enum PredictFormat: String, OutputFormat {
  case tsv, jsonl
  static var json: PredictFormat { .jsonl }
}

/// `mine-report`: text, JSON or a self-contained HTML page.
enum ReportFormat: String, OutputFormat {
  case text, json, html
}
