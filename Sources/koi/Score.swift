import ArgumentParser
import Foundation
import Koi

struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score",
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
    name: .customLong("init-model"),
    help: ArgumentHelp(
      "A previous run's model.json: tiers start from its centroids so tier identities stay stable, and segments.json reports how many customers changed tier. Example: --init-model out/model.json",
      valueName: "path"))
  var initModel: String?

  @OptionGroup var fitting: ModelArguments
  @OptionGroup var dueLists: DueListArguments

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Score with this saved model.json instead of fitting (fit monthly, score daily; the shards of one chain). It must come from this Koi with the same fitting options; the run is as of its date. Example: --model fitted/model.json",
      valueName: "path"))
  var model: String?

  @Flag(
    name: .long,
    help:
      "With --model, on one shard of a chain split by customer (every line on its line number): also write shard.json, what koi merge --outputs needs to merge the shards' outputs into the single run's. A shard with no rows is fine."
  )
  var shard = false

  @OptionGroup var threads: ThreadArguments
  @OptionGroup var reading: InputArguments

  @OptionGroup var report: ReportArguments

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if shard && model == nil {
      throw ValidationError(
        "--shard scores one shard with the whole chain's model; give it with --model (koi fit, or a koi score of the chain)."
      )
    }
    if let asOf, DayNumber.parse(asOf) == nil {
      throw ValidationError("--as-of '\(asOf)' is not a date; write it as YYYY-MM-DD, e.g. --as-of 2025-07-01.")
    }
  }

  func run() throws {
    var options = ScoreOptions(inputPath: "-", outputDirectory: out)
    options.inputs = input
    options.ingest.asOfDay = asOf.flatMap(DayNumber.parse)
    options.ingest.strict = strict
    reading.apply(to: &options.ingest)
    try fitting.apply(to: &options)
    dueLists.apply(to: &options)
    options.initModelPath = initModel
    options.modelPath = model
    options.shardOutput = shard
    threads.apply()
    let reporter = ProgressReporter(quiet: quiet)
    do {
      let result = try ScoringRun.run(options) { reporter($0) }
      let m = result.manifest
      print(
        "koi: \(m.customers) customers from \(m.rows.used) of \(m.rows.read) rows (\(m.rows.rejected) rejected) as of \(m.asOf) in \(String(format: "%.2f", m.seconds["total"] ?? 0)) s; results in \(out)"
      )
      printWarnings(m.warnings)
      // The results are in place; report.html is made from them.
      try report.write(directory: out, scoring: result)
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
