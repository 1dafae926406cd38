import ArgumentParser
import Foundation
import Koi

struct Backtest: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "backtest",
    abstract: "Fit on history before a cutoff date and compare predictions with what happened after it.",
    discussion: """
      Reads TRANSACTIONS.csv, fits the repurchase-interval model on the rows before --cutoff, \
      predicts each (customer, treatment) pair's next purchase, and compares with the rows \
      from the cutoff on: mean absolute error of the next-purchase date for pairs that came \
      back, Brier score and calibration of the 30/60/90-day probabilities, and the same \
      figures for the naive baseline (last purchase + the treatment's mean gap). Writes \
      backtest.json to --out and prints a summary.

      Example:
        koi backtest datasets/sample/transactions.csv --cutoff 2025-07-01 --out out/backtest
      """
  )

  @Argument(
    help: ArgumentHelp(
      "The transactions: files, directories, globs or - (standard input), as for koi score.",
      valueName: "input"))
  var input: [String]

  @Option(
    help: ArgumentHelp(
      "First day of the holdout: the model sees only rows before it. Example: --cutoff 2025-07-01",
      valueName: "yyyy-mm-dd"))
  var cutoff: String

  @Option(
    name: .long,
    help: ArgumentHelp("Directory for backtest.json; created if missing. Example: --out out/backtest", valueName: "dir")
  )
  var out: String

  @OptionGroup var reading: InputArguments
  @OptionGroup var repurchase: RepurchaseArguments
  @OptionGroup var lifetime: LifetimeArguments

  @OptionGroup var report: ReportArguments

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    guard DayNumber.parse(cutoff) != nil else {
      throw ValidationError("--cutoff '\(cutoff)' is not a date; write it as YYYY-MM-DD, e.g. --cutoff 2025-07-01.")
    }
  }

  func run() throws {
    var options = BacktestOptions(inputPath: "-", outputDirectory: out, cutoffDay: DayNumber.parse(cutoff) ?? 0)
    options.inputs = input
    reading.apply(to: &options.ingest)
    options.lifetime = lifetime.options
    try repurchase.apply(to: &options.intervals)
    let reporter = ProgressReporter(quiet: quiet)
    do {
      let result = try BacktestRun.run(options) { reporter($0) }
      print(result.summary)
      try report.write(directory: out)
    } catch {
      throw KoiExit.map(error)
    }
  }
}
