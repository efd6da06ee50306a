import Foundation

/// Initialises embedding rows from a pretrained-vector file, for the words a vocabulary
/// knows. Two formats:
/// - the word-vector text format (`N DIM` header optional, then `word v1 … vDIM` per line),
///   as fastText `.vec` and GloVe `.txt`;
/// - safetensors holding a 2-D embedding table, with `vocab.txt` (one token per line, row
///   order) beside it.
///
/// A word's key is the FNV-1a of its UTF-8 as the tokenizer makes it (`wordKey`). Only
/// the lines of words in the vocabulary are parsed; the others are skipped at memchr
/// speed, so reading GloVe's 400,000 lines costs about one pass over the bytes.
public struct PretrainedVectors {
  /// The rule of `wordKey`, recorded in the vector cache.
  static let keyRule = "nfkc-lowercase"

  /// A non-ASCII word in normalization form KC, then lowercased (as `Tokenizer` makes its
  /// tokens); an ASCII word lowercased.
  static func normalizedWord(_ word: some StringProtocol) -> String {
    word.utf8.allSatisfy({ $0 < 0x80 })
      ? word.lowercased() : word.precomposedStringWithCompatibilityMapping.lowercased()
  }

  public struct Result: Sendable {
    /// wordCount × dim, pretrained rows filled, the others left as they were.
    public var embedding: [Float]
    public var dim: Int
    /// Rows of the vocabulary that received a pretrained vector.
    public var found: [Bool]
    /// Words in the file (lines read) and duplicates after lowercasing.
    public var fileWords: Int
    public var duplicates: Int
  }

  /// Reads the dimension of a file without loading it.
  public static func dimension(path: String) throws -> Int {
    if path.lowercased().hasSuffix(".safetensors") {
      let st = try Safetensors.open(path)
      return try st.embeddingTable().shape[1]
    }
    return try TextVectors.scanDimension(path: path)
  }

  /// Fills rows of `embedding` (`vocabulary.wordCount` × dim) with the vectors of `path`.
  /// With `cacheDirectory`, a text file is read from its binary copy there (`VectorCache`)
  /// when one is current; otherwise it is parsed, then copied there for next time.
  public static func load(
    path: String, vocabulary: Vocabulary, into embedding: [Float], dim: Int,
    cacheDirectory: String? = nil, threads: Int = 2
  ) throws -> Result {
    if path.lowercased().hasSuffix(".safetensors") {
      return try loadSafetensors(path: path, vocabulary: vocabulary, into: embedding, dim: dim)
    }
    if let cacheDirectory,
      let r = VectorCache.load(
        source: path, directory: cacheDirectory, vocabulary: vocabulary, into: embedding,
        dim: dim)
    {
      return r
    }
    let r = try TextVectors.load(
      path: path, vocabulary: vocabulary, into: embedding, dim: dim, threads: threads)
    if let cacheDirectory {
      VectorCache.build(source: path, directory: cacheDirectory, dim: dim, threads: threads)
    }
    return r
  }

  static func loadSafetensors(
    path: String, vocabulary: Vocabulary, into embedding: [Float], dim: Int
  ) throws -> Result {
    let st = try Safetensors.open(path)
    let table = try st.embeddingTable()
    guard table.shape[1] == dim else {
      throw InputError(
        path: path, "tensor '\(table.name)' has width \(table.shape[1]), expected \(dim)")
    }
    let vocabPath = directory(of: path) + "/vocab.txt"
    let vocabBytes = try FileBytes.read(vocabPath)
    let lines = try Lines.split(vocabBytes, path: vocabPath)
    guard lines.count == table.shape[0] else {
      throw InputError(
        path: vocabPath,
        "\(lines.count) tokens, but tensor '\(table.name)' of \(path) has \(table.shape[0]) rows")
    }
    let values = try st.floats(table)
    var out = embedding
    var found = [Bool](repeating: false, count: vocabulary.wordCount)
    var duplicates = 0
    for (i, l) in lines.enumerated() {
      if let e = l.error { throw e }
      let word = PretrainedVectors.normalizedWord(l.text)
      let r = Int(vocabulary.index.row(FeatureExtractor.wordKey(word.utf8)))
      guard r >= 0, r < vocabulary.wordCount else { continue }
      if found[r] {
        duplicates += 1
        continue
      }
      let row = values[(i * dim)..<((i + 1) * dim)]
      if let bad = row.firstIndex(where: { !$0.isFinite }) {
        throw InputError(
          path: path, "row \(i) ('\(l.text)') of '\(table.name)' holds \(values[bad])")
      }
      out.replaceSubrange((r * dim)..<((r + 1) * dim), with: row)
      found[r] = true
    }
    return Result(
      embedding: out, dim: dim, found: found, fileWords: lines.count, duplicates: duplicates)
  }
}
