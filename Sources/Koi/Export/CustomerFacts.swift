/// Next-purchase facts of one customer for one treatment category (from the
/// repurchase-interval stage).
struct CategoryNextPurchase: Sendable, Equatable {
  public var category: String
  /// Days from the as-of date to the expected next purchase (`expected_next`,
  /// never negative). Nil when the stage has no estimate.
  var dueInDays: Double?
  /// Probability of a purchase in this category within the export horizon
  /// (`exports.due_within_days`), when the stage gives one.
  var probabilityWithinHorizon: Double?

  public init(category: String, dueInDays: Double?, probabilityWithinHorizon: Double?) {
    self.category = category
    self.dueInDays = dueInDays
    self.probabilityWithinHorizon = probabilityWithinHorizon
  }
}

/// Everything tag rules and campaign lists may look at for one customer.
///
/// Every field is optional: a stage that did not run leaves its fields nil,
/// and a rule that needs a nil fact does not fire (the run says so once).
public struct CustomerFacts: Sendable, Equatable {
  // RFM (present now)
  public var segment: RFMSegment?
  var rScore: Int?
  var fScore: Int?
  var mScore: Int?
  var monetary: Double?
  /// Share of customers with a strictly smaller net amount (0 … 1).
  var monetaryPercentile: Double?
  var averageOrderValue: Double?
  var recencyDays: Int?
  public var frequency: Int?
  /// Categories bought (names), and whether all of them are one-off by the
  /// configured category priors (nil without priors).
  public var categories: [String]?
  var oneOffOnly: Bool?
  // Price-sensitivity tiers
  var tierID: Int?
  var tierName: String?
  // Repurchase intervals
  var nextPurchases: [CategoryNextPurchase]?
  // Lifetime value
  var pAlive: Double?
  public var clv: Double?

  public init() {}
}

/// The next-purchase facts of every customer: one entry per treatment the
/// interval stage expects back (not lapsed, with an expected date), flat.
struct NextPurchaseColumns: Sendable {
  /// Treatment names, indexed by `category`.
  var names: [String]
  /// Per customer, the indices of its entries in the columns below.
  var entries: RaggedColumn<Int32>
  var category: [Int32]
  /// NaN for nil (`OptionalDoubleColumn`): 8 bytes an entry, not 16. The
  /// interval stage's entries are all finite (kept pairs have a defined
  /// curve); only lists given as values have nil.
  var dueInDays: OptionalDoubleColumn
  var probabilityWithinHorizon: OptionalDoubleColumn

  /// Lists as `CategoryNextPurchase` values, one per customer (tests,
  /// small tables).
  init(_ lists: [[CategoryNextPurchase]]) {
    var index: [String: Int32] = [:]
    var names: [String] = []
    let flat = lists.joined()
    category = flat.map { np in
      if let k = index[np.category] { return k }
      names.append(np.category)
      index[np.category] = Int32(names.count - 1)
      return Int32(names.count - 1)
    }
    self.names = names
    dueInDays = OptionalDoubleColumn(flat.map(\.dueInDays))
    probabilityWithinHorizon = OptionalDoubleColumn(flat.map(\.probabilityWithinHorizon))
    var first = 0
    entries = RaggedColumn(
      lists.map { list in
        defer { first += list.count }
        return (first..<(first + list.count)).map { Int32($0) }
      })
  }

  init(
    names: [String], entries: RaggedColumn<Int32>, category: [Int32], dueInDays: OptionalDoubleColumn,
    probabilityWithinHorizon: OptionalDoubleColumn
  ) {
    self.names = names
    self.entries = entries
    self.category = category
    self.dueInDays = dueInDays
    self.probabilityWithinHorizon = probabilityWithinHorizon
  }

  /// Customer `c`'s entries as values.
  subscript(c: Int) -> [CategoryNextPurchase] {
    entries[c].map {
      CategoryNextPurchase(
        category: names[Int(category[Int($0)])], dueInDays: dueInDays[Int($0)],
        probabilityWithinHorizon: probabilityWithinHorizon[Int($0)])
    }
  }
}

