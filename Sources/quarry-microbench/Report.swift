import Foundation

/// Everything one run measured, as printed by `--json`.
struct Report: Codable {
  var date: String
  var machine: String
  var cores: Int
  var reps: Int
  var figures: [Figure]
}

func machineDescription() -> String {
  var u = utsname()
  uname(&u)
  func field<T>(_ v: T) -> String {
    withUnsafeBytes(of: v) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
  }
  var model = ""
  if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
    let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
    let colon = line.firstIndex(of: ":")
  {
    model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) + ", "
  }
  return model + field(u.sysname) + " " + field(u.release) + " " + field(u.machine)
}

func printTable(_ r: Report) {
  print("quarry-microbench  \(r.date)  \(r.machine), \(r.cores) cores; median of \(r.reps) runs")
  let rows = r.figures.map { f -> [String] in
    let v: String
    switch f.unit {
    case "s":
      v =
        f.median < 0.1
        ? String(format: "%.1f ms", f.median * 1e3) : String(format: "%.3f s", f.median)
    case "×": v = String(format: "%.2f×", f.median)
    default: v = String(format: "%.2f %@", f.median, f.unit)
    }
    let target =
      f.target.map { t in "\(t) \(f.meets == true ? "yes" : f.meets == false ? "NO" : "")" } ?? ""
    return [f.section, f.name, v, target, f.detail]
  }
  let heads = ["section", "figure", "median", "target", "detail"]
  var widths = heads.map(\.count)
  for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
      i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
    }.joined(separator: "  ")
  }
  print(line(heads))
  print(line(widths.map { String(repeating: "-", count: $0) }))
  var last = ""
  for (row, f) in zip(rows, r.figures) {
    if !last.isEmpty && f.section != last { print("") }
    last = f.section
    print(line(row))
  }
}

func printJSON(_ r: Report) throws {
  let e = JSONEncoder()
  e.outputFormatting = [.prettyPrinted, .sortedKeys]
  print(String(decoding: try e.encode(r), as: UTF8.self))
}
