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

  /// The labels in order of first appearance.
  public var labelsInOrder: [String] {
    var seen = Set<String>()
    var out: [String] = []
    for e in examples where seen.insert(e.label).inserted { out.append(e.label) }
    return out
  }
}
