import Foundation

/// Writes a file so that its name only ever holds a complete file: the bytes go to a
/// new temporary name in the same directory (created exclusively, so no file there is
/// touched), are flushed to disk (unless `sync` is false: a killed process loses nothing
/// the kernel has, only a power cut does), and the temporary file is renamed over the
/// target. A file already at the target is replaced only when it is of `kind`, or when
/// `force` is set. On any error the temporary file is removed.
public enum AtomicFile {
  public static func write(
    _ bytes: [UInt8], to path: String, kind: FileKind, force: Bool = false, sync: Bool = true
  ) throws {
    try write(parts: [bytes], to: path, kind: kind, force: force, sync: sync)
  }

  /// The same, for a file made of `parts` back to back (no copy joins them).
  public static func write(
    parts: [[UInt8]], to path: String, kind: FileKind, force: Bool = false, sync: Bool = true
  ) throws {
    try checkWritable(path)
    if !force, FileIdentity(path) != nil, !kind.recognizes(path) {
      throw InputError(
        path: path, "cannot write: a file is there that is not \(kind.name); it is left as it was")
    }
    let (fd, tmp) = try createTemporary(beside: path)
    var ok = false
    defer {
      if !ok { unlink(tmp) }
    }
    for bytes in parts {
      var written = 0
      try bytes.withUnsafeBytes { raw in
        while written < raw.count {
          let n = Foundation.write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
          if n < 0 {
            if errno == EINTR { continue }
            let msg = String(cString: strerror(errno))
            close(fd)
            throw InputError(path: path, "cannot write: \(msg)")
          }
          written += n
        }
      }
    }
    if sync, fsync(fd) != 0 {
      let msg = String(cString: strerror(errno))
      close(fd)
      throw InputError(path: path, "cannot write: \(msg)")
    }
    if close(fd) != 0 {
      throw InputError(path: path, "cannot write: \(String(cString: strerror(errno)))")
    }
    if rename(tmp, path) != 0 {
      throw InputError(path: path, "cannot write: \(String(cString: strerror(errno)))")
    }
    ok = true
  }
}

extension AtomicFile {
  /// Creates `PATH.tmp-PID[-N]`, a name no file has yet, for writing.
  static func createTemporary(beside path: String) throws -> (Int32, String) {
    for n in 0..<100 {
      let tmp = "\(path).tmp-\(getpid())" + (n == 0 ? "" : "-\(n)")
      let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
      if fd >= 0 { return (fd, tmp) }
      if errno != EEXIST { break }
    }
    throw InputError(path: path, "cannot write: \(String(cString: strerror(errno)))")
  }

  /// Fails early, before any long work, when `path` cannot be written: its directory is
  /// missing or not writable, or the path is a directory.
  public static func checkWritable(_ path: String) throws {
    guard !path.isEmpty else { throw InputError(path: path, "cannot write: empty path") }
    if path.hasSuffix("/") { throw InputError(path: path, "cannot write: it names a directory") }
    let dirPath = directory(of: path)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dirPath, isDirectory: &isDir), isDir.boolValue
    else {
      throw InputError(path: path, "cannot write: directory \(dirPath) does not exist")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
      throw InputError(path: path, "cannot write: it is a directory")
    }
    guard access(dirPath, W_OK) == 0 else {
      throw InputError(path: path, "cannot write: directory \(dirPath) is not writable")
    }
  }
}

/// The directory part of a path: the text before its last `/` (`/` itself for a file at
/// the root), or `.` when there is none.
public func directory(of path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return "." }
  let dir = path[..<slash]
  return dir.isEmpty ? "/" : String(dir)
}
