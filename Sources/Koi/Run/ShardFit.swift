import Foundation

/// `koi fit` on the statistics of many shards, holding per-customer
/// statistics and never every row: the shards are read one at a time, in
/// two passes, each shard's rows dropped before the next is read.
///
/// ```
/// pass 1, per shard:  customer table, lifetime summary, purchase
///                     histories, treatment price counts
/// driver:             gathered in single-run customer order ──► RFM,
///                     lifetime and interval models, treatment medians,
///                     the propensity sampling plan
/// pass 2, per shard:  tier features (given the medians), the sampled
///                     propensity rows (given the plan and the model)
/// driver:             gathered ──► tier k-means, propensity boosting
/// ```
///
/// Exactness: every per-customer value comes from that customer's rows
/// alone (with the shard's treatments, channels and stores renumbered to
/// the single run's), so it is the single run's; the gathered values are in
/// single-run order, and every population figure (medians, sample
/// thresholds, treatment aggregates) is computed from the gathered values.
/// model.json is byte-identical to `koi score`'s.
///
/// A pass's per-shard work is what an executor would do; here the driver
/// does it, shard by shard, so the driver's memory is the per-customer
/// statistics plus one shard's rows.
enum ShardFit {
  static func fit(
    statisticsAt paths: [String], options: ScoreOptions, progress: (ProgressEvent) -> Void
  ) throws -> (model: Model, warnings: [String]) {
    let layout = try ShardLayout(
      paths.map { try ShardStatistics.read(path: $0, rows: false) }, asOfDay: options.ingest.asOfDay)
    let asOf = layout.asOfDay
    let run = Set(options.stages)
    let requested = options.tiers.features
    // The treatments' median prices need a pass of their own only for the
    // premium share.
    let needsMedians = run.contains(.tiers) && requested.contains(.premiumShare)
    /// Shard `k`'s rows, renumbered to the single run's names.
    func rows(_ k: Int) throws -> Ledger {
      layout.globalized(try ShardStatistics.read(path: paths[k]).ledger, shard: k)
    }

    // Pass 1. Each shard's per-customer values go straight to their
    // single-run places; the histories (a variable number of pairs and
    // gaps a customer) are gathered once every shard's are in.
    let n = layout.order.count
    var table = CustomerTable(customers: n, asOfDay: asOf)
    var summary = run.contains(.lifetime) ? LifetimeSummary(customers: n) : nil
    var histories: [PurchaseHistories] = []
    var prices: TierPriceCounts?
    for k in paths.indices {
      progress(.shard(index: k + 1, count: paths.count, pass: 1))
      let ledger = try rows(k)
      let part = CustomerTable(ledger: ledger, asOfDay: asOf)
      summary?.place(LifetimeSummary(ledger: ledger, table: part), shard: k, order: layout.order)
      if run.contains(.intervals) { histories.append(PurchaseHistories(ledger: ledger, asOfDay: asOf)) }
      if needsMedians {
        let p = TierPriceCounts(ledger: ledger)
        if prices == nil { prices = p } else { prices!.merge(p) }
      }
      table.place(part, shard: k, order: layout.order)
    }
    var wholeHistories = histories.isEmpty ? nil : PurchaseHistories(gathering: histories, order: layout.order)
    histories = []

    var model = Model(koiVersion: Koi.version, asOf: DayNumber.format(asOf), categories: layout.categories.names)
    let context = StageContext(
      options: options, previousModel: try options.initModelPath.map { try Model.load(path: $0) })
    var warnings: [RunWarning] = []
    func put<S: Stage>(_: S.Type, _ section: () throws -> S.Section) {
      do { model[S.self] = try section() } catch {
        warnings.append(RunWarning("\(S.name) were not computed: \(error)"))
      }
    }

    // The driver's fits on pass 1, each stage's model saved in pipeline
    // order.
    let lifetime = summary.take().map {
      progress(.stage(StageName.lifetime.rawValue))
      let stage = LifetimeStage(options: options)
      return stage.section(of: stage.fit(LifetimeStatistics($0), context: context))
    }
    if run.contains(.rfm) {
      progress(.stage(StageName.rfm.rawValue))
      let stage = RFMStage(options: options)
      put(RFMStage.self) { stage.section(of: stage.fit(RFMStatistics(table: table), context: context)) }
    }
    let intervals = IntervalStage(options: options)
    var intervalModel: IntervalModel?
    var plan: RepurchasePropensity.Plan?
    if let wholeHistories {
      progress(.stage(StageName.intervals.rawValue))
      let m = IntervalStage.fit(
        histories: wholeHistories, categoryNames: layout.categories.names, options: intervals.options,
        covariates: IntervalCovariates.standard(table: table))
      if intervals.options.propensity { plan = RepurchasePropensity.plan(histories: wholeHistories, model: m) }
      intervalModel = m
    }
    let medians = prices?.medians() ?? []

    // Pass 2.
    var features = run.contains(.tiers) ? TierCustomerFeatures(customers: n) : nil
    var draws: [RepurchasePropensity.Draws] = []
    if features != nil || plan != nil {
      for k in paths.indices {
        progress(.shard(index: k + 1, count: paths.count, pass: 2))
        let ledger = try rows(k)
        features?.place(TierCustomerFeatures(ledger: ledger, medians: medians), shard: k, order: layout.order)
        if let plan, let intervalModel {
          // The shard's histories are built again rather than kept from
          // pass 1: keeping them would double the histories in memory
          // (every shard's beside the whole's), for O(rows) of integer work.
          draws.append(
            RepurchasePropensity.draw(
              ledger: ledger, histories: PurchaseHistories(ledger: ledger, asOfDay: asOf),
              globalCustomer: layout.order.positions[k], model: intervalModel, plan: plan))
        }
      }
    }

    // The driver's fits on pass 2: the propensity trees first, so that the
    // histories are gone before the tier clustering.
    var intervalSection: IntervalModel?
    if let wholeHistories = wholeHistories.take(), var m = intervalModel {
      var trained: RepurchasePropensity.Trained?
      if let plan {
        progress(.stage("propensity"))
        (trained, m.propensity) = RepurchasePropensity.train(
          plan: plan, draws: RepurchasePropensity.merge(draws), histories: wholeHistories, model: m)
      }
      intervalSection = intervals.section(of: IntervalFit(model: m, propensity: trained))
    }
    if let customers = features.take() {
      progress(.stage(StageName.tiers.rawValue))
      let featureTable = TierFeatureTable(
        customers: customers, table: table, columns: layout.columns, categories: layout.categories.names,
        medians: medians, requested: requested)
      put(TierStage.self) {
        try TierStage.fit(
          features: featureTable, customerCount: table.count, options: options.tiers,
          warmStart: context.previousModel?.tiers)
      }
    }
    if let intervalSection { put(IntervalStage.self) { intervalSection } }
    if let lifetime { put(LifetimeStage.self) { lifetime } }
    return (model, warnings.map { $0.text(for: options.frontend) })
  }
}

