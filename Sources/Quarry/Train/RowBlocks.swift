/// Where a training run's rows come from: blocks of featurized, labelled rows, visited in
/// a seeded order every epoch. A corpus in memory is one block; a streamed corpus is its
/// file's blocks, each read and featurized again every epoch.
public protocol RowBlocks {
  /// Rows of each block, in the file's order (known before the first epoch: the learning
  /// rate's schedule spans every batch of every epoch).
  var blockRows: [Int] { get }
  /// Rows per class over every block (the class weights are made from them).
  var classCounts: [Int] { get }
  /// True when a block is read afresh each epoch, its rows in file order, so that its
  /// shuffle starts from the identity; false for rows held in memory, whose order carries
  /// from epoch to epoch (and into a checkpoint). A source that does not re-read is one
  /// block.
  var rereads: Bool { get }
  /// Block `b`: its rows, and how to make variants of them (nil: none).
  func block(_ b: Int) throws -> (data: LabeledData, augment: Trainer.Augment?)
}

/// A corpus held in memory: one block.
public struct InMemoryRows: RowBlocks {
  public var data: LabeledData
  public var augment: Trainer.Augment?
  public let classCounts: [Int]

  public init(_ data: LabeledData, classes: Int, augment: Trainer.Augment? = nil) {
    self.data = data
    self.augment = augment
    classCounts = data.classCounts(classes: classes)
  }

  public var blockRows: [Int] { [data.count] }
  public var rereads: Bool { false }
  public func block(_ b: Int) -> (data: LabeledData, augment: Trainer.Augment?) {
    (data, augment)
  }
}
