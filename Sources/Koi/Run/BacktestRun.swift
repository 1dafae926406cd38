import Foundation

/// Options of `koi backtest`.
public struct BacktestOptions: Sendable {
  /// The inputs as named: files, directories, globs, `-` (`InputList`).
  public var inputs: [String]
  /// The inputs as one string (backtest.json `input`).
  public var inputPath: String {
    get { inputs.joined(separator: " ") }
    set { inputs = [newValue] }
  }
  public var outputDirectory: String
  /// First day of the holdout.
  public var cutoffDay: Int32
  public var ingest = IngestOptions()
  public var intervals = IntervalOptions()
  public var lifetime = LifetimeOptions()

  public init(inputPath: String, outputDirectory: String, cutoffDay: Int32) {
    self.inputs = [inputPath]
    self.outputDirectory = outputDirectory
    self.cutoffDay = cutoffDay
  }
}

/// backtest.json: the holdout comparison of each model with its baseline.
public struct BacktestReport: Sendable, Codable {
  var koiVersion: String
  public var input: String
  public var sha256: String
  public var cutoff: String
  public var intervals: IntervalBacktestReport
  public var lifetime: LifetimeBacktestReport
}

/// `koi backtest`: fit before a cutoff, compare with what happened after,
/// for the repurchase-interval and lifetime models.
public enum BacktestRun {
  public struct Result: Sendable {
    public var report: BacktestReport
    /// A few lines for a person.
    public var summary: String
  }

  public static func run(
    _ options: BacktestOptions, progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> Result {
    try OutputDirectory.prepare(options.outputDirectory)
    progress(.stage("ingest"))
    let ingest = try TransactionReader.read(inputs: InputList.expand(options.inputs), options: options.ingest) {
      progress(.reading(bytesRead: $0, totalBytes: $1))
    }
    guard let first = ingest.ledger.day.min(), first < options.cutoffDay, ingest.asOfDay > options.cutoffDay else {
      throw IngestError(
        .noUsableRows,
        "the cutoff \(DayNumber.format(options.cutoffDay)) must fall inside the data (\(ingest.ledger.day.min().map(DayNumber.format) ?? "-") to \(DayNumber.format(ingest.asOfDay - 1))).",
        at: SourceLocation(path: options.inputPath))
    }
    progress(.stage("intervals backtest"))
    let intervals = IntervalBacktest.run(
      ledger: ingest.ledger, cutoffDay: options.cutoffDay, options: options.intervals)
    progress(.stage("lifetime backtest"))
    let lifetime = LifetimeBacktest.run(ledger: ingest.ledger, cutoffDay: options.cutoffDay, options: options.lifetime)
    let report = BacktestReport(
      koiVersion: Koi.version, input: options.inputPath, sha256: ingest.sha256,
      cutoff: DayNumber.format(options.cutoffDay), intervals: intervals, lifetime: lifetime)
    let path = URL(fileURLWithPath: options.outputDirectory).appendingPathComponent("backtest.json").path
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(report)) + [10], to: path)

    func f(_ x: Double?, _ d: Int = 3) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "-" }
    var lines = [
      "koi backtest: cutoff \(report.cutoff), \(intervals.evaluatedPairCount) (customer, treatment) pairs, \(intervals.returnedPairCount) came back",
      "repurchase intervals      Koi      baseline",
      "  next-date MAE (days)    \(f(intervals.model.nextPurchaseMeanAbsoluteErrorDays, 1))     \(f(intervals.baseline.nextPurchaseMeanAbsoluteErrorDays, 1))",
    ]
    for (m, b) in zip(intervals.model.horizons, intervals.baseline.horizons) {
      lines.append("  Brier \(m.days)d              \(f(m.brierScore))    \(f(b.brierScore))")
      lines.append("  log loss / AUC \(m.days)d     \(f(m.logLoss)) / \(f(m.auc))    \(f(b.logLoss)) / \(f(b.auc))")
    }
    lines.append(
      "lifetime: \(lifetime.customers) customers, \(lifetime.holdoutDays)-day holdout, \(Int(lifetime.actualPurchases)) actual purchase days; calibration chose \(lifetime.chosen)"
    )
    lines.append("  model              predicted   MAE/customer   RMSE")
    for m in lifetime.models {
      lines.append(
        "  \(m.model.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%9.0f", m.predictedPurchases))   \(f(m.meanAbsoluteError, 4))         \(f(m.rootMeanSquaredError, 4))"
      )
    }
    lines.append("results in \(path)")
    return Result(report: report, summary: lines.joined(separator: "\n"))
  }
}
