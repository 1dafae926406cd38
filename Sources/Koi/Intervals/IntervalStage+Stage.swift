/// The repurchase intervals as a run stage. Statistics are the batch's rows
/// and purchase histories (the propensity model learns from the rows at
/// rolling origins); the fit is the interval model plus the propensity
/// trees; the columns are every (customer, treatment) pair's predictions
/// and the due lists, which also go to due.json.
extension IntervalStage: Stage {
  public static let name = StageName.intervals
  public static let files = ["due.json"]

  public init(options: ScoreOptions) {
    self.init(
      options.intervals,
      due: DueListOptions(
        withinDays: options.dueWithinDays, minimumProbability: options.dueMinimumProbability,
        limit: options.dueLimit))
  }

  public func statistics(of batch: StageBatch) -> IntervalStatistics {
    IntervalStatistics(batch: batch, histories: PurchaseHistories(ledger: batch.ledger, asOfDay: batch.table.asOfDay))
  }

  public func fit(_ statistics: IntervalStatistics, context: StageContext) -> IntervalFit { fit(statistics) }

  /// The model with the propensity trees, which scoring needs.
  public func section(of fitted: IntervalFit) -> IntervalModel {
    var m = fitted.model
    m.propensityTrees = fitted.propensity
    return m
  }

  public func fitted(from section: IntervalModel) -> IntervalFit {
    var m = section
    m.propensityTrees = nil
    return IntervalFit(model: m, propensity: section.propensityTrees)
  }

  public func score(
    _ batch: StageBatch, statistics: IntervalStatistics, fitted: IntervalFit, upstream: StageOutputs
  ) -> IntervalScores {
    let columns = columns(statistics, fitted: fitted)
    // One list per category, each a scan of every pair and a sort: on
    // every core (each list is computed as alone).
    let lists = Parallel.map(fitted.model.categories.count) {
      IntervalDueList.make(
        columns: columns, model: fitted.model, category: $0, dueWithinDays: due.withinDays,
        minimumProbability: due.minimumProbability, limit: due.limit)
    }
    return IntervalScores(columns: columns, dueLists: lists)
  }

  public func recordFields(_ batch: StageBatch, fitted: IntervalFit, columns: IntervalScores)
    -> any CustomerRecordFields
  {
    IntervalRecordFields(model: fitted.model, columns: columns.columns)
  }

  public func report(
    _ batch: StageBatch, fitted: IntervalFit, columns: IntervalScores, upstream: StageOutputs, context: StageContext
  ) -> (any StageReportSection)? {
    IntervalReport(
      model: fitted.model, columns: columns.columns, dueLists: columns.dueLists, dueWithinDays: due.withinDays)
  }

  public func warnings(fitted: IntervalFit, columns: IntervalScores, context: StageContext) -> [RunWarning] {
    fitted.model.categories.filter { $0.basis == .insufficientData }.map { c in
      let name = UserText.excerpt(c.name)
      return RunWarning(
        "treatment '\(name)' has \(c.gapCount) repeat gaps, too few to fit (\(options.minimumGapsForFit) needed), no prior, and the rare treatments together have too few to pool: its customers get status unknown.",
        "If it repeats, give its typical cycle with", setting: Settings.priorDays, value: "'\(name)=DAYS'",
        entry: "[category_priors] \"\(name)\" = DAYS")
    }
  }

  public func contribute(
    _ columns: IntervalScores, fitted: IntervalFit, to facts: inout CustomerFactTable, context: StageContext
  ) {
    facts.add(
      intervals: columns.columns, model: fitted.model, horizonDays: due.withinDays,
      oneOff: context.options.oneOffCategories)
  }

  public func writeFiles(
    _ batch: StageBatch, fitted: IntervalFit, columns: IntervalScores, to directory: String, context: StageContext
  ) throws -> [String] {
    try DueListWriter.write(
      to: directory + "/due.json", lists: columns.dueLists, model: fitted.model, columns: columns.columns,
      customerIDs: batch.ledger.customerIDs, dueWithinDays: due.withinDays,
      minimumProbability: due.minimumProbability, limit: due.limit)
    return ["due.json"]
  }
}

/// The due lists' window, floor and cap.
public struct DueListOptions: Sendable, Equatable {
  /// Window of the due lists, days.
  var withinDays = Settings.dueWithin.defaultValue
  /// Customers below this probability of buying within the window are left
  /// off the lists.
  var minimumProbability = Settings.dueMinimumProbability.defaultValue
  /// At most this many customers per category (nil: no cap).
  public var limit: Int?

  public init(
    withinDays: Int = Settings.dueWithin.defaultValue,
    minimumProbability: Double = Settings.dueMinimumProbability.defaultValue, limit: Int? = nil
  ) {
    self.withinDays = withinDays
    self.minimumProbability = minimumProbability
    self.limit = limit
  }
}

/// What the interval fit needs of a batch of customers: its rows and its
/// purchase histories as of the batch's as-of day.
public struct IntervalStatistics: StageStatistics {
  public var batch: StageBatch
  var histories: PurchaseHistories

  public mutating func merge(_ later: IntervalStatistics) {
    batch.merge(later.batch)
    histories.append(later.histories)
  }
}

/// The interval model and what scoring needs besides it: the propensity
/// trees (saved in model.json as `intervals.propensity_trees`).
public struct IntervalFit: Sendable {
  public var model: IntervalModel
  var propensity: RepurchasePropensity.Trained?
}

/// The interval stage's columns: every pair's predictions and, per
/// category, the due list.
public struct IntervalScores: Sendable {
  public var columns: IntervalColumns
  var dueLists: [[IntervalDueEntry]]
}

extension PurchaseHistories {
  /// Appends the pairs of `later`'s customers, which follow this one's.
  ///
  /// - Precondition: the same as-of day.
  public mutating func append(_ later: PurchaseHistories) {
    precondition(asOfDay == later.asOfDay, "histories merge only as of the same day")
    let customerOffset = Int32(customerCount)
    let pairOffset = pairCount
    let gapOffset = gaps.count
    pairStart += later.pairStart.dropFirst().map { $0 + pairOffset }
    pairCustomer += later.pairCustomer.map { $0 + customerOffset }
    pairCategory += later.pairCategory
    firstDay += later.firstDay
    lastDay += later.lastDay
    occasions += later.occasions
    gapStart += later.gapStart.dropFirst().map { $0 + gapOffset }
    gaps += later.gaps
  }
}

extension IntervalModel: StageSection {}
extension IntervalReport: StageReportSection {}

extension Model {
  /// The interval section, when the stage ran.
  public var intervals: IntervalModel? {
    get { self[IntervalStage.self] }
    set { self[IntervalStage.self] = newValue }
  }
}

extension ScoringResult {
  /// The interval columns, when the stage ran.
  public var intervals: IntervalColumns? { outputs[IntervalStage.self]?.columns }
}