/// Per-customer facts as optional columns: the run fills the RFM columns,
/// and each later stage sets its own with one assignment. Lists (the
/// treatments bought, the next purchases) are flat columns, so the table
/// holds a few arrays whatever the number of customers.
///
/// ```swift
/// var facts = CustomerFactTable(ledger: ledger)
/// facts.add(rfm: rfmColumns)
/// facts.add(tiers: tierColumns)
/// facts.add(intervals: intervalColumns, model: intervalModel, horizonDays: 30, oneOff: [])
/// ```
public struct CustomerFactTable: Sendable {
  public let count: Int
  public var rfm: RFMColumns?
  var monetaryPercentile: [Double]?
  /// The treatments each customer bought, as indices into
  /// `categoryNames`, ascending.
  var categoryIndices: RaggedColumn<Int32>?
  var categoryNames: [String] = []
  var oneOffOnly: [Bool]?
  /// Tier (`PriceSensitivityTier` raw value), 0 for a customer without one.
  var tierID: [Int]?
  var nextPurchases: NextPurchaseColumns?
  var pAlive: [Double]?
  public var clv: [Double]?

  public init(count: Int) { self.count = count }

  /// The treatments each customer bought; `oneOff` names treatments known
  /// to be one-off (configured, or detected by the interval stage via
  /// `add(intervals:…)`).
  ///
  /// - Complexity: O(transactions).
  public init(ledger: Ledger, oneOff: Set<String> = []) {
    count = ledger.customerCount
    categoryNames = ledger.categories
    let (amount, category) = (ledger.amount, ledger.category)
    if categoryNames.count <= UInt64.bitWidth {
      // A bit per treatment, read out lowest first: the list comes out
      // ascending without a search or a sort per customer (those were
      // three quarters of this table's time at 10M rows).
      categoryIndices = RaggedColumn(count: count, rows: amount.count) { c, out in
        var bought: UInt64 = 0
        for r in ledger.rows(of: c) where isPurchase(amount[r]) { bought |= 1 &<< UInt64(category[r]) }
        while bought != 0 {
          out.append(Int32(bought.trailingZeroBitCount))
          bought &= bought &- 1
        }
      }
    } else {
      // Each treatment's last customer, per chunk, marks those already
      // listed: a search of the list for every row took 55 ms of one core
      // on Complete Journey (304 treatments, about 600 rows a household).
      categoryIndices =
        RaggedColumn.build(
          count: count, rows: amount.count, state: [Int](repeating: -1, count: categoryNames.count)
        ) { c, out, listedFor in
          let first = out.count
          for r in ledger.rows(of: c) where isPurchase(amount[r]) && listedFor[Int(category[r])] != c {
            listedFor[Int(category[r])] = c
            out.append(category[r])
          }
          out[first...].sort()
        }.column
    }
    if !oneOff.isEmpty { setOneOff(oneOff) }
  }

  /// The treatments customer `c` bought, by name.
  func categories(of c: Int) -> [String]? {
    categoryIndices.map { $0[c].map { categoryNames[Int($0)] } }
  }

  /// Adds the RFM facts; the monetary percentile is the share of customers
  /// strictly below, ties sharing a value: of the customers of `population`
  /// (a fitted model's, so that a shard's customers get the whole run's
  /// percentiles) when given, else of these customers.
  ///
  /// - Complexity: O(N log D) for D distinct amounts (plus O(N) to count
  ///   them without `population`).
  mutating func add(rfm: RFMColumns, population: MonetaryDistribution? = nil) {
    self.rfm = rfm
    let population = population ?? MonetaryDistribution(ValueCounts(rfm.monetary))
    monetaryPercentile = rfm.monetary.withUnsafeBufferPointer { m in
      Parallel.map(elements: m.count) { population.percentile(m[$0]) }
    }
  }

