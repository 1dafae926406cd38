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

/// Per-customer facts as optional columns: the run fills the RFM columns,
/// and each later stage sets its own with one assignment.
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
  public var categories: [[String]]?
  var oneOffOnly: [Bool]?
  var tierID: [Int]?
  var tierName: [String]?
  var nextPurchases: [[CategoryNextPurchase]]?
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
    var cats = [[String]](repeating: [], count: count)
    cats.withUnsafeMutableBufferPointer { out in
      Parallel.forEachChunk(count: count, chunkCount: Parallel.chunkCount(for: count)) { _, range in
        var seen: [Int32] = []
        for c in range {
          seen.removeAll(keepingCapacity: true)
          for r in ledger.rows(of: c) where isPurchase(ledger.amount[r]) && !seen.contains(ledger.category[r]) {
            seen.append(ledger.category[r])
          }
          out[c] = seen.sorted().map { ledger.categories[Int($0)] }
        }
      }
    }
    categories = cats
    if !oneOff.isEmpty { setOneOff(oneOff) }
  }

  /// Adds the RFM facts; the monetary percentile is the share of customers
  /// strictly below, ties sharing a value: of the customers of `population`
  /// (a fitted model's, so that a shard's customers get the whole run's
  /// percentiles) when given, else of these customers.
  ///
  /// - Complexity: O(N log N).
  mutating func add(rfm: RFMColumns, population: MonetaryDistribution? = nil) {
    self.rfm = rfm
    if let population {
      monetaryPercentile = rfm.monetary.map(population.percentile)
      return
    }
    let order = (0..<count).sorted { rfm.monetary[$0] < rfm.monetary[$1] }
    var p = [Double](repeating: 0, count: count)
    var i = 0
    while i < order.count {
      var j = i
      while j < order.count && rfm.monetary[order[j]] == rfm.monetary[order[i]] { j += 1 }
      for k in i..<j { p[order[k]] = Double(i) / Double(count) }
      i = j
    }
    monetaryPercentile = p
  }

  /// Adds the lifetime facts (nil where the model gives no value).
  mutating func add(lifetime: LifetimeColumns) {
    pAlive = lifetime.probabilityAlive.map { $0 ?? .nan }
    clv = lifetime.clv.map { $0 ?? .nan }
  }

  private mutating func setOneOff(_ oneOff: Set<String>) {
    oneOffOnly = categories?.map { list in !list.isEmpty && list.allSatisfy(oneOff.contains) }
  }

  /// Adds the tier facts.
  mutating func add(tiers: TierColumns) {
    tierID = tiers.tier.map { $0?.rawValue ?? 0 }
    tierName = tiers.tier.map { $0?.id ?? "" }
  }

  /// Adds the next-purchase facts (probability within `horizonDays`) and
  /// marks the treatments the interval model found one-off.
  mutating func add(intervals: IntervalColumns, model: IntervalModel, horizonDays: Int, oneOff: Set<String>) {
    var next = [[CategoryNextPurchase]](repeating: [], count: count)
    let customers = min(count, intervals.pairStart.count - 1)
    func probability(_ p: Int) -> Double? {
      switch horizonDays {  // the stored windows, else computed
      case 30: return intervals.probability30[p]
      case 60: return intervals.probability60[p]
      case 90: return intervals.probability90[p]
      default: return intervals.probability(pair: p, withinDays: horizonDays, model: model)
      }
    }
    next.withUnsafeMutableBufferPointer { out in
      Parallel.forEachChunk(count: customers, chunkCount: Parallel.chunkCount(for: customers)) { _, range in
        for c in range {
          // A lapsed pair is not expected back within the horizon: no due facts.
          for p in intervals.pairs(of: c)
          where intervals.expectedNextDay[p] != IntervalColumns.noDay && intervals.status[p] != .lapsed {
            out[c].append(
              CategoryNextPurchase(
                category: model.categories[Int(intervals.category[p])].name,
                dueInDays: Double(intervals.expectedNextDay[p] - intervals.asOfDay),
                probabilityWithinHorizon: probability(p)))
          }
        }
      }
    }
    nextPurchases = next
    setOneOff(oneOff.union(model.categories.filter { $0.basis == .oneOff }.map(\.name)))
  }

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
    f.categories = categories?[c]
    f.oneOffOnly = oneOffOnly?[c]
    f.tierID = tierID?[c]
    f.tierName = tierName?[c]
    f.nextPurchases = nextPurchases?[c]
    f.pAlive = pAlive?[c]
    f.clv = clv?[c]
    return f
  }
}
