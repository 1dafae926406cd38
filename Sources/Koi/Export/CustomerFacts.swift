/// Next-purchase facts of one customer for one treatment category (from the
/// repurchase-interval stage).
public struct CategoryNextPurchase: Sendable, Equatable {
  public var category: String
  /// Days from the as-of date to the expected next purchase; negative when
  /// overdue. Nil when the stage has no estimate.
  public var dueInDays: Double?
  /// Probability of a purchase in this category within the export horizon
  /// (`exports.due_within_days`), when the stage gives one.
  public var probabilityWithinHorizon: Double?

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
  public var rScore: Int?
  public var fScore: Int?
  public var mScore: Int?
  public var monetary: Double?
  /// Share of customers with a strictly smaller net amount (0 … 1).
  public var monetaryPercentile: Double?
  public var averageOrderValue: Double?
  public var recencyDays: Int?
  public var frequency: Int?
  /// Categories bought (names), and whether all of them are one-off by the
  /// configured category priors (nil without priors).
  public var categories: [String]?
  public var oneOffOnly: Bool?
  // Price-sensitivity tiers
  public var tierID: Int?
  public var tierName: String?
  // Repurchase intervals
  public var nextPurchases: [CategoryNextPurchase]?
  // Lifetime value
  public var pAlive: Double?
  public var clv: Double?

  public init() {}
}

/// Per-customer facts as optional columns: the run fills the RFM columns,
/// and each later stage sets its own with one assignment.
///
/// ```swift
/// var facts = CustomerFactTable(result: result, priors: config.categoryPriors)
/// facts.tierID = tierColumns.tier.map(Int.init)       // tiers stage
/// facts.tierName = tierColumns.tier.map { model.tiers.names[Int($0)] }
/// facts.nextPurchases = intervals.perCustomer          // intervals stage
/// facts.pAlive = lifetime.pAlive; facts.clv = lifetime.clv  // lifetime stage
/// ```
public struct CustomerFactTable: Sendable {
  public let count: Int
  public var rfm: RFMColumns?
  public var monetaryPercentile: [Double]?
  public var categories: [[String]]?
  public var oneOffOnly: [Bool]?
  public var tierID: [Int]?
  public var tierName: [String]?
  public var nextPurchases: [[CategoryNextPurchase]]?
  public var pAlive: [Double]?
  public var clv: [Double]?

  public init(count: Int) { self.count = count }

  /// The facts a scoring run gives today (RFM, categories bought, one-off
  /// status from `priors`).
  ///
  /// - Complexity: O(transactions + N log N).
  public init(result: ScoringResult, priors: [String: RunConfig.CategoryPrior]) {
    self.init(ledger: result.ledger, rfm: result.rfm, priors: priors)
    // INTEGRATION POINT: when ScoringResult carries the new stages' columns,
    // set them here, e.g. tierID/tierName (tiers), nextPurchases (intervals),
    // pAlive/clv (lifetime). Tags and lists pick them up with no other change.
  }

  /// The same from the parts, for use inside `ScoringRun` before the
  /// writers run (so `TagRecordFields` can join customers.jsonl).
  public init(ledger: Ledger, rfm: RFMColumns?, priors: [String: RunConfig.CategoryPrior]) {
    count = ledger.customerCount
    self.rfm = rfm
    if let rfm {
      // percentile = customers strictly below / N, with ties sharing a value.
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
    var cats = [[String]](repeating: [], count: count)
    for c in 0..<count {
      var seen = Set<Int32>()
      for r in ledger.rows(of: c) where isPurchase(ledger.amount[r]) { seen.insert(ledger.category[r]) }
      cats[c] = seen.sorted().map { ledger.categories[Int($0)] }
    }
    categories = cats
    if !priors.isEmpty {
      oneOffOnly = cats.map { list in
        !list.isEmpty && list.allSatisfy { priors[$0] == .oneOff }
      }
    }
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
