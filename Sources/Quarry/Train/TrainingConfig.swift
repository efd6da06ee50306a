/// Every setting of a training run, flat and Codable: stored in the model file as is.
public struct TrainingConfig: Codable, Sendable, Equatable {
  public var features = FeatureConfig()
  /// Features seen in fewer training documents than this are dropped.
  public var minCount = 1
  /// Embedding width when no pretrained file gives one.
  public var dim = 50
  public var epochs = 20
  /// Per-example learning rate of the wide part and the dense layer; decays linearly to 0.
  /// With `scaleLearningRate`, the base of `scaledLearningRate`.
  public var learningRate: Float = 2
  /// Scale the learning rate by the corpus's text length (`scaledLearningRate`). Not
  /// stored: the model file stores the rate it was trained with.
  public var scaleLearningRate = true
  /// Learning rate of the embedding rows, as a multiple of `learningRate`.
  public var embeddingLRScale: Float = 1
  /// Learning rate of the dense layer (on the batch-mean gradient), as a multiple of
  /// `learningRate`.
  public var denseLRScale: Float = 2
  public var batchSize = 128
  /// Focusing parameter γ of the loss on every row (0 = cross-entropy).
  public var lossGamma: Float = 0
  /// L2 penalty λ on the wide part's rows, applied lazily: each time a document holds a
  /// row, its step first shrinks the row by 1 − η·λ (η the step's rate). nil: chosen from
  /// the corpus by `resolvedWideL2`, and a model stores the value it trained with (a
  /// model file written before the setting existed has none: 0).
  public var wideL2: Float? = nil
  /// λ of the supervised term weights: every feature's idf is multiplied by
  /// 1 + λ·igm(f) (`TermWeights`), so that features concentrated in one class weigh more.
  /// nil: `resolvedIGM`'s default, and a model stores the value it trained with (a model
  /// file written before the setting has none: 0, plain idf).
  public var igm: Float? = nil

  /// Hard-negative mining: a second pass each epoch over the boundary rows (`Miner`).
  public var mine = true
  /// Epochs before mining starts (at least 1: the miner ranks by an epoch's scores).
  public var mineWarmup = 1
  /// Per class c, mine this share of its candidates (the rows pulled towards c inside the
  /// band), hardest first. Why 1 with a band of 1: docs/experiments.md.
  public var mineFraction: Float = 1
  /// Only rows with |p(gold) − max p(other)| ≤ this are mined.
  public var mineMargin: Float = 1
  /// Skip a mined row whose word set overlaps a kept one by more than this (Jaccard).
  public var mineJaccard: Float = 0.9
  /// Focal loss γ of the mined pass (normalized per batch: `focalRowScales`), and the
  /// weight of its rows (× class weight: α_t).
  public var focalGamma: Float = 2
  public var mineWeight: Float = 1
  /// Augment the mined rows (EDA: synonym swap, insertion, deletion at rate α).
  public var augment = true
  public var augmentVariants = 4
  public var augmentAlpha: Float = 0.2
  /// About this many variants per epoch: past it, the miner keeps only the hardest rows of
  /// each class (so that a large corpus is not multiplied by `augmentVariants`). The share
  /// is rounded up per class, and at least one row is mined.
  public var augmentBudget = 2000

  /// Folds of the cross-fitting that gives every training row out-of-sample probabilities
  /// for `mine-report`'s label issues (0 or 1: none), and the epochs of each fold's model
  /// (trained at `CrossFit.lrScale` times the base rate). Why four folds of ten epochs:
  /// docs/experiments.md.
  public var crossFit = 4
  public var crossFitEpochs = 10
  /// Fit per-class offsets on the logits from the cross-fit scores (`ClassBias`). Not
  /// stored: the model's metadata records the offsets it was given.
  public var classBias = ClassBias.Mode.tuned
  /// Fit a temperature on the cross-fit scores (`Temperature`). Not stored: the model's
  /// metadata records the temperature it was given.
  public var temperature = Temperature.Mode.fitted
  public var classWeighting = ClassWeighting.balanced
  /// Share of the training corpus held out for choosing the best epoch, when no
  /// validation file is given (0 keeps every row for training and the last epoch).
  public var validFraction: Float = 0
  public var seed: UInt64 = 1
  /// Not stored in the model file: the model does not depend on it.
  public var threads = 2
  /// The largest model `finetune` agrees to train, in bytes of parameters (not stored).
  public var maxModelBytes = 2048 << 20

  public init() {}

  /// The learning rate for a corpus of `meanWords` words per training row: with
  /// `scaleLearningRate`, η · min(1, w̄ / 100), else η. A short text's unit tf-idf vector
  /// spreads over few features and its embedding bag over few words, so each of its steps
  /// moves those weights further. A corpus whose tokens are mostly letters of scripts
  /// written without spaces (`unspacedShare` over ½: one token per character) keeps η:
  /// w̄ counts characters there, not words. The measurements behind both rules are in
  /// docs/experiments.md.
  public func scaledLearningRate(meanWords: Double, unspacedShare: Double = 0) -> Float {
    guard scaleLearningRate, meanWords.isFinite, meanWords >= 0, unspacedShare <= 0.5 else {
      return learningRate
    }
    return learningRate * Float(min(1, meanWords / 100))
  }

  /// The λ a run trains with: `wideL2`, or when it is nil (in a run: choose from the
  /// corpus; in a model file: written before the setting, so 0) the default for a corpus
  /// whose tokens are `unspacedShare` characters of scripts written without spaces:
  /// `unspacedWideL2` when over half, else 0. Short unspaced rows (THUCNews: 17.6
  /// characters) train at the full rate, and their wide rows over-fit without it; on
  /// corpora of words it cost R8 accuracy (docs/experiments.md).
  public func resolvedWideL2(unspacedShare: Double) -> Float {
    wideL2 ?? (unspacedShare > 0.5 ? TrainingConfig.unspacedWideL2 : 0)
  }

  /// The λ of the term weights a run trains with: `igm`, or when it is nil
  /// `TrainingConfig.defaultIGM` for a single-label corpus and 0 for a multi-label one
  /// (igm ranks a feature's classes, which a row of several labels does not give).
  public func resolvedIGM(multiLabel: Bool) -> Float {
    igm ?? (multiLabel ? 0 : TrainingConfig.defaultIGM)
  }

  /// The default λ of the term weights, chosen on 20 Newsgroups, R8, R52 and SMS
  /// (docs/experiments.md).
  public static let defaultIGM: Float = 0.5

  /// The wide part's L2 penalty for a corpus mostly of scripts written without spaces,
  /// chosen on a validation split of THUCNews's training rows.
  public static let unspacedWideL2: Float = 2e-4

  private enum CodingKeys: String, CodingKey {
    case features, minCount, dim, epochs, learningRate, embeddingLRScale, denseLRScale, wideL2
    case igm
    case batchSize, lossGamma, classWeighting, validFraction, seed
    case mine, mineWarmup, mineFraction, mineMargin, mineJaccard, focalGamma, mineWeight
    case augment, augmentVariants, augmentAlpha, augmentBudget, crossFit, crossFitEpochs
  }
}