extension CustomerOrder {
  /// Puts shard `k`'s per-customer values `part` at their single-run
  /// places in `whole`.
  func place<T>(_ part: [T], shard k: Int, into whole: inout [T]) {
    // A shard with every customer has them in single-run order: no copy.
    if positions[k].count == count {
      whole = part
      return
    }
    for (i, c) in positions[k].enumerated() { whole[Int(c)] = part[i] }
  }
}

extension CustomerTable {
  /// A table of `count` customers, all zero, for shards' tables to be put
  /// in (`place`).
  init(customers count: Int, asOfDay: Int32) {
    self.asOfDay = asOfDay
    firstPurchaseDay = [Int32](repeating: 0, count: count)
    lastPurchaseDay = firstPurchaseDay
    purchaseDays = firstPurchaseDay
    purchaseCount = firstPurchaseDay
    netAmount = [Double](repeating: 0, count: count)
    grossAmount = netAmount
    refundAmount = netAmount
  }

  /// Puts the table of shard `k`'s customers at their single-run places.
  ///
  /// - Precondition: the same as-of day.
  mutating func place(_ part: CustomerTable, shard k: Int, order: CustomerOrder) {
    precondition(part.asOfDay == asOfDay, "tables of one as-of day")
    order.place(part.firstPurchaseDay, shard: k, into: &firstPurchaseDay)
    order.place(part.lastPurchaseDay, shard: k, into: &lastPurchaseDay)
    order.place(part.purchaseDays, shard: k, into: &purchaseDays)
    order.place(part.purchaseCount, shard: k, into: &purchaseCount)
    order.place(part.netAmount, shard: k, into: &netAmount)
    order.place(part.grossAmount, shard: k, into: &grossAmount)
    order.place(part.refundAmount, shard: k, into: &refundAmount)
  }
}

