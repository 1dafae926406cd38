/// The fit half of a run, for `koi fit`: every stage's fit on the whole
/// batch, no scores and no files.
extension ScoringRun {
  /// The model a `koi score` of `ingest` would write, and the fit warnings
  /// (stages that could not be fitted).
  static func fitOnly(
    _ options: ScoreOptions, ingest: IngestResult, stages: [any Stage.Type],
    progress: (ProgressEvent) -> Void = { _ in }
  ) throws -> (model: Model, warnings: [String]) {
    let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
    let batch = StageBatch(ledger: ingest.ledger, table: table)
    var model = Model(
      koiVersion: Koi.version, asOf: DayNumber.format(ingest.asOfDay), categories: ingest.ledger.categories)
    let context = StageContext(
      options: options, previousModel: try options.initModelPath.map { try Model.load(path: $0) })
    var warnings: [RunWarning] = []
    for stage in stages where options.stages.contains(stage.name) {
      progress(.stage(stage.name.rawValue))
      fit(stage, batch: batch, context: context, model: &model, warnings: &warnings)
    }
    return (model, warnings.map { $0.text(for: options.frontend) })
  }

  private static func fit<S: Stage>(
    _ type: S.Type, batch: StageBatch, context: StageContext, model: inout Model, warnings: inout [RunWarning]
  ) {
    let stage = S(options: context.options)
    do {
      model[S.self] = stage.section(of: try stage.fit(stage.statistics(of: batch), context: context))
    } catch {
      warnings.append(RunWarning("\(S.name) were not computed: \(error)"))
    }
  }
}
