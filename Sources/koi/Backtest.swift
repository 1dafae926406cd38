import ArgumentParser
import Foundation
import Koi

struct Backtest: ParsableCommand {
  static let configuration = CommandConfiguration(
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

  @Argument(help: ArgumentHelp("The transactions CSV.", valueName: "transactions.csv"))
  var input: String

  @Option(help: ArgumentHelp("First day of the holdout: the model sees only rows before it. Example: --cutoff 2025-07-01", valueName: "yyyy-mm-dd"))
  var cutoff: String

  @Option(name: .long, help: ArgumentHelp("Directory for backtest.json; created if missing. Example: --out out/backtest", valueName: "dir"))
  var out: String

  @Option(name: .customLong("column"), parsing: .singleValue, help: ArgumentHelp(
    "Read a canonical column from a differently named header; repeatable. Example: --column customer_id=会员卡号",
    valueName: "canonical=header"))
  var columns: [String] = []

  @Option(name: .long, help: ArgumentHelp("Input encoding: auto, utf8 or gb18030. Example: --encoding gb18030", valueName: "auto|utf8|gb18030"))
  var encoding: InputEncoding = .auto

  @Option(name: .customLong("horizon-days"), help: ArgumentHelp(
    "Lifetime horizon in days: expected purchases, P(no purchase) and CLV look this far ahead. Example: --horizon-days 365",
    valueName: "days"))
  var horizonDays = 365.0

  @Option(name: .customLong("discount-rate"), help: ArgumentHelp(
    "Annual discount rate for CLV, as a fraction (0.1 = 10% a year), applied in 30-day steps. Example: --discount-rate 0.1",
    valueName: "rate"))
  var discountRate = 0.10

  @Option(name: .long, help: ArgumentHelp(
    "Gross margin as a fraction of spend; CLV = margin × expected discounted spend. Example: --margin 0.6",
    valueName: "fraction"))
  var margin = 1.0

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if let problem = lifetimeOptions.problems.first { throw ValidationError(problem + ".") }
    guard DayNumber.parse(cutoff) != nil else {
      throw ValidationError("--cutoff '\(cutoff)' is not a date; write it as YYYY-MM-DD, e.g. --cutoff 2025-07-01.")
    }
    for c in columns where !c.contains("=") {
      throw ValidationError("--column '\(c)' needs the form canonical=header.")
    }
  }

  var lifetimeOptions: LifetimeOptions {
    LifetimeOptions(horizonDays: horizonDays, annualDiscountRate: discountRate, margin: margin)
  }

  func run() throws {
    var options = BacktestOptions(inputPath: input, outputDirectory: out, cutoffDay: DayNumber.parse(cutoff) ?? 0)
    options.ingest.encoding = encoding
    options.lifetime = lifetimeOptions
    for c in columns {
      let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
      options.ingest.columnOverrides[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
    let reporter = ProgressReporter(quiet: quiet)
    do {
      let result = try BacktestRun.run(options) { reporter($0) }
      print(result.summary)
    } catch {
      throw KoiExit.map(error)
    }
  }
}
