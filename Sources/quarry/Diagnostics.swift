import Foundation
import Quarry

/// The executable's voice on stderr: notes, warnings, and training progress (a redrawn
/// bar on a terminal, one line per epoch otherwise).
enum Diagnostics {
  static let isTerminal = isatty(STDERR_FILENO) != 0

  static func note(_ s: String) {
    FileHandle.standardError.write(Data("quarry: \(s)\n".utf8))
  }

  static func warn(_ s: String) {
    FileHandle.standardError.write(Data("quarry: warning: \(s)\n".utf8))
  }

  /// Notes, before the encoder runs, when OpenBLAS runs generic kernels on this CPU.
  static func adviseOnBLAS() {
    if let a = BLASCore.advice { note(a) }
  }

  /// Warns about the rows skipped (bad rows, and rows the model cannot score): the first
  /// five, then a count.
  static func reportSkipped(_ c: Corpus) {
    for e in c.skipped.prefix(5) { warn("skipped \(e)") }
    if c.skipped.count > 5 { warn("… and \(c.skipped.count - 5) more bad rows skipped") }
  }

  /// Shows one training event.
  static func show(_ event: TrainingEvent, epochs: Int) {
    switch event {
    case .step(let epoch, let done, let total, let loss, let rate):
      guard isTerminal else { return }
      let width = 24
      let filled = total > 0 ? width * done / total : width
      let bar =
        String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
      let remaining = Double((epochs - epoch) * total + (total - done)) / max(rate, 1)
      let line = String(
        format: "\repoch %d/%d [%@] %3d%%  %.0f ex/s  loss %.4f  ETA %@", epoch, epochs, bar,
        total > 0 ? 100 * done / total : 100, rate, loss, duration(remaining))
      FileHandle.standardError.write(Data(line.utf8))
    case .epoch(let s, let seconds, let rate, let miningSeconds, let passSeconds):
      var line = String(
        format: "epoch %d/%d  loss %.4f  %.0f ex/s  %.2f s", s.epoch, epochs, s.loss,
        rate, seconds)
      if let a = s.validAccuracy, let f = s.validMacroF1, let l = s.validLoss {
        line += String(format: "  valid acc %.4f  macro-F1 %.4f  loss %.4f", a, f, l)
      }
      if let mined = s.minedPerClass, let trained = s.minedTrained {
        let share = { (x: Double) in Int((100 * x / max(seconds, 1e-9)).rounded()) }
        line +=
          "  mined \(mined.count <= 12 ? mined.map(String.init).joined(separator: "/") : "\(mined.reduce(0, +)) rows") (+\(trained - mined.reduce(0, +)) variants;"
          + " miner \(share(miningSeconds))%, mined pass \(share(passSeconds))% of the epoch)"
      }
      if s.isBest && s.validAccuracy != nil { line += "  *" }
      let prefix = isTerminal ? "\r\u{1B}[K" : ""
      FileHandle.standardError.write(Data("\(prefix)\(line)\n".utf8))
    case .restarted(let epoch, let loss, let first, let lr):
      if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      warn(
        "training diverged: \(Trainer.divergence(epoch: epoch, loss: loss, firstLoss: first)); "
          + "starting again at half the learning rate, "
          + String(format: "%g", lr))
    }
  }

  static func duration(_ s: Double) -> String {
    if s < 60 { return String(format: "%.0fs", s) }
    return String(format: "%dm%02ds", Int(s) / 60, Int(s) % 60)
  }
}
