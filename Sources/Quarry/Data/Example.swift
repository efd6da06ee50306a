/// One labelled row of a corpus, known by its 1-based line number in the file.
public struct Example: Sendable, Equatable {
  public var line: Int
  public var label: String
  public var text: String
}
