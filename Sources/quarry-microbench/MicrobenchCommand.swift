import ArgumentParser
import Foundation

@main
struct MicrobenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quarry-microbench",
    abstract: "Quarry's hot paths in release mode, each figure the median of several runs.",
    discussion: """
      Without a subcommand, `run`: the tokenizer, featurizer, forward pass beside \
      cblas_sgemm, and load times. `tune` fine-tunes MiniLM's top layers on R8. Both read \
      the data Scripts/setup downloads; Scripts/microbench builds in release mode, \
      fine-tunes an R8 model and runs `run` on it.

      Examples:
        quarry-microbench --only text,forward --reps 3
        quarry-microbench --model r8.qmodel --quarry .build/release/quarry --json
        quarry-microbench tune --layers 1 --epochs 1 --limit 200
      """,
    subcommands: [RunCommand.self, TuneCommand.self],
    defaultSubcommand: RunCommand.self)
}

/// Where Scripts/setup put the corpora, vectors and encoder.
struct CacheOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Scripts/setup's cache folder (default: $QUARRY_CACHE, else ~/.cache/quarry).",
      valueName: "dir"))
  var cache: String?

  var root: String {
    cache ?? ProcessInfo.processInfo.environment["QUARRY_CACHE"]
      ?? (NSHomeDirectory() + "/.cache/quarry")
  }
}

func note(_ s: String) { FileHandle.standardError.write(Data("[microbench] \(s)\n".utf8)) }
