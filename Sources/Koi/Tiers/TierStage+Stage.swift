/// The tiers as a run stage. Their statistics are the batch's rows: the
/// features compare each purchase with its category's median price over
/// every row. The fit warm-starts from the previous model's tiers when the
/// run has one (`--init-model`, a scheduled run's previous run).
extension TierStage: Stage {
  public static let name = StageName.tiers

  public init(options: ScoreOptions) { self.init(options.tiers) }

  public func statistics(of batch: StageBatch) -> StageBatch { batch }

  public func fit(_ statistics: StageBatch, context: StageContext) throws -> TierModel {
    try Self.fit(
      ledger: statistics.ledger, table: statistics.table, options: options,
      warmStart: context.previousModel?.tiers)
  }

  public func section(of fitted: TierModel) -> TierModel { fitted }

  public func score(
    _ batch: StageBatch, statistics: StageBatch, fitted: TierModel, upstream: StageOutputs
  ) -> TierColumns {
    Self.score(ledger: batch.ledger, table: batch.table, model: fitted)
  }

  public func recordFields(_ batch: StageBatch, fitted: TierModel, columns: TierColumns) -> any CustomerRecordFields {
    TierRecordFields(columns: columns)
  }

  /// With a previous model, also counts the customers whose tier under it
  /// differs from their tier now.
  public func report(
    _ batch: StageBatch, fitted m: TierModel, columns: TierColumns, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)? {
    var changed: Int?, compared: Int?
    if let old = context.previousModel?.tiers {
      // The previous model's tiers of these customers, with this run's
      // population figures, as before they were saved.
      let before = Self.score(ledger: batch.ledger, table: batch.table, model: old, population: nil)
      let both = zip(before.tier, columns.tier).filter { $0.0 != nil && $0.1 != nil }
      compared = both.count
      changed = both.filter { $0.0 != $0.1 }.count
    }
    return Self.report(
      m, scoringNotes: columns.notes, changed: changed, compared: compared,
      profiles: ProfilePartial(table: batch.table, columns: columns))
  }

  /// The tier section of segments.json from the model, the scoring notes
  /// and the profiles' partial (merged over shards by `koi merge --outputs`).
  static func report(
    _ m: TierModel, scoringNotes: [String], changed: Int?, compared: Int?, profiles: ProfilePartial
  ) -> TierReport {
    TierReport(
      k: m.k, inertia: rounded(m.inertia, 4), iterations: m.iterations, converged: m.converged,
      warmStarted: m.warmStarted, changedSinceInitModel: changed, comparedWithInitModel: compared,
      features: m.features.map(\.rawValue), droppedFeatures: m.droppedFeatures, notes: m.notes + scoringNotes,
      tiers: Self.profiles(profiles, model: m))
  }

  public func warnings(fitted: TierModel, columns: TierColumns, context: StageContext) -> [RunWarning] {
    var w: [RunWarning] = []
    if let previous = context.previousModel, previous.tiers == nil {
      w.append(RunWarning("the init model has no tiers; tiers were fitted from scratch."))
    }
    for d in fitted.droppedFeatures { w.append(RunWarning("tier feature \(d.feature.rawValue) dropped: \(d.reason)")) }
    return w
  }

  public func contribute(
    _ columns: TierColumns, fitted: TierModel, to facts: inout CustomerFactTable, context: StageContext
  ) {
    facts.add(tiers: columns)
  }
}

extension TierModel: StageSection {}
extension TierReport: StageReportSection {}

extension Model {
  /// The tier section, when the stage ran.
  public var tiers: TierModel? {
    get { self[TierStage.self] }
    set { self[TierStage.self] = newValue }
  }
}

extension ScoringResult {
  /// The tier columns, when the stage ran.
  public var tiers: TierColumns? { outputs[TierStage.self] }
}
