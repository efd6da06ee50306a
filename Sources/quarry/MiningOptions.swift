import ArgumentParser
import Foundation
import Quarry

/// Default values come from `TrainingConfig`.
private let defaults = TrainingConfig()

/// The flags of the mined pass: which rows, how hard, and how they are augmented.
struct MiningOptions: ParsableArguments {
  @Flag(help: "Turn off hard-negative mining (and with it focal loss and augmentation).")
  var noMine = false
  @Option(help: "Epochs of plain training before mining starts (at least 1).")
  var mineWarmup: Int = defaults.mineWarmup
  @Option(help: "Per class, mine this share of the rows pulled towards it, hardest first.")
  var mineFraction: Float = defaults.mineFraction
  @Option(help: "Mine rows with |p(gold) - max p(other)| at most this.")
  var mineMargin: Float = defaults.mineMargin
  @Option(help: "Skip mined rows whose word sets overlap a kept row by more (Jaccard).")
  var mineJaccard: Float = defaults.mineJaccard
  @Option(help: "Focal-loss gamma of the mined pass (0 = cross-entropy).")
  var focalGamma: Float = defaults.focalGamma
  @Option(help: "Focal-loss alpha: the weight of mined rows, times their class weight.")
  var focalAlpha: Float = defaults.mineWeight
  @Flag(help: "Train the mined rows without augmented variants.") var noAugment = false
  @Option(help: "Augmented variants per mined row (EDA: swap, insertion, deletion in turn).")
  var augmentVariants: Int = defaults.augmentVariants
  @Option(help: "EDA rate alpha: share of a row's words each operation changes.")
  var augmentAlpha: Float = defaults.augmentAlpha
  @Option(help: "About this many variants per epoch (the hardest mined rows first).")
  var augmentBudget: Int = defaults.augmentBudget
  @Option(
    help: ArgumentHelp(
      "Thesaurus for synonyms (MyThes .dat).",
      discussion: """
        Default: $QUARRY_THESAURUS, else of the th_*.dat files in $QUARRY_CACHE/thesaurus \
        and /usr/share/mythes (Debian's mythes-en-us, mythes-es, mythes-de, ...), the one \
        with synonyms for the most of the corpus's distinct words, if it covers 5% of its \
        word tokens.
        """))
  var thesaurus: String?

  /// The thesaurus to use: --thesaurus or $QUARRY_THESAURUS, else the best of the MyThes
  /// files in the cache (Scripts/setup's English copy) and in /usr/share/mythes.
  func thesaurusChoice() -> ThesaurusChoice {
    if let thesaurus { return .file(thesaurus) }
    let env = ProcessInfo.processInfo.environment
    if let t = env["QUARRY_THESAURUS"] { return .file(t) }
    var seen = Set<String>()
    var paths: [String] = []
    for dir in [cacheRoot + "/thesaurus", "/usr/share/mythes"] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
      // Debian links one file under many regional names (th_es_AR_v2.dat → th_es_ES_v2.dat):
      // each file is read once, under its own name; the cache's copy comes first.
      for name in names.sorted() where name.hasPrefix("th_") && name.hasSuffix(".dat") {
        let file = URL(fileURLWithPath: dir + "/" + name).resolvingSymlinksInPath()
        if seen.insert(file.lastPathComponent).inserted { paths.append(file.path) }
      }
    }
    return .bestOf(paths)
  }

  /// The thesaurus files `thesaurusChoice` may read.
  var thesaurusFiles: [String] {
    switch thesaurusChoice() {
    case .none: return []
    case .file(let path): return [path]
    case .bestOf(let paths): return paths
    }
  }

  func validate() throws {
    guard mineWarmup >= 1 else {
      throw ValidationError(
        "--mine-warmup must be at least 1: the miner ranks rows by an epoch's scores")
    }
    guard mineFraction > 0, mineFraction <= 1 else {
      throw ValidationError("--mine-fraction must be in (0, 1]")
    }
    guard mineMargin > 0, mineMargin <= 1 else {
      throw ValidationError("--mine-margin must be in (0, 1]")
    }
    guard mineJaccard > 0, mineJaccard <= 1 else {
      throw ValidationError("--mine-jaccard must be in (0, 1]")
    }
    guard focalGamma >= 0, focalGamma <= 10 else {
      throw ValidationError("--focal-gamma must be 0...10")
    }
    guard focalAlpha > 0, focalAlpha.isFinite else {
      throw ValidationError("--focal-alpha must be positive")
    }
    guard augmentBudget >= 1 else {
      throw ValidationError(
        "--augment-budget must be at least 1 (--no-augment turns augmentation off)")
    }
    guard (0...20).contains(augmentVariants) else {
      throw ValidationError("--augment-variants must be 0…20")
    }
    guard augmentAlpha > 0, augmentAlpha <= 0.5 else {
      throw ValidationError("--augment-alpha must be in (0, 0.5]")
    }
  }

  func apply(to config: inout TrainingConfig) {
    config.mine = !noMine
    config.mineWarmup = mineWarmup
    config.mineFraction = mineFraction
    config.mineMargin = mineMargin
    config.mineJaccard = mineJaccard
    config.focalGamma = focalGamma
    config.mineWeight = focalAlpha
    config.augment = !noAugment && augmentVariants > 0
    config.augmentVariants = augmentVariants
    config.augmentAlpha = augmentAlpha
    config.augmentBudget = augmentBudget
  }
}
