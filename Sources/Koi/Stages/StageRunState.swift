/// What the stages of one run have produced so far: the loop in
/// `ScoringRun` hands each stage to `run`, which takes it through its steps
/// and files its results here.
struct StageRunState {
  /// The run's one batch; `releaseLedgerColumns` empties columns no later
  /// step reads.
  private(set) var batch: StageBatch
  var model: Model
  var report: SegmentsReport
  let context: StageContext
  var outputs = StageOutputs()
  var fields: [any CustomerRecordFields] = []
  var warnings: [RunWarning] = []
  /// Writers of the stages' own files, in stage order; the run calls them
  /// after the shared files (`writeFiles`).
  /// Each stage's facts for tags and campaign lists, added in stage order
  /// by `contribute(to:)` (in the tags step, which uses them).
  private var contributions: [(inout CustomerFactTable) -> Void] = []
  /// They are given the batch when called rather than keeping the one of
  /// their stage's time, which would keep released ledger columns alive.
  private var fileWriters: [(StageBatch, String) throws -> [String]] = []

  init(
    batch: StageBatch, model: Model, report: SegmentsReport, context: StageContext
  ) {
    self.batch = batch
    self.model = model
    self.report = report
    self.context = context
  }

  /// Runs stage `S` on the run's one batch. A stage whose fit throws is left
  /// out with a warning; the stages after it run without its columns.
  ///
  mutating func run<S: Stage>(_ type: S.Type) {
    let stage = S(options: context.options)
    let statistics = stage.statistics(of: batch)
    let fitted: S.Fitted
    if let saved = context.scoringModel {
      // Scoring with a saved model (`koi score --model`): no fit.
      guard let section = saved[S.self] else {
        warnings.append(RunWarning("\(S.name) were not computed: the model has no \(S.name) section."))
        return
      }
      fitted = stage.fitted(from: section)
    } else {
      do {
        fitted = try stage.fit(statistics, context: context)
      } catch {
        warnings.append(RunWarning("\(S.name) were not computed: \(error)"))
        return
      }
    }
    let columns = stage.score(batch, statistics: statistics, fitted: fitted, upstream: outputs)
    model[S.self] = stage.section(of: fitted)
    if let section = stage.report(batch, fitted: fitted, columns: columns, upstream: outputs, context: context) {
      report[S.name] = section
    }
    fields.append(stage.recordFields(batch, fitted: fitted, columns: columns))
    warnings += stage.warnings(fitted: fitted, columns: columns, context: context)
    contributions.append { [context] facts in stage.contribute(columns, fitted: fitted, to: &facts, context: context) }
    fileWriters.append { [context] batch, directory in
      try stage.writeFiles(batch, fitted: fitted, columns: columns, to: directory, context: context)
    }
    outputs[S.self] = columns
  }

  /// Adds every stage's facts to `facts`.
  func contribute(to facts: inout CustomerFactTable) {
    for c in contributions { c(&facts) }
  }

  /// Writes every stage's own files into `directory`; returns their names.
  func writeFiles(to directory: String) throws -> [String] {
    try fileWriters.flatMap { try $0(batch, directory) }
  }

  /// Empties the batch ledger's columns that `release` empties (see
  /// `Ledger.releaseColumns`); the caller releases its own copy too, or
  /// the memory stays in use.
  mutating func releaseLedgerColumns(_ release: (inout Ledger) -> Void) {
    release(&batch.ledger)
  }
}
