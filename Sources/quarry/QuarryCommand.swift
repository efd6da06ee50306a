import ArgumentParser

@main
struct QuarryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quarry",
    abstract: "Train, evaluate and run text classifiers fine-tuned from pretrained vectors.",
    discussion: """
      Corpora: label<TAB>text (TSV), fastText's __label__X text, CSV with a header naming \
      text and label, or JSON Lines with text and label fields (several labels a row: \
      a,b<TAB>text, repeated __label__, a labels column or a "labels" array). Rows are \
      referred to by their 1-based line number.

      Examples:
        quarry finetune --train train.tsv --pretrained glove.6B.50d.vec \\
          --output r8.qmodel
        quarry evaluate --model r8.qmodel --data test.tsv
        echo "oil prices rise" | quarry predict --model r8.qmodel --k 3
        quarry serve --model r8.qmodel --port 8080
      """,
    version: "quarry 0.1.0",
    subcommands: [
      FinetuneCommand.self, EvaluateCommand.self, PredictCommand.self, MineReportCommand.self,
      EncodeCommand.self, ServeCommand.self,
    ])
}
