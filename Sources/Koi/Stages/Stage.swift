/// One stage of a scoring run: RFM, tiers, intervals, lifetime, or a stage
/// added later. Every stage has the same steps, and `ScoringRun` only
/// ever calls these:
///
/// ```
/// statistics(of: batch) ──merge──► fit ──► section (model.json)
///                                    │
///            batch, fitted, upstream ▼
///                                  score ──► recordFields (customers.jsonl)
///                                        ──► report        (segments.json)
///                                        ──► warnings      (run.json)
///                                        ──► contribute    (facts for tags, campaign lists)
///                                        ──► writeFiles    (e.g. due.json)
/// ```
///
/// - `statistics(of:)` summarises one batch of customers (every row of each
///   of its customers); `StageStatistics.merge` combines the statistics of
///   customer-disjoint batches exactly, so a fit on merged statistics equals
///   the fit on the whole. One machine runs one batch.
/// - `fit` turns statistics into the stage's model; `section` is the part of
///   it saved in model.json under the stage's name.
/// - `score` computes the stage's per-customer columns for a batch; it may
///   read the columns of the stages it declares in `reads` when they ran.
///
/// To add a stage: make a folder with a type conforming to `Stage` (its
/// statistics, model section, columns, record fields and report section
/// beside it), and add it to `StageRegistry.standard` (one line). Nothing
/// else in the run changes: model.json, segments.json, customers.jsonl,
/// run.json and the progress lines pick it up by its name.
public protocol Stage: Sendable {
  /// What `fit` needs of a batch of customers.
  associatedtype Statistics: StageStatistics
  /// Everything `fit` learned, including what only this run's scoring uses
  /// (not saved).
  associatedtype Fitted: Sendable
  /// The part of `Fitted` saved in model.json.
  associatedtype Section: StageSection
  /// Per-customer results.
  associatedtype Columns: Sendable

  /// The stage's name: its key in model.json and segments.json, its entry in
  /// `--stages` and `[stages] run`, its line in run.json `seconds`.
  static var name: StageName { get }
  /// Stages whose columns `score`, `report` or `contribute` read when they
  /// ran in the same run (earlier in `StageRegistry.standard`). A stage
  /// works without them and says what it left out.
  static var reads: [StageName] { get }
  /// Files the stage writes besides the shared ones; a run without the
  /// stage removes them from the output directory (they would be stale).
  static var files: [String] { get }

  /// The stage configured for a run.
  init(options: ScoreOptions)

  /// The statistics of one batch of customers.
  func statistics(of batch: StageBatch) -> Statistics
  /// Fits the stage on the (merged) statistics.
  ///
  /// - Throws: when the stage cannot be fitted; the run goes on without the
  ///   stage and says why in run.json `warnings`.
  func fit(_ statistics: Statistics, context: StageContext) throws -> Fitted
  /// What model.json keeps of `fitted`.
  func section(of fitted: Fitted) -> Section
  /// The fitted stage a saved section stands for (`koi score --model`,
  /// `koi merge`): scoring with it gives what scoring with the `fitted`
  /// that `section(of:)` saved gives.
  func fitted(from section: Section) -> Fitted
  /// The per-customer results for the customers of `batch`, whose
  /// statistics are `statistics`.
  func score(_ batch: StageBatch, statistics: Statistics, fitted: Fitted, upstream: StageOutputs) -> Columns
  /// This stage's keys in each customers.jsonl record.
  func recordFields(_ batch: StageBatch, fitted: Fitted, columns: Columns) -> any CustomerRecordFields
  /// This stage's section of segments.json, or nil for none.
  func report(
    _ batch: StageBatch, fitted: Fitted, columns: Columns, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)?
  /// What the operator should know, as values; the front end words the
  /// settings they name (`--prior` or `[category_priors]`).
  func warnings(fitted: Fitted, columns: Columns, context: StageContext) -> [RunWarning]
  /// Adds this stage's facts for tag rules and campaign lists.
  func contribute(_ columns: Columns, fitted: Fitted, to facts: inout CustomerFactTable, context: StageContext)
  /// Writes the stage's `files` into `directory`; returns those written.
  func writeFiles(
    _ batch: StageBatch, fitted: Fitted, columns: Columns, to directory: String, context: StageContext
  ) throws -> [String]
}

extension Stage where Section == Fitted {
  public func fitted(from section: Section) -> Fitted { section }
}

extension Stage {
  public static var reads: [StageName] { [] }
  public static var files: [String] { [] }
  public func warnings(fitted: Fitted, columns: Columns, context: StageContext) -> [RunWarning] { [] }
  public func contribute(_ columns: Columns, fitted: Fitted, to facts: inout CustomerFactTable, context: StageContext) {
  }
  public func writeFiles(
    _ batch: StageBatch, fitted: Fitted, columns: Columns, to directory: String, context: StageContext
  ) throws -> [String] { [] }
}

/// Statistics of a batch of customers that combine exactly: merging the
/// statistics of customer-disjoint batches, in customer order, gives the
/// statistics of all their customers, whatever the batch boundaries.
public protocol StageStatistics: Sendable {
  /// Adds the statistics of a later batch (its customers follow this one's).
  mutating func merge(_ later: Self)
}

/// A stage's part of model.json: saved by the run, read back by
/// `Model.load` (`--init-model`, scheduled runs' warm starts).
public protocol StageSection: Codable, Sendable {}

/// A stage's part of segments.json.
public protocol StageReportSection: Encodable, Sendable {}

/// A stage's name. The four standard stages have constants; a new stage
/// makes its own.
public struct StageName: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }

  public static let rfm = StageName("rfm")
  public static let tiers = StageName("tiers")
  public static let intervals = StageName("intervals")
  public static let lifetime = StageName("lifetime")

  /// The standard stages in pipeline order.
  public static var allCases: [StageName] { StageRegistry.standardNames }

  public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(rawValue)
  }
}

/// The customers a stage works on: a ledger and its per-customer aggregates
/// as of one day. One machine has one batch, every customer of the input.
public struct StageBatch: Sendable {
  public var ledger: Ledger
  public var table: CustomerTable

  public init(ledger: Ledger, table: CustomerTable) {
    precondition(ledger.customerCount == table.count, "one table row per ledger customer")
    self.ledger = ledger
    self.table = table
  }
}

/// What every stage of a run may look at besides its own inputs.
public struct StageContext: Sendable {
  /// The run's options.
  public var options: ScoreOptions
  /// The model a warm start continues from (`--init-model`, or a scheduled
  /// run's previous model), when there is one.
  var previousModel: Model?
  /// The saved model the run scores with instead of fitting
  /// (`koi score --model`, `koi merge`), when there is one.
  var scoringModel: Model?

  public init(options: ScoreOptions, previousModel: Model? = nil, scoringModel: Model? = nil) {
    self.options = options
    self.previousModel = previousModel
    self.scoringModel = scoringModel
  }
}

/// The columns of the stages that have run so far, by stage.
public struct StageOutputs: Sendable {
  var columns: [StageName: any Sendable] = [:]

  public init() {}

  /// The columns of stage `S`, or nil when it did not run (or failed).
  public subscript<S: Stage>(_ stage: S.Type) -> S.Columns? {
    get { columns[S.name] as? S.Columns }
    set { columns[S.name] = newValue }
  }

  subscript(name: StageName) -> (any Sendable)? {
    get { columns[name] }
    set { columns[name] = newValue }
  }
}
