import Foundation

/// After training: what the cross-fit folds' out-of-sample scores fit for the model, and
/// how it goes into the classifier's weights.
extension Finetune {
  /// `classifier` with `classBias`'s offsets added to its output bias, and then its logits
  /// divided by `temperature`: z ↦ (z + o) / T.
  static func postProcessed(
    _ classifier: Classifier, classBias: ClassBias.Info?, temperature: Temperature.Info?
  ) -> Classifier {
    var c = classifier
    if let classBias {
      for k in 0..<c.classes { c.bias[k] += classBias.offsets[k] }
    }
    if let temperature { c.scaleLogits(by: 1 / temperature.temperature) }
    return c
  }

  /// What the cross-fit scores give the model after training: class offsets, then a
  /// temperature fitted with those offsets in place (each when `config` asks for it and
  /// it passes its test). None without cross-fit scores, and none for a model with tuned
  /// encoder layers: its folds train on the n-gram features alone, while the model adds
  /// the tuned head's logits.
  static func postProcessing(
    _ heldOut: CrossFit.Scores?, labels: [Int32], classes: Int, tuned: Bool,
    config: TrainingConfig, progress: (Event) -> Void
  ) -> (ClassBias.Info?, Temperature.Info?) {
    let asked = config.classBias != .off || config.temperature != .off
    guard let heldOut else {
      if asked {
        progress(
          .note(
            "class offsets and temperature: none (they are fitted on the cross-fit scores: --cross-fit 2 or more)"
          ))
      }
      return (nil, nil)
    }
    guard !tuned else {
      if asked {
        progress(
          .note(
            "class offsets and temperature: none (with tuned encoder layers the folds score without the tuned head, so their scores do not stand for the model's)"
          ))
      }
      return (nil, nil)
    }
    let classBias = classBiasNoting(
      heldOut, labels: labels, classes: classes, mode: config.classBias, progress: progress)
    let temperature = temperatureNoting(
      heldOut, offsets: classBias?.offsets, labels: labels, classes: classes,
      mode: config.temperature, progress: progress)
    return (classBias, temperature)
  }

  /// The class offsets fitted on the cross-fit scores (`ClassBias`), when `mode` asks for
  /// them and they raise the folds' macro-F1 enough; a note says what was found either way.
  static func classBiasNoting(
    _ heldOut: CrossFit.Scores, labels: [Int32], classes: Int, mode: ClassBias.Mode,
    progress: (Event) -> Void
  ) -> ClassBias.Info? {
    guard mode == .tuned else { return nil }
    let fit = ClassBias.fit(probabilities: heldOut.probabilities, labels: labels, classes: classes)
    let figures = String(
      format: "the folds' macro-F1 %.4f → %.4f with per-class offsets on the logits",
      fit.before, fit.after)
    guard fit.kept else {
      progress(
        .note(
          "class offsets: none kept (\(figures), under the +\(ClassBias.minimumGain) that keeps them)"
        ))
      return nil
    }
    progress(
      .note(
        "class offsets: \(figures); \(ClassBias.shrink) of each is added to the model (--class-bias off: none)"
      ))
    return fit.info
  }

  /// The temperature fitted on the cross-fit scores with the class offsets added
  /// (`Temperature`), when `mode` asks for one and it is above 1, with a note of what was
  /// found either way.
  static func temperatureNoting(
    _ heldOut: CrossFit.Scores, offsets: [Float]?, labels: [Int32], classes: Int,
    mode: Temperature.Mode, progress: (Event) -> Void
  ) -> Temperature.Info? {
    guard mode == .fitted else { return nil }
    let t = Temperature.fit(
      probabilities: heldOut.probabilities, offsets: offsets, labels: labels, classes: classes)
    guard t.temperature > 1 else {
      progress(
        .note(
          String(
            format:
              "calibration: none (the folds' best temperature, %.3f, does not warm: they are not over-confident)",
            t.foldTemperature)))
      return nil
    }
    progress(
      .note(
        String(
          format:
            "calibration: temperature %.3f, half-way (on a log scale) to the folds' best %.3f, at which their log loss goes from %.4f to %.4f (--temperature off: none)",
          t.temperature, t.foldTemperature, t.foldLogLoss, t.calibratedFoldLogLoss)))
    return t
  }
}
