extension ModelMetadata {
  /// The metadata of a model trained to `result` under `config`, which is stored with the
  /// base rate the run ended at (lower after a restart).
  init(
    trained result: Trainer.Result, labels: [String], config: TrainingConfig, vocab: Vocabulary,
    corpus: CorpusInfo, pretrained: PretrainedInfo?, encoder: EncoderInfo? = nil
  ) {
    var trainedConfig = config
    trainedConfig.learningRate = result.learningRate
    self.init(
      quarryVersion: Finetune.version, labels: labels, config: trainedConfig,
      classes: labels.count, dim: config.dim, featureCount: vocab.featureCount,
      wordCount: vocab.wordCount, corpus: corpus, pretrained: pretrained, encoder: encoder,
      bestEpoch: result.bestEpoch, epochs: result.epochs)
  }
}
