import ArgumentParser
import Koi

/// How to read the input file: shared by `score` and `backtest`.
struct InputArguments: ParsableArguments {
  @Option(
    name: .customLong("column"), parsing: .singleValue,
    help: ArgumentHelp(
      "Read a canonical column from a differently named header; repeatable. Canonical names: customer_id, date, item, amount, list_price, promo, channel, store. Example: --column customer_id=会员卡号",
      valueName: "canonical=header"))
  var columns: [String] = []

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Input encoding: auto (UTF-8, or GB18030 when the file is not UTF-8), utf8, gb18030. Example: --encoding gb18030",
      valueName: "auto|utf8|gb18030"))
  var encoding: InputEncoding = .auto

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Which sheets of a workbook (.xlsx) to read: a name, a number (1 = the first sheet, hidden ones counted), or all (every visible sheet, in workbook order). Default: the first visible sheet. Example: --sheet 2024",
      valueName: "name|number|all"))
  var sheet: String?

  @Option(name: .customLong("header-row"), help: help(Settings.headerRow, example: "3", valueName: "n"))
  var headerRow = Settings.headerRow.defaultValue

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Rows that repeat a row of an earlier file exactly (overlapping exports): report (count them in run.json and warn, keep them) or drop-across-files (reject them as duplicate_across_files). Example: --duplicates drop-across-files",
      valueName: "report|drop-across-files"))
  var duplicates: DuplicatePolicy = .report

  func validate() throws {
    for c in columns where !c.contains("=") {
      throw ValidationError("--column '\(c)' needs the form canonical=header, e.g. --column customer_id=会员卡号.")
    }
    try check(Settings.headerRow, headerRow)
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
  @Option(
    name: .customLong("prior"), parsing: .singleValue,
    help: ArgumentHelp(
      "Typical repurchase cycle of a treatment in days, used when it has too few repeat purchases to fit (under 30 gaps); repeatable. Example: --prior 玻尿酸=180",
      valueName: "item=days"))
  var priors: [String] = []

  @Option(name: .customLong("next-within"), help: help(Settings.nextWithin, example: "365", valueName: "days"))
  var nextWithin = Settings.nextWithin.defaultValue

  @Flag(
    name: .customLong("no-propensity"),
    help: ArgumentHelp(
      "Keep the interval model's own 30/60/90-day probabilities instead of training boosted trees on the run's history (faster on very large files; the trees were better on every real log measured)."
    ))
  var noPropensity = false

  func validate() throws {
    _ = try parsedPriors()
    try check(Settings.nextWithin, nextWithin)
  }

  func parsedPriors() throws -> [String: Double] {
    var out: [String: Double] = [:]
    for p in priors {
      let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[0].isEmpty, let days = Double(parts[1]) else {
        throw ValidationError("--prior '\(p)' needs the form item=days, e.g. --prior filler=180.")
      }
      try check(Settings.priorDays, days)
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
  @Option(name: .customLong("horizon-days"), help: help(Settings.horizonDays, example: "365", valueName: "days"))
  var horizonDays = Settings.horizonDays.defaultValue

  @Option(name: .customLong("discount-rate"), help: help(Settings.discountRate, example: "0.1", valueName: "rate"))
  var discountRate = Settings.discountRate.defaultValue

  @Option(name: .long, help: help(Settings.margin, example: "0.6", valueName: "fraction"))
  var margin = Settings.margin.defaultValue

  @Option(name: .customLong("max-erlang-k"), help: help(Settings.maxErlangK, example: "0", valueName: "k"))
  var maxErlangK = Settings.maxErlangK.defaultValue

  var options: LifetimeOptions {
    LifetimeOptions(
      horizonDays: horizonDays, annualDiscountRate: discountRate, margin: margin, maximumErlangK: maxErlangK)
  }

  func validate() throws {
    try check(Settings.horizonDays, horizonDays)
    try check(Settings.discountRate, discountRate)
    try check(Settings.margin, margin)
    try check(Settings.maxErlangK, maxErlangK)
  }
}

/// Help text of an option from its one definition: its meaning, its range
/// and an example.
func help<V>(_ s: Setting<V>, example: String, valueName: String) -> ArgumentHelp {
  ArgumentHelp("\(s.meaning) Allowed: \(s.expected). Example: \(s.flag ?? "") \(example)", valueName: valueName)
}

/// Throws the setting's one sentence for an out-of-range value, after its flag.
func check<V>(_ s: Setting<V>, _ value: V) throws {
  if let problem = s.problem(value) { throw ValidationError("\(s.flag ?? s.name): \(problem).") }
}

extension InputEncoding: ExpressibleByArgument {}
extension DuplicatePolicy: ExpressibleByArgument {}

/// report.html after a run (`koi score`, `koi backtest`, `koi merge`).
struct ReportArguments: ParsableArguments {
  @Flag(name: .customLong("no-report"), help: "Do not write report.html (see koi report).")
  var noReport = false

  @Option(
    name: .long,
    help: ArgumentHelp("Language of report.html: zh (Chinese) or en (English). Example: --lang en", valueName: "zh|en"))
  var lang = "zh"

  func validate() throws {
    guard ReportLanguage(code: lang) != nil else {
      throw ValidationError("--lang '\(lang)' is not a report language; use zh or en, e.g. --lang en.")
    }
  }

  /// Writes report.html from the results in `directory`, unless --no-report.
  /// `scoring`: the run that wrote them, if it is in memory.
  func write(directory: String, scoring: ScoringResult? = nil) throws {
    if !noReport {
      try RunReport.write(directory: directory, language: ReportLanguage(code: lang) ?? .zh, scoring: scoring)
    }
  }
}
