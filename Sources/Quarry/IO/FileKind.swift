import Foundation

/// The kinds of file Quarry writes, each known by how its files begin. A file of one
/// kind is only ever replaced by a file of the same kind (or when the user asks), and
/// removed only while it is still of that kind: Quarry never overwrites or deletes a file
/// it did not write.
public enum FileKind: String, Sendable, CaseIterable {
  case model
  case checkpoint
  case vectorCache
  case featureCache
  case tuningCache
  /// A `mine-report` page: text, JSON or HTML.
  case report
  /// Anything without a signature of Quarry's (`encode --output`'s .npy): an existing
  /// file is never replaced without `--force`.
  case foreign

  /// The words for a message: "a Quarry model file".
  public var name: String {
    switch self {
    case .model: return "a Quarry model file"
    case .checkpoint: return "a Quarry checkpoint"
    case .vectorCache: return "a Quarry vector cache"
    case .featureCache: return "a Quarry feature cache"
    case .tuningCache: return "a Quarry tuning cache"
    case .report: return "a Quarry mine-report"
    case .foreign: return "a file Quarry wrote"
    }
  }

  /// The words for a container's errors: "not a valid model file: …".
  var noun: String {
    switch self {
    case .model: return "model file"
    case .checkpoint: return "checkpoint"
    case .vectorCache: return "vector cache"
    case .featureCache: return "feature cache"
    case .tuningCache: return "tuning cache"
    case .report: return "report"
    case .foreign: return "file"
    }
  }

  /// The `TensorFile` magic of the binary kinds.
  var magic: [UInt8]? {
    switch self {
    case .model: return Array("QUARRYMF".utf8)
    case .checkpoint: return Array("QUARRYCK".utf8)
    case .vectorCache: return Array("QUARRYVC".utf8)
    case .featureCache: return Array("QUARRYEF".utf8)
    case .tuningCache: return Array("QUARRYTL".utf8)
    case .report, .foreign: return nil
    }
  }

  /// The marker in the head of an HTML report (`renderHTML` writes it).
  public static let reportGenerator = "<meta name=\"generator\" content=\"quarry mine-report\">"

  /// True when the file at `path` is one of this kind, judged by its first 4 KiB: the
  /// magic of a binary kind; for a report, the text report's first words, the HTML
  /// report's generator tag, or a JSON object that begins with a report's first key.
  public func recognizes(_ path: String) -> Bool {
    guard let head = FileKind.head(of: path, bytes: 4096) else { return false }
    if let magic { return head.starts(with: magic) }
    guard self == .report else { return false }
    let text = String(decoding: head, as: UTF8.self)
    // JSON reports have sorted keys: a multi-label one starts with "band".
    return text.hasPrefix("Mine report") || text.hasPrefix("{\"boundary\":")
      || text.hasPrefix("{\"band\":")
      || (text.hasPrefix("<!DOCTYPE html>") && text.contains(FileKind.reportGenerator))
  }

  /// The first `bytes` bytes of a regular file; nil when it cannot be read.
  static func head(of path: String, bytes: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: bytes)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, bytes) }
    return n < 0 ? nil : Array(buf.prefix(n))
  }
}

/// Where a file of a command goes, checked against what the command reads.
public struct OutputTarget: Sendable {
  /// The flag that names it, for messages (`--output`).
  public var flag: String
  public var path: String
  public var kind: FileKind

  public init(flag: String, path: String, kind: FileKind) {
    self.flag = flag
    self.path = path
    self.kind = kind
  }

  /// Fails, before any work, when this target may not be written:
  /// - it cannot be written (`AtomicFile.checkWritable`);
  /// - it is the same file as one of `inputs` (device and inode after following links,
  ///   so `./x`, `../dir/x`, a symbolic or a hard link to an input all count), or as
  ///   another of `others`;
  /// - a file is there that is not of this kind, and `force` is false (nil: the command
  ///   has no `--force` for this target).
  public func check(
    inputs: [(flag: String, path: String)], others: [OutputTarget] = [], force: Bool?
  ) throws {
    try AtomicFile.checkWritable(path)
    let me = FileIdentity(path)
    if let me {
      for input in inputs where FileIdentity(input.path) == me {
        throw InputError(
          path: path,
          "\(flag) names the same file as \(input.flag) \(input.path): Quarry does not write over its input"
        )
      }
    }
    for other in others where other.path != path || other.flag != flag {
      if FileIdentity.samePlace(path, other.path) {
        throw InputError(path: path, "\(flag) and \(other.flag) name the same file")
      }
    }
    if me != nil, force != true, !kind.recognizes(path) {
      // Say what the file is when it is another of Quarry's: a model is worth keeping.
      let other = FileKind.allCases.first { $0 != kind && $0 != .foreign && $0.recognizes(path) }
      throw InputError(
        path: path,
        "\(flag): a file is there that is "
          + (other.map { "\($0.name), not \(kind.name)" } ?? "not \(kind.name)")
          + "; Quarry replaces only its own files of this kind"
          + (force == nil ? ": name another path" : " (--force replaces it)"))
    }
  }

  /// Removes the file if it is still of this kind; true when something was removed.
  @discardableResult
  public func removeIfOwned() -> Bool {
    guard kind.magic != nil, kind.recognizes(path) else { return false }
    return unlink(path) == 0
  }
}

/// A file's device and inode, after following links: two paths name the same file
/// exactly when their identities are equal.
public struct FileIdentity: Equatable, Sendable {
  var device: UInt64
  var inode: UInt64

  /// The identity of the file at `path`; nil when there is none.
  public init?(_ path: String) {
    var s = stat()
    guard stat(path, &s) == 0 else { return nil }
    device = UInt64(s.st_dev)
    inode = UInt64(s.st_ino)
  }

  /// True when `a` and `b` name one file, or both name the same absent file (the same
  /// directory, by identity, and the same last component).
  static func samePlace(_ a: String, _ b: String) -> Bool {
    if let x = FileIdentity(a), let y = FileIdentity(b) { return x == y }
    if FileIdentity(a) != nil || FileIdentity(b) != nil { return false }
    let name = { (p: String) in p.split(separator: "/").last.map(String.init) ?? p }
    guard name(a) == name(b), let da = FileIdentity(directory(of: a)) else { return false }
    return da == FileIdentity(directory(of: b))
  }
}