  /// Adds the lifetime facts (nil where the model gives no value).
  mutating func add(lifetime: LifetimeColumns) {
    pAlive = lifetime.probabilityAlive.nanForMissing
    clv = lifetime.clv.nanForMissing
  }

  private mutating func setOneOff(_ oneOff: Set<String>) {
    guard let categoryIndices else {
      oneOffOnly = nil
      return
    }
    let isOneOff = categoryNames.map(oneOff.contains)
    oneOffOnly = (0..<count).map { c in
      let list = categoryIndices[c]
      return !list.isEmpty && list.allSatisfy { isOneOff[Int($0)] }
    }
  }

  /// Adds the tier facts.
  mutating func add(tiers: TierColumns) {
    tierID = tiers.tier.map { $0?.rawValue ?? 0 }
  }

  /// Adds the next-purchase facts (probability within `horizonDays`) and
  /// marks the treatments the interval model found one-off.
  mutating func add(intervals: IntervalColumns, model: IntervalModel, horizonDays: Int, oneOff: Set<String>) {
    let customers = min(count, intervals.pairStart.count - 1)
    func probability(_ p: Int) -> Double? {
      switch horizonDays {  // the stored windows, else computed
      case 30: return intervals.probability30[p]
      case 60: return intervals.probability60[p]
      case 90: return intervals.probability90[p]
      default: return intervals.probability(pair: p, withinDays: horizonDays, model: model)
      }
    }
    // A lapsed pair is not expected back within the horizon: no due facts.
    let kept = (0..<intervals.category.count).filter {
      intervals.expectedNextDay[$0] != IntervalColumns.noDay && intervals.status[$0] != .lapsed
    }
    var entryOfPair = [Int32](repeating: -1, count: intervals.category.count)
    for (k, p) in kept.enumerated() { entryOfPair[p] = Int32(k) }
    nextPurchases = NextPurchaseColumns(
      names: model.categories.map(\.name),
      entries: RaggedColumn(count: count) { c, out in
        guard c < customers else { return }
        for p in intervals.pairs(of: c) where entryOfPair[p] >= 0 { out.append(entryOfPair[p]) }
      },
      category: kept.map { intervals.category[$0] },
      dueInDays: OptionalDoubleColumn(
        nanForMissing: kept.map { Double(intervals.expectedNextDay[$0] - intervals.asOfDay) }),
      probabilityWithinHorizon: OptionalDoubleColumn(kept.lazy.map(probability)))
    setOneOff(oneOff.union(model.categories.filter { $0.basis == .oneOff }.map(\.name)))
  }

  /// Customer `c`'s facts as one value (campaign lists).
  public subscript(c: Int) -> CustomerFacts {
    var f = CustomerFacts()
    if let rfm {
      f.segment = rfm.segment[c]
      f.rScore = Int(rfm.rScore[c]); f.fScore = Int(rfm.fScore[c]); f.mScore = Int(rfm.mScore[c])
      f.monetary = rfm.monetary[c]
      f.frequency = Int(rfm.frequency[c])
      f.recencyDays = Int(rfm.recencyDays[c])
      f.averageOrderValue = rfm.frequency[c] > 0 ? rfm.monetary[c] / Double(rfm.frequency[c]) : nil
    }
    f.monetaryPercentile = monetaryPercentile?[c]
    f.categories = categories(of: c)
    f.oneOffOnly = oneOffOnly?[c]
    f.tierID = tierID?[c]
    f.tierName = tierID.map { PriceSensitivityTier(rawValue: $0[c])?.id ?? "" }
    f.nextPurchases = nextPurchases?[c]
    // The columns keep NaN where the model gives no value; the value says nil.
    f.pAlive = pAlive.flatMap { $0[c].isNaN ? nil : $0[c] }
    f.clv = clv.flatMap { $0[c].isNaN ? nil : $0[c] }
    return f
  }
}
