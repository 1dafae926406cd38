import ArgumentParser
import Koi

/// How to read the input file: shared by `score` and `backtest`.
struct InputArguments: ParsableArguments {
  @Option(name: .customLong("column"), parsing: .singleValue, help: ArgumentHelp(
    "Read a canonical column from a differently named header; repeatable. Canonical names: customer_id, date, item, amount, list_price, promo, channel, store. Example: --column customer_id=会员卡号",
    valueName: "canonical=header"))
  var columns: [String] = []

  @Option(name: .long, help: ArgumentHelp(
    "Input encoding: auto (UTF-8, or GB18030 when the file is not UTF-8), utf8, gb18030. Example: --encoding gb18030",
    valueName: "auto|utf8|gb18030"))
  var encoding: InputEncoding = .auto

  @Option(name: .long, help: ArgumentHelp(
    "Which sheets of a workbook (.xlsx) to read: a name, a number (1 = the first sheet, hidden ones counted), or all (every visible sheet, in workbook order). Default: the first visible sheet. Example: --sheet 2024",
    valueName: "name|number|all"))
  var sheet: String?

  @Option(name: .customLong("header-row"), help: ArgumentHelp(
    "The line (workbook row) the header is on; the title lines above it are skipped. Example: --header-row 3",
    valueName: "n"))
  var headerRow = 1

  @Option(name: .long, help: ArgumentHelp(
    "Rows that repeat a row of an earlier file exactly (overlapping exports): report (count them in run.json and warn, keep them) or drop-across-files (reject them as duplicate_across_files). Example: --duplicates drop-across-files",
    valueName: "report|drop-across-files"))
  var duplicates: DuplicatePolicy = .report

  func validate() throws {
    for c in columns where !c.contains("=") {
      throw ValidationError("--column '\(c)' needs the form canonical=header, e.g. --column customer_id=会员卡号.")
    }
    guard (1...1_000_000).contains(headerRow) else {
      throw ValidationError("--header-row must be a line number from 1, got \(headerRow).")
    }
    if let sheet, sheet.isEmpty { throw ValidationError("--sheet needs a sheet name, a number or all.") }
  }

  /// Sets the encoding and column overrides of `options`.
  func apply(to options: inout IngestOptions) {
    options.encoding = encoding
    options.sheet = sheet
    options.headerRow = headerRow
    options.duplicates = duplicates
    for c in columns {
      let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
      options.columnOverrides[parts[0]] = parts.count > 1 ? parts[1] : ""
    }
  }
}

/// Repurchase-interval settings: shared by `score` and `backtest`, so a
/// backtest measures the model `score` ships.
struct RepurchaseArguments: ParsableArguments {
  @Option(name: .customLong("prior"), parsing: .singleValue, help: ArgumentHelp(
    "Typical repurchase cycle of a treatment in days, used when it has too few repeat purchases to fit (under 30 gaps); repeatable. Example: --prior 玻尿酸=180",
    valueName: "item=days"))
  var priors: [String] = []

  @Option(name: .customLong("next-within"), help: ArgumentHelp(
    "Repurchase horizon in days (1–3650): next-purchase dates and P10/P50/P90 lie within it, and a customer less likely than not to buy a treatment within it is 'lapsed'. Example: --next-within 365",
    valueName: "days"))
  var nextWithin = 365

  @Flag(name: .customLong("no-propensity"), help: ArgumentHelp(
    "Keep the interval model's own 30/60/90-day probabilities instead of training boosted trees on the run's history (faster on very large files; the trees were better on every real log measured)."))
  var noPropensity = false

  func validate() throws {
    _ = try parsedPriors()
    guard (1...3650).contains(nextWithin) else {
      throw ValidationError("--next-within must be between 1 and 3650 days, got \(nextWithin).")
    }
  }

  func parsedPriors() throws -> [String: Double] {
    var out: [String: Double] = [:]
    for p in priors {
      let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[0].isEmpty, let days = Double(parts[1]), days > 0, days.isFinite else {
        throw ValidationError("--prior '\(p)' needs the form item=days with days > 0, e.g. --prior filler=180.")
      }
      out[parts[0]] = days
    }
    return out
  }

  func apply(to options: inout IntervalOptions) throws {
    options.priors = try parsedPriors()
    options.horizonDays = nextWithin
    options.propensity = !noPropensity
  }
}

/// Lifetime-value horizon and money: shared by `score` and `backtest`.
struct LifetimeArguments: ParsableArguments {
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

  @Option(name: .customLong("max-erlang-k"), help: ArgumentHelp(
    "Largest Erlang order k tried for the regular-timing model MBG/CNBD-k, which replaces BG/NBD when it fits better; 0 keeps BG/NBD only (0–12). Example: --max-erlang-k 0",
    valueName: "k"))
  var maxErlangK = 4

  var options: LifetimeOptions {
    LifetimeOptions(horizonDays: horizonDays, annualDiscountRate: discountRate, margin: margin, maximumErlangK: maxErlangK)
  }

  func validate() throws {
    if let problem = options.problems.first { throw ValidationError(problem + ".") }
  }
}

extension InputEncoding: ExpressibleByArgument {}
extension DuplicatePolicy: ExpressibleByArgument {}
