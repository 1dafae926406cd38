import ArgumentParser
import Foundation
import Koi

struct Stats: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stats",
    abstract: "Write the exact statistics of one shard of a chain (for koi fit and koi merge).",
    discussion: """
      Reads one shard of a transactions file and writes its statistics: the validated rows, \
      where each customer and treatment first appears, the rejects by line and the row counts \
      (the documented KOISTATS format, version \(ShardStatistics.formatVersion)). A shard is \
      the input with the original header in which lines of other shards may be blank, so \
      every line keeps its number; every row of a customer must be in one shard. A shard \
      with no rows is fine.

      Examples:
        koi stats shard-0.csv --out stats/0.stats
        python3 split.py | koi stats - --out stats/0.stats --threads 1
      """
  )

  @Argument(help: ArgumentHelp("The shard: a CSV or CSV.gz file, or - for standard input.", valueName: "input"))
  var input: String

  @Option(name: .long, help: ArgumentHelp("The statistics file to write. Example: --out 0.stats", valueName: "file"))
  var out: String

  @Option(
    name: .customLong("as-of"),
    help: ArgumentHelp(
      "Reference date, the same for every shard: rows dated on or after it are rejected. Default: the day after the last transaction of all shards.",
      valueName: "yyyy-mm-dd"))
  var asOf: String?

  @Flag(name: .long, help: "Stop at the first bad row (exit code 2) instead of rejecting it.")
  var strict = false

  @OptionGroup var reading: InputArguments
  @OptionGroup var threads: ThreadArguments

  func validate() throws { _ = try parseAsOf(asOf) }

  func run() throws {
    threads.apply()
    var options = ScoreOptions(inputPath: input, outputDirectory: ".")
    options.ingest.asOfDay = try parseAsOf(asOf)
    options.ingest.strict = strict
    reading.apply(to: &options.ingest)
    do {
      let s = try ShardRun.statistics(options)
      try s.write(to: out)
      print("koi: shard of \(s.customers) customers, \(s.rows) rows; statistics in \(out)")
    } catch {
      throw KoiExit.map(error)
    }
  }
}

struct Fit: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fit",
    abstract: "Fit the model on the statistics of every shard (the driver's step).",
    discussion: """
      Fits every stage on the statistics of koi stats in single-run order: the model.json \
      that koi score writes for the whole input, byte for byte. With several files it reads \
      them one at a time, twice, and holds per-customer statistics, not the rows (one \
      file: its rows). Give files, not pipes. Give the options that change the fit as koi \
      score takes them.

      Example:
        koi fit --stats stats/*.stats --out model.json
      """
  )

  @Option(
    name: .long, parsing: .upToNextOption,
    help: ArgumentHelp("The shards' statistics files (koi stats).", valueName: "file"))
  var stats: [String]

  @Option(name: .long, help: ArgumentHelp("The model.json to write.", valueName: "file"))
  var out: String

  @Option(
    name: .customLong("init-model"),
    help: ArgumentHelp("A previous run's model.json for a warm start, as koi score takes it.", valueName: "path"))
  var initModel: String?

  @OptionGroup var model: ModelArguments
  @OptionGroup var threads: ThreadArguments

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if stats.isEmpty { throw ValidationError("--stats needs at least one statistics file.") }
  }

  func run() throws {
    threads.apply()
    var options = ScoreOptions(inputPath: stats.joined(separator: " "), outputDirectory: ".")
    options.command = "fit"
    options.initModelPath = initModel
    try model.apply(to: &options)
    do {
      let reporter = ProgressReporter(quiet: quiet)
      let (fitted, warnings) = try ShardRun.fit(statisticsAt: stats, options: options) { reporter($0) }
      try ShardRun.writeModel(fitted, to: out)
      print("koi: model fitted on \(stats.count) shards as of \(fitted.asOf); written to \(out)")
      printWarnings(warnings)
    } catch {
      throw KoiExit.map(error)
    }
  }
}

struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Write the single-run outputs of a chain from its shards' statistics and model.",
    discussion: """
      Merges the statistics of koi stats in single-run order, scores them with the model \
      of koi fit (--model; without it, fits first) and writes what koi score writes for \
      the whole input: customers.jsonl, segments.json, model.json, rejects.csv and due.json \
      byte for byte, and run.json (which differs in its input, timing and as_of_source \
      fields).

      With --outputs instead of --stats, merges the shards' outputs of koi score --shard \
      --model (scored where the shards are, e.g. on Spark executors) without their rows: \
      customers.jsonl by the line that first names each customer, segments.json from the \
      shards' exact partial figures, due.json by probability then customer order cut at \
      --due-limit, rejects.csv by line; the same bytes as koi score on the whole input.

      Examples:
        koi merge --stats stats/*.stats --model model.json --out out
        koi merge --outputs scored/shard-* --out out
      """
  )

  @Option(
    name: .long, parsing: .upToNextOption,
    help: ArgumentHelp("The shards' statistics files (koi stats).", valueName: "file"))
  var stats: [String] = []

  @Option(
    name: .long, parsing: .upToNextOption,
    help: ArgumentHelp(
      "The shards' output directories of koi score --shard --model (each with shard.json); instead of --stats.",
      valueName: "dir"))
  var outputs: [String] = []

  @Option(name: .long, help: ArgumentHelp("The model.json of koi fit.", valueName: "file"))
  var model: String?

  @Option(name: .long, help: ArgumentHelp("Directory for the results; created if missing.", valueName: "dir"))
  var out: String

  @OptionGroup var dueLists: DueListArguments
  @OptionGroup var fitting: ModelArguments
  @OptionGroup var threads: ThreadArguments
  @OptionGroup var report: ReportArguments

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if stats.isEmpty && outputs.isEmpty {
      throw ValidationError("give the shards' statistics (--stats FILE…) or their score outputs (--outputs DIR…).")
    }
    if !stats.isEmpty && !outputs.isEmpty {
      throw ValidationError("--stats and --outputs are two ways to merge; give one.")
    }
    if !outputs.isEmpty && model != nil {
      throw ValidationError("--outputs takes the model from the shards' outputs; leave --model out.")
    }
  }

  func run() throws {
    threads.apply()
    if !outputs.isEmpty {
      var options = ScoreOptions(inputPath: outputs.joined(separator: " "), outputDirectory: out)
      options.command = "merge"
      let reporter = ProgressReporter(quiet: quiet)
      do {
        try finish(
          ShardRun.mergeOutputs(outputs, options: options) { reporter($0) }, from: "\(outputs.count) shard outputs")
      } catch {
        throw KoiExit.map(error)
      }
      return
    }
    var options = ScoreOptions(inputPath: stats.joined(separator: " "), outputDirectory: out)
    options.inputs = stats
    options.command = "merge"
    options.modelPath = model
    try fitting.apply(to: &options)
    dueLists.apply(to: &options)
    let reporter = ProgressReporter(quiet: quiet)
    do {
      let result = try ShardRun.merge(statisticsAt: stats, options: options) { reporter($0) }
      try finish(result.manifest, from: "\(stats.count) shards", scoring: result)
    } catch {
      throw KoiExit.map(error)
    }
  }

  /// The summary line, the warnings and report.html of a merged run
  /// (from `scoring`'s columns when the run is in memory).
  private func finish(_ m: RunManifest, from source: String, scoring: ScoringResult? = nil) throws {
    print(
      "koi: \(m.customers) customers from \(m.rows.used) of \(m.rows.read) rows (\(m.rows.rejected) rejected) in \(source) as of \(m.asOf); results in \(out)"
    )
    printWarnings(m.warnings)
    try report.write(directory: out, scoring: scoring)
  }
}
