// libFuzzer target for the corpus reader (`CorpusReader.parse`), all four formats, and
// for the tokenizer (NFKC, scripts without spaces) on every text it reads.
//
// The first input byte chooses how the rest is read:
//   bits 0-1  the format: 0 TSV, 1 fastText, 2 CSV, 3 JSON Lines
//   bit 2     ignore bits 0-1 and let the reader detect the format from the content
//   bit 3     --skip-bad-rows
//   bits 4-5  the label separator: 0 ",", 1 "|", 2 "" (none), 3 "::"
// A thrown error is the right answer to bad input; a crash, trap or sanitizer report is a
// bug. Built and run by Scripts/fuzz (not by SwiftPM).
import Quarry

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let selector = data[0]
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let formats: [CorpusFormat] = [.tsv, .fasttext, .csv, .jsonl]
  let format: CorpusFormat? = selector & 4 != 0 ? nil : formats[Int(selector & 3)]
  do {
    let separators = [",", "|", "", "::"]
    let corpus = try CorpusReader.parse(
      bytes: bytes, path: "fuzz-input", format: format, skipBadRows: selector & 8 != 0,
      labelSeparator: separators[Int((selector >> 4) & 3)])
    _ = corpus.labelsInOrder
    _ = corpus.firstMultiLabelRow
    var tokens = TokenBuffer()
    for e in corpus.examples {
      Tokenizer().tokenize(e.text, into: &tokens)
      _ = tokens.unspacedCount
    }
  } catch {}
  return 0
}
