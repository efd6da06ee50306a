/// One labelled row of a corpus, known by its 1-based line number in the file.
public struct Example: Sendable, Equatable {
  public var line: Int
  /// The row's labels in the order written, without repeats: one for a single-label
  /// corpus, one or more for a multi-label one. Never empty.
  public var labels: [String]
  public var text: String

  public init(line: Int, label: String, text: String) {
    self.init(line: line, labels: [label], text: text)
  }

  public init(line: Int, labels: [String], text: String) {
    precondition(!labels.isEmpty, "an example has at least one label")
    self.line = line
    self.labels = labels
    self.text = text
  }

  /// The first label: the row's class in a single-label corpus. Setting it replaces every
  /// label with this one.
  public var label: String {
    get { labels[0] }
    set { labels = [newValue] }
  }
}
