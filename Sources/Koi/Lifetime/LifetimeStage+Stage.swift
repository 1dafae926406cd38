/// Lifetime value as a run stage. Statistics are the per-customer summary
/// (x, t_x, T, spend, Σ ln τ) with its compression into distinct (x, t_x, T)
/// rows; the report totals CLV per RFM segment when RFM ran.
extension LifetimeStage: Stage {
  public static let name = StageName.lifetime
  public static let reads = [StageName.rfm]

  public init(options: ScoreOptions) { self.init(options.lifetime) }

  public func statistics(of batch: StageBatch) -> LifetimeStatistics {
    LifetimeStatistics(LifetimeSummary(ledger: batch.ledger, table: batch.table))
  }

  public func fit(_ statistics: LifetimeStatistics, context: StageContext) -> LifetimeModel {
    Self.fit(statistics.summary, rows: statistics.rows, options: options)
  }

  public func section(of fitted: LifetimeModel) -> LifetimeModel { fitted }

  public func score(
    _ batch: StageBatch, statistics: LifetimeStatistics, fitted: LifetimeModel, upstream: StageOutputs
  ) -> LifetimeColumns {
    Self.score(statistics.summary, rows: statistics.rows, model: fitted, options: options)
  }

  public func recordFields(_ batch: StageBatch, fitted: LifetimeModel, columns: LifetimeColumns)
    -> any CustomerRecordFields
  {
    LifetimeRecordFields(columns: columns)
  }

  public func report(
    _ batch: StageBatch, fitted: LifetimeModel, columns: LifetimeColumns, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)? {
    LifetimeReport(model: fitted, columns: columns, options: options, segments: upstream[RFMStage.self]?.segment)
  }

  public func warnings(fitted: LifetimeModel, columns: LifetimeColumns, context: StageContext) -> [RunWarning] {
    fitted.diagnostics.map { RunWarning("lifetime: \($0)") }
  }

  public func contribute(
    _ columns: LifetimeColumns, fitted: LifetimeModel, to facts: inout CustomerFactTable, context: StageContext
  ) {
    facts.add(lifetime: columns)
  }
}

/// What the lifetime fit needs of a batch of customers: their summaries,
/// and the summaries grouped into distinct (x, t_x, T) rows with counts.
public struct LifetimeStatistics: StageStatistics {
  public private(set) var summary: LifetimeSummary
  var rows: CompressedRecency

  public init(_ summary: LifetimeSummary) {
    self.summary = summary
    rows = CompressedRecency(summary)
  }

  /// - Precondition: the same time unit.
  public mutating func merge(_ later: LifetimeStatistics) {
    summary.append(later.summary)
    rows = CompressedRecency(summary)
  }
}

extension LifetimeSummary {
  /// Appends the customers of `later`.
  ///
  /// - Precondition: the same time unit, and log-interval sums in both or
  ///   in neither.
  public mutating func append(_ later: LifetimeSummary) {
    precondition(daysPerUnit == later.daysPerUnit, "summaries merge only in the same time unit")
    precondition((logIntervalSum == nil) == (later.logIntervalSum == nil), "log-interval sums in both or neither")
    frequency += later.frequency
    recency += later.recency
    age += later.age
    monetaryValue += later.monetaryValue
    if let l = later.logIntervalSum { logIntervalSum? += l }
  }
}

extension LifetimeModel: StageSection {}
extension LifetimeReport: StageReportSection {}

extension Model {
  /// The lifetime section, when the stage ran.
  public var lifetime: LifetimeModel? {
    get { self[LifetimeStage.self] }
    set { self[LifetimeStage.self] = newValue }
  }
}

extension ScoringResult {
  /// The lifetime columns, when the stage ran.
  public var lifetime: LifetimeColumns? { outputs[LifetimeStage.self] }
}
