import Synchronization

/// The tiers as a run stage. Their statistics are the batch's rows: the
/// features compare each purchase with its category's median price over
/// every row. The fit warm-starts from the previous model's tiers when the
/// run has one (`--init-model`, a scheduled run's previous run).
extension TierStage: Stage {
  public static let name = StageName.tiers

  public init(options: ScoreOptions) { self.init(options.tiers) }

  public func statistics(of batch: StageBatch) -> StageBatch { batch }

  public func fit(_ statistics: StageBatch, context: StageContext) throws -> TierFit {
    let (model, features) = try Self.fitWithFeatures(
      ledger: statistics.ledger, table: statistics.table, options: options, warmStart: context.previousModel?.tiers)
    return TierFit(model: model, features: TierFeatureHandoff(features))
  }

  public func section(of fitted: TierFit) -> TierModel { fitted.model }

  public func fitted(from section: TierModel) -> TierFit { TierFit(model: section, features: nil) }

  /// With the fit's features when this run fitted the model on this batch.
  public func score(
    _ batch: StageBatch, statistics: StageBatch, fitted: TierFit, upstream: StageOutputs
  ) -> TierColumns {
    Self.score(
      ledger: batch.ledger, table: batch.table, model: fitted.model, population: fitted.model.population,
      features: fitted.features?.take())
  }

  public func recordFields(_ batch: StageBatch, fitted: TierFit, columns: TierColumns) -> any CustomerRecordFields {
    TierRecordFields(columns: columns)
  }

  /// With a previous model, also counts the customers whose tier under it
  /// differs from their tier now.
  public func report(
    _ batch: StageBatch, fitted: TierFit, columns: TierColumns, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)? {
    let m = fitted.model
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

  public func warnings(fitted: TierFit, columns: TierColumns, context: StageContext) -> [RunWarning] {
    var w: [RunWarning] = []
    if let previous = context.previousModel, previous.tiers == nil {
      w.append(RunWarning("the init model has no tiers; tiers were fitted from scratch."))
    }
    for d in fitted.model.droppedFeatures {
      w.append(RunWarning("tier feature \(d.feature.rawValue) dropped: \(d.reason)"))
    }
    return w
  }

  public func contribute(
    _ columns: TierColumns, fitted: TierFit, to facts: inout CustomerFactTable, context: StageContext
  ) {
    facts.add(tiers: columns)
  }
}

/// The tier stage's fit: the model, and the features of the batch it was
/// fitted on, which scoring that batch takes instead of computing them a
/// second time (a pass over every row, 0.07 s of a 10M-row run's tier step).
public struct TierFit: Sendable {
  public var model: TierModel
  /// The fitting batch's features until `score` takes them; nil for a
  /// saved model (`fitted(from:)`), which scoring computes them for.
  let features: TierFeatureHandoff?
}

/// A feature table handed from the fit to the scoring of the same batch,
/// once: taking it empties the box, so the table (about 70 MB at 10M rows)
/// is not kept to the end of the run with the fit, which the stage's file
/// writers and facts hold.
final class TierFeatureHandoff: Sendable {
  private let table: Mutex<TierFeatureTable?>

  init(_ table: TierFeatureTable) { self.table = Mutex(table) }

  /// The table, the first time; nil after.
  func take() -> TierFeatureTable? {
    table.withLock { table in
      defer { table = nil }
      return table
    }
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