extension LifetimeSummary {
  /// A summary of `count` customers, all zero (in days, with log-interval
  /// sums, as `init(ledger:table:)` makes them), for shards' summaries to be
  /// put in (`place`).
  init(customers count: Int) {
    let zero = [Double](repeating: 0, count: count)
    self.init(
      frequency: [Int32](repeating: 0, count: count), recency: zero, age: zero, monetaryValue: zero,
      logIntervalSum: zero, daysPerUnit: 1)
  }

  /// Puts the summary of shard `k`'s customers at their single-run places.
  ///
  /// - Precondition: the same time unit, and log-interval sums in both.
  mutating func place(_ part: LifetimeSummary, shard k: Int, order: CustomerOrder) {
    precondition(part.daysPerUnit == daysPerUnit && part.logIntervalSum != nil, "summaries of init(ledger:table:)")
    order.place(part.frequency, shard: k, into: &frequency)
    order.place(part.recency, shard: k, into: &recency)
    order.place(part.age, shard: k, into: &age)
    order.place(part.monetaryValue, shard: k, into: &monetaryValue)
    order.place(part.logIntervalSum!, shard: k, into: &logIntervalSum!)
  }
}

extension PurchaseHistories {
  /// The histories of every shard's customers, in single-run order: each
  /// customer's pairs (in treatment order, the treatments numbered alike in
  /// every part) and their gaps, as one history of the whole input has them.
  ///
  /// - Precondition: at least one part; every part as of the same day.
  init(gathering parts: [PurchaseHistories], order: CustomerOrder) {
    precondition(Set(parts.map(\.asOfDay)).count == 1, "histories gather only as of one day")
    // A shard with every customer has them in single-run order: no copy.
    if let whole = parts.first(where: { $0.customerCount == order.count }) {
      self = whole
      return
    }
    asOfDay = parts[0].asOfDay
    let pairs = parts.reduce(0) { $0 + $1.pairCount }
    let gapCount = parts.reduce(0) { $0 + $1.gaps.count }
    pairStart = [0]
    pairStart.reserveCapacity(order.count + 1)
    pairCustomer = []
    pairCustomer.reserveCapacity(pairs)
    pairCategory = []
    pairCategory.reserveCapacity(pairs)
    firstDay = []
    firstDay.reserveCapacity(pairs)
    lastDay = []
    lastDay.reserveCapacity(pairs)
    occasions = []
    occasions.reserveCapacity(pairs)
    gapStart = [0]
    gapStart.reserveCapacity(pairs + 1)
    gaps = []
    gaps.reserveCapacity(gapCount)
    for c in order.indices {
      let part = parts[order.shard(c)]
      let range = part.pairs(of: order.index(c))
      pairStart.append(pairStart[c] + range.count)
      for _ in range { pairCustomer.append(Int32(c)) }
      pairCategory += part.pairCategory[range]
      firstDay += part.firstDay[range]
      lastDay += part.lastDay[range]
      occasions += part.occasions[range]
      for p in range {
        gaps += part.gaps[part.gapStart[p]..<part.gapStart[p + 1]]
        gapStart.append(gaps.count)
      }
    }
  }
}
