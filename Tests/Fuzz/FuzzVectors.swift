// libFuzzer target for the pretrained-vector readers (`PretrainedVectors.dimension` and
// `PretrainedVectors.load`, as `finetune --pretrained` calls them).
//
// The first input byte chooses the reader: even, the word-vector text format (`.vec`);
// odd, safetensors (with a fixed 4-line `vocab.txt` beside it: rain, sunny, the, oil).
// The readers take a path, so the rest of the input is written to a file in a private
// directory under /dev/shm (or the temporary directory) on every run. A thrown error is
// the right answer to bad input; a crash, trap or sanitizer report is a bug. Built and run
// by Scripts/fuzz (not by SwiftPM).
//
// With QUARRY_FUZZ_WRITE_SEEDS=DIR in the environment, the binary instead writes
// safetensors seeds (F32, F16, BF16; one with a second tensor) into DIR, then exits.
import Foundation
import Quarry

let vocabularyWords = "rain sunny the oil snow match goal soup pan referee cloudy windy"
let vocabulary = Vocabulary.build(
  texts: [vocabularyWords, "Rain ÉTÉ été"], config: FeatureConfig()
).0

let workDir: String = {
  var isDir: ObjCBool = false
  let base =
    FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDir) && isDir.boolValue
    ? "/dev/shm" : NSTemporaryDirectory()
  let dir = base + "/quarry-fuzz-vectors-\(getpid())"
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  writeBytes(dir + "/vocab.txt", Array("rain\nsunny\nthe\noil\n".utf8))
  atexit { try? FileManager.default.removeItem(atPath: workDir) }
  return dir
}()

func writeBytes(_ path: String, _ bytes: [UInt8]) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  precondition(fd >= 0, "cannot create \(path)")
  var done = 0
  while done < bytes.count {
    let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    precondition(n > 0, "cannot write \(path)")
    done += n
  }
  close(fd)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  guard size >= 1 else { return 0 }
  let path = workDir + (data[0] & 1 == 0 ? "/fuzz.vec" : "/fuzz.safetensors")
  writeBytes(path, Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
  do {
    let dim = try PretrainedVectors.dimension(path: path)
    let zero = [Float](repeating: 0, count: vocabulary.wordCount * dim)
    let loaded = try PretrainedVectors.load(
      path: path, vocabulary: vocabulary, into: zero, dim: dim)
    precondition(loaded.embedding.count == zero.count && loaded.found.count == vocabulary.wordCount)
  } catch {}
  return 0
}

/// A safetensors file: header length, JSON header, data.
func safetensors(_ header: String, _ data: [UInt8]) -> [UInt8] {
  var json = Array(header.utf8)
  while json.count % 8 != 0 { json.append(0x20) }
  let out: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) }
  return out + json + data
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
  guard let dir = ProcessInfo.processInfo.environment["QUARRY_FUZZ_WRITE_SEEDS"] else {
    return 0
  }
  let f32 = (0..<12).flatMap { i -> [UInt8] in
    let b = (Float(i) * 0.25 - 1).bitPattern
    return (0..<4).map { UInt8(truncatingIfNeeded: b >> (8 * $0)) }
  }
  let halves = (0..<8).flatMap { i -> [UInt8] in [UInt8(i * 16), 0x3C] }
  let seeds: [(String, [UInt8])] = [
    (
      "f32.st",
      safetensors(
        #"{"emb":{"dtype":"F32","shape":[4,3],"data_offsets":[0,48]}}"#, f32)
    ),
    (
      "f16.st",
      safetensors(#"{"emb":{"dtype":"F16","shape":[4,2],"data_offsets":[0,16]}}"#, halves)
    ),
    (
      "bf16-two.st",
      safetensors(
        #"{"__metadata__":{"format":"pt"},"bert.word_embeddings.weight":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]},"pos":{"dtype":"BF16","shape":[2,4],"data_offsets":[16,32]}}"#,
        halves + halves)
    ),
  ]
  for (name, bytes) in seeds { writeBytes(dir + "/" + name, [1] + bytes) }
  _exit(0)  // not exit: LeakSanitizer would report the globals still alive
}
