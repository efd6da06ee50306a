import Foundation

/// A probability as text with four decimals, the same characters as printf's "%.4f":
/// p·10⁴ is exact in Double (p has 24 significant bits, 10⁴ fewer than 14), so rounding
/// it half to even is the correctly rounded result that glibc's printf gives. About
/// 30 times cheaper than `String(format:)` on Linux, which `predict` called for every
/// probability it printed. Values outside [0, 1], and NaN, go through `String(format:)`.
public func probabilityText(_ p: Float) -> String {
  guard p >= 0, p <= 1 else { return String(format: "%.4f", p) }
  let n = Int((Double(p) * 10_000).rounded(.toNearestOrEven))
  if n == 10_000 { return "1.0000" }
  var digits: [UInt8] = [0x30, 0x2E, 0x30, 0x30, 0x30, 0x30]  // "0.0000"
  var v = n
  for i in stride(from: 5, through: 2, by: -1) {
    digits[i] = 0x30 + UInt8(v % 10)
    v /= 10
  }
  return String(decoding: digits, as: UTF8.self)
}

/// A text's top labels as JSON object members, the form `predict --format jsonl` and
/// `serve` answer: `"labels":["earn","acq"],"probabilities":[0.9811,0.0102]`, each
/// probability with four decimals (`probabilityText`).
public func predictionJSONMembers(_ top: [(label: Int, probability: Float)], labels: [String])
  -> String
{
  let names = top.map { jsonString(labels[$0.label]) }.joined(separator: ",")
  let ps = top.map { probabilityText($0.probability) }.joined(separator: ",")
  return "\"labels\":[\(names)],\"probabilities\":[\(ps)]"
}

/// `s` as a JSON string literal.
public func jsonString(_ s: String) -> String {
  let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
  return String(decoding: data, as: UTF8.self)
}
