import COpenBLAS
import Foundation

/// Which kernels OpenBLAS runs on this CPU, and advice when it fell back to generic ones.
public enum BLASCore {
  /// The kernel family OpenBLAS chose at load time ("Haswell", "SkylakeX", "Zen", …, or
  /// "Prescott", its SSE3 fallback for a CPU it does not recognize).
  public static var name: String {
    guard let p = openblas_get_corename() else { return "unknown" }
    return String(cString: p)
  }

  /// The feature flags of the first CPU in /proc/cpuinfo (empty where there is none).
  public static var cpuFlags: Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      let colon = line.firstIndex(of: ":")
    else { return [] }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
  }

  /// A note for a user of the encoder when OpenBLAS runs its generic kernels on a CPU
  /// with AVX2 or AVX-512 and OPENBLAS_CORETYPE is not set: which core type to try.
  /// nil otherwise. (Debian's OpenBLAS 0.3.21 does not know Sapphire Rapids: there the
  /// encoder ran 1,589 tokens/s on its Prescott kernels and 5,917 with SkylakeX's.)
  public static func fallbackAdvice(
    coreName: String, cpuFlags: Set<String>, environment: [String: String]
  ) -> String? {
    guard environment["OPENBLAS_CORETYPE"] == nil,
      ["prescott", "core2", "nehalem", "katmai", "coppermine", "northwood"].contains(
        coreName.lowercased())
    else { return nil }
    let core: String
    let kernels: String
    if cpuFlags.contains("avx512f") && cpuFlags.contains("avx512bw") {
      (core, kernels) = ("SkylakeX", "AVX-512")
    } else if cpuFlags.contains("avx2") && cpuFlags.contains("fma") {
      (core, kernels) = ("Haswell", "AVX2")
    } else {
      return nil
    }
    return
      "OpenBLAS does not recognize this CPU and runs its generic \(coreName) kernels, so the encoder runs several times slower than it could; OPENBLAS_CORETYPE=\(core) selects the \(core) (\(kernels)) kernels, which this CPU has (on a Sapphire Rapids it took MiniLM from 1,589 to 5,917 tokens/s)"
  }

  /// `fallbackAdvice` for this process.
  public static var advice: String? {
    fallbackAdvice(
      coreName: name, cpuFlags: cpuFlags, environment: ProcessInfo.processInfo.environment)
  }
}
