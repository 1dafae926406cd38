/// RFM as a run stage: statistics are value counts, the model is the cut
/// points, columns are scores and segments.
extension RFMStage: Stage {
  public static let name = StageName.rfm

  public init(options: ScoreOptions) { self.init(options.rfm) }

  public func statistics(of batch: StageBatch) -> RFMStatistics { RFMStatistics(table: batch.table) }

  public func fit(_ statistics: RFMStatistics, context: StageContext) -> RFMModel {
    Self.fit(statistics, bins: options.bins)
  }

  public func section(of fitted: RFMModel) -> RFMModel { fitted }

  public func score(
    _ batch: StageBatch, statistics: RFMStatistics, fitted: RFMModel, upstream: StageOutputs
  ) -> RFMColumns {
    Self.score(batch.table, model: fitted)
  }

  public func recordFields(_ batch: StageBatch, fitted: RFMModel, columns: RFMColumns) -> any CustomerRecordFields {
    RFMRecordFields(table: batch.table, columns: columns)
  }

  public func report(
    _ batch: StageBatch, fitted: RFMModel, columns: RFMColumns, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)? {
    RFMReport(columns: columns, bins: fitted.bins)
  }

  public func contribute(
    _ columns: RFMColumns, fitted: RFMModel, to facts: inout CustomerFactTable, context: StageContext
  ) {
    facts.add(rfm: columns, population: fitted.monetaryDistribution)
  }
}

extension RFMModel: StageSection {}
extension RFMReport: StageReportSection {}

extension Model {
  /// The RFM section, when the stage ran.
  public var rfm: RFMModel? {
    get { self[RFMStage.self] }
    set { self[RFMStage.self] = newValue }
  }
}

extension ScoringResult {
  /// The RFM columns, when the stage ran.
  public var rfm: RFMColumns? { outputs[RFMStage.self] }
}
