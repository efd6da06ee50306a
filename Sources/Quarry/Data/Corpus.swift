import Foundation

/// A labelled corpus read from a file: its rows, the rows skipped as bad (when asked to
/// skip rather than fail), its format and a hash of its bytes.
public struct Corpus: Sendable {
  public var path: String
  public var format: CorpusFormat
  public var examples: [Example]
  public var skipped: [InputError]
  /// Checksum of the file's bytes (`Checksum.of`), to recognise the training corpus later.
  public var contentHash: UInt64

  /// `contentHash` as the model file stores it (hexadecimal).
  public var contentHashHex: String { String(contentHash, radix: 16) }

  /// The labels in order of first appearance (every label of every row).
  public var labelsInOrder: [String] {
    var seen = Set<String>()
    var out: [String] = []
    for e in examples {
      for l in e.labels where seen.insert(l).inserted { out.append(l) }
    }
    return out
  }

  /// The first row with more than one label, if any: the corpus is then multi-label.
  public var firstMultiLabelRow: Example? { examples.first { $0.labels.count > 1 } }
}
