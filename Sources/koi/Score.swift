import ArgumentParser
import Foundation
import Koi

struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score every customer in a transactions file.",
    discussion: """
      Reads TRANSACTIONS.csv (a header line, then one row per transaction) and writes to DIR:
        customers.jsonl  one JSON record per customer
        segments.json    segment sizes, revenue shares and score thresholds
        model.json       the fitted model (thresholds, as-of date)
        rejects.csv      every row that was not used, with line, reason and text
        due.json         per treatment, customers likely to buy again within --due-within days
        run.json         input checksum, row accounting, options, timings

      Required columns: customer_id, date, item, amount. Optional: list_price, promo, \
      channel, store. Common Chinese headers (客户编号, 消费日期, 项目, 实收金额, 原价, \
      是否活动, 渠道, 门店 …) are recognised.

      Examples:
        koi score datasets/sample/transactions.csv --out out
        koi score export.csv --out out --as-of 2025-07-01 --column customer_id=会员卡号
        koi score 'exports/2025-*.csv' --out out --duplicates drop-across-files
        koi score sales.xlsx --sheet all --header-row 3 --out out
        zcat export.csv.gz | koi score - --out out
      """
  )

  @Argument(
    help: ArgumentHelp(
      "The transactions: CSV, CSV.gz or .xlsx files, directories (their *.csv, *.csv.gz, *.xlsx by name), globs Koi expands itself ('exports/2025-*.csv', by path), or - for standard input; read in the order given.",
      valueName: "input"))
  var input: [String]

  @Option(
    name: .long,
    help: ArgumentHelp("Directory for the results; created if missing. Example: --out out", valueName: "dir"))
  var out: String

  @Option(
    name: .customLong("as-of"),
    help: ArgumentHelp(
      "Reference date: recency is measured to it and rows dated on or after it are rejected. Default: the day after the last transaction. Example: --as-of 2025-07-01",
      valueName: "yyyy-mm-dd"))
  var asOf: String?

  @Flag(name: .long, help: "Stop at the first bad row (exit code 2) instead of rejecting it and going on.")
  var strict = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Stages to run, comma-separated, in any order; default all. Available: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")). Example: --stages rfm",
      valueName: "list"))
  var stages: String?

  @Option(name: .customLong("rfm-bins"), help: help(Settings.rfmBins, example: "5", valueName: "n"))
  var rfmBins = Settings.rfmBins.defaultValue

  @Option(name: .customLong("k"), help: help(Settings.k, example: "4", valueName: "n"))
  var k = Settings.k.defaultValue

  @Option(name: .long, help: help(Settings.restarts, example: "4", valueName: "n"))
  var restarts = Settings.restarts.defaultValue

  @Option(name: .long, help: help(Settings.seed, example: "7", valueName: "s"))
  var seed: UInt64 = UInt64(Settings.seed.defaultValue)

  @Option(
    name: .customLong("init-model"),
    help: ArgumentHelp(
      "A previous run's model.json: tiers start from its centroids so tier identities stay stable, and segments.json reports how many customers changed tier. Example: --init-model out/model.json",
      valueName: "path"))
  var initModel: String?

  @Option(
    name: .customLong("tier-features"),
    help: ArgumentHelp(
      "Behaviour features the tiers cluster on, comma-separated. Available: \(TierFeature.allCases.map(\.rawValue).joined(separator: ", ")). Example: --tier-features discount_depth,promo_share,premium_share,breadth",
      valueName: "list"))
  var tierFeatures: String?

  @Option(name: .customLong("due-within"), help: help(Settings.dueWithin, example: "30", valueName: "days"))
  var dueWithin = Settings.dueWithin.defaultValue

  @Option(
    name: .customLong("due-min-probability"),
    help: help(Settings.dueMinimumProbability, example: "0.25", valueName: "p"))
  var dueMinProbability = Settings.dueMinimumProbability.defaultValue

  @Option(name: .customLong("due-limit"), help: help(Settings.dueLimit, example: "500", valueName: "n"))
  var dueLimit: Int?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Score with this saved model.json instead of fitting (fit monthly, score daily; the shards of one chain). It must come from this Koi with the same fitting options; the run is as of its date. Example: --model fitted/model.json",
      valueName: "path"))
  var model: String?

  @OptionGroup var threads: ThreadArguments
  @OptionGroup var reading: InputArguments
  @OptionGroup var repurchase: RepurchaseArguments
  @OptionGroup var lifetime: LifetimeArguments

  @OptionGroup var report: ReportArguments

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    try check(Settings.dueWithin, dueWithin)
    try check(Settings.dueMinimumProbability, dueMinProbability)
    try check(Settings.k, k)
    try check(Settings.restarts, restarts)
    if let dueLimit { try check(Settings.dueLimit, dueLimit) }
    try check(Settings.rfmBins, rfmBins)
    if let tierFeatures { _ = try parseTierFeatures(tierFeatures) }
    if let asOf, DayNumber.parse(asOf) == nil {
      throw ValidationError("--as-of '\(asOf)' is not a date; write it as YYYY-MM-DD, e.g. --as-of 2025-07-01.")
    }
    _ = try parsedStages()
  }

  func parsedStages() throws -> [StageName] {
    guard let stages else { return StageName.allCases }
    var chosen = Set<StageName>()
    for s in stages.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !s.isEmpty {
      guard let stage = StageName.allCases.first(where: { $0.rawValue == s }) else {
        throw ValidationError(
          "--stages: unknown stage '\(s)'; the stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))."
        )
      }
      chosen.insert(stage)
    }
    guard !chosen.isEmpty else { throw ValidationError("--stages needs at least one stage.") }
    return StageName.allCases.filter(chosen.contains)
  }

  func run() throws {
    var options = ScoreOptions(inputPath: "-", outputDirectory: out)
    options.inputs = input
    options.ingest.asOfDay = asOf.flatMap(DayNumber.parse)
    options.ingest.strict = strict
    reading.apply(to: &options.ingest)
    options.stages = try parsedStages()
    options.rfm.bins = rfmBins
    options.tiers.k = k
    options.tiers.restarts = restarts
    options.tiers.seed = seed
    if let tierFeatures { options.tiers.features = try parseTierFeatures(tierFeatures) }
    options.initModelPath = initModel
    options.modelPath = model
    threads.apply()
    try repurchase.apply(to: &options.intervals)
    options.lifetime = lifetime.options
    options.dueWithinDays = dueWithin
    options.dueMinimumProbability = dueMinProbability
    options.dueLimit = dueLimit
    let reporter = ProgressReporter(quiet: quiet)
    do {
      let result = try ScoringRun.run(options) { reporter($0) }
      let m = result.manifest
      print(
        "koi: \(m.customers) customers from \(m.rows.used) of \(m.rows.read) rows (\(m.rows.rejected) rejected) as of \(m.asOf) in \(String(format: "%.2f", m.seconds["total"] ?? 0)) s; results in \(out)"
      )
      printWarnings(m.warnings)
      // The results are in place; report.html is made from them.
      try report.write(directory: out)
    } catch {
      throw KoiExit.map(error)
    }
  }
}

/// `--tier-features a,b,c` as features, or a validation error naming the
/// unknown one.
func parseTierFeatures(_ list: String) throws -> [TierFeature] {
  var out: [TierFeature] = []
  for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
    guard let f = TierFeature(rawValue: name) else {
      throw ValidationError(
        "--tier-features: unknown feature '\(name)'; the features are \(TierFeature.allCases.map(\.rawValue).joined(separator: ", "))."
      )
    }
    if !out.contains(f) { out.append(f) }
  }
  guard out.count >= 1 else { throw ValidationError("--tier-features needs at least one feature.") }
  return out
}
