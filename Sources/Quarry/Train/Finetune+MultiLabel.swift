/// What is particular to training a multi-label model: whether the corpus is one, and its
/// per-class thresholds.
extension Finetune {
  /// Whether to train a multi-label model: when `forced`, or when a row of the training
  /// corpus has several labels (noted either way). A validation corpus with several labels
  /// a row needs a multi-label training corpus, and tuned encoder layers need single labels.
  static func multiLabelNoting(
    _ corpus: Corpus, valid: Corpus?, forced: Bool, tuning: LayerTuner.Options?,
    progress: (Event) -> Void
  ) throws -> Bool {
    let first = corpus.firstMultiLabelRow
    guard forced || first != nil else {
      if let valid, let row = valid.firstMultiLabelRow {
        throw InputError(
          path: valid.path, line: row.line,
          "\(row.labels.count) labels on this validation row, but every row of the training corpus \(corpus.path) has one: give --multi-label to train a multi-label model"
        )
      }
      return false
    }
    if let tuning, tuning.layers > 0 {
      throw InputError(
        path: corpus.path,
        "--tune-layers trains a single-label head: it does not take a multi-label corpus (use --encoder without --tune-layers)"
      )
    }
    let rows = corpus.examples.count
    let mean = Double(corpus.examples.reduce(0) { $0 + $1.labels.count }) / Double(max(rows, 1))
    let why =
      first.map { "line \($0.line) has \($0.labels.count) labels" } ?? "--multi-label"
    progress(
      .note(
        "multi-label (\(why)): one sigmoid output per class, \(String(format: "%.2f", mean)) labels a row on average"
      ))
    return true
  }

  /// Each class's decision threshold, tuned on the cross-fit scores (`Thresholds`) when
  /// `mode` asks for it and there are some, else ½; with a note of the folds' F1 either way.
  static func thresholdsNoting(
    _ heldOut: CrossFit.Scores?, labelSets: [[Int32]], classes: Int, mode: Thresholds.Mode,
    progress: (Event) -> Void
  ) -> Thresholds.Info {
    guard mode == .tuned else { return .half(classes: classes) }
    guard let heldOut else {
      progress(
        .note(
          "thresholds: ½ for every class (they are tuned on the cross-fit scores: --cross-fit 2 or more)"
        ))
      return .half(classes: classes)
    }
    let info = Thresholds.fit(
      probabilities: heldOut.probabilities, labelSets: labelSets, classes: classes)
    let t = info.thresholds.sorted()
    progress(
      .note(
        String(
          format:
            "thresholds: per class (median %.2f, from %.2f to %.2f), raising the folds' micro-F1 %.4f → %.4f and macro-F1 %.4f → %.4f over ½ (--thresholds half: ½)",
          t[t.count / 2], t.first ?? 0.5, t.last ?? 0.5, info.foldMicroF1 ?? 0,
          info.tunedFoldMicroF1 ?? 0, info.foldMacroF1 ?? 0, info.tunedFoldMacroF1 ?? 0)))
    return info
  }

  /// Sets `model`'s thresholds and, when `mode` asks for it and there are cross-fit scores,
  /// folds per-class Platt scaling fitted on them into its weights, its thresholds mapped
  /// the same way (so that every prediction stays as it was); with a note.
  static func calibrateMultiLabel(
    _ model: inout Model, thresholds: Thresholds.Info, heldOut: CrossFit.Scores?,
    labelSets: [[Int32]], mode: Temperature.Mode, progress: (Event) -> Void
  ) {
    model.metadata.multiLabel = thresholds
    guard mode == .fitted, let heldOut else { return }
    let platt = PlattScaling.fit(
      probabilities: heldOut.probabilities, labelSets: labelSets,
      classes: model.classifier.classes)
    model.classifier.mapClassLogits(scales: platt.scales, shifts: platt.shifts)
    model.metadata.multiLabel!.thresholds = PlattScaling.apply(
      thresholds.thresholds, scales: platt.scales, shifts: platt.shifts)
    model.metadata.platt = platt
    progress(
      .note(
        String(
          format:
            "calibration: per-label Platt scaling, the folds' log loss %.4f → %.4f (--temperature off: none)",
          platt.foldLogLoss, platt.calibratedFoldLogLoss)))
  }
}
