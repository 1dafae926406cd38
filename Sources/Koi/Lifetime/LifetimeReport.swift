/// The lifetime section of segments.json: the chosen model, the horizon and
/// the totals that size a retention budget, overall and per RFM segment.
struct LifetimeReport: Sendable, Codable {
  struct Group: Sendable, Codable {
    var group: String
    public var customers: Int
    var meanPAlive: Double?
    public var expectedPurchases: Double
    public var clv: Double
    var shareOfCLV: Double

    /// Only keys the snake-case strategies cannot derive from the property
    /// name, given in the camelCase those strategies map to the file's key.
    enum CodingKeys: String, CodingKey {
      case group, customers, clv, meanPAlive, expectedPurchases
      case shareOfCLV = "shareOfClv"
    }
  }

  public var chosen: String
  public var horizonDays: Double
  public var annualDiscountRate: Double
  public var margin: Double
  var customersScored: Int
  public var total: Group
  var bySegment: [Group]
  public var diagnostics: [String]

  public init(model: LifetimeModel, columns: LifetimeColumns, options: LifetimeOptions, segments: [RFMSegment]?) {
    self.init(model: model, partial: Partial(columns: columns, segments: segments), options: options)
  }

  /// The report of the customers whose partial is `p` (merged over shards:
  /// of all their customers).
  init(model: LifetimeModel, partial p: Partial, options: LifetimeOptions) {
    chosen = model.chosen.rawValue
    horizonDays = options.horizonDays
    annualDiscountRate = options.annualDiscountRate
    margin = options.margin
    diagnostics = model.diagnostics
    customersScored = p.customersScored
    let totalCLV = p.clv.value
    func group(_ name: String, _ g: Partial.GroupFigures) -> Group {
      let clv = g.clv.value
      return Group(
        group: name, customers: g.customers,
        meanPAlive: g.customersWithPAlive > 0 ? rounded(g.pAlive.value / Double(g.customersWithPAlive), 4) : nil,
        expectedPurchases: rounded(g.expectedPurchases.value, 2), clv: rounded(clv, 2),
        shareOfCLV: totalCLV > 0 ? rounded(clv / totalCLV, 6) : 0)
    }
    total = group("all", p.all)
    bySegment = p.bySegment.map { zip(RFMSegment.allCases, $0).map { group($0.rawValue, $1) } } ?? []
  }

  /// Counts and exact sums of some customers' lifetime figures; partials of
  /// customer-disjoint shards merge into the whole run's.
  struct Partial: Sendable, Codable, Equatable {
    struct GroupFigures: Sendable, Codable, Equatable {
      var customers = 0
      var customersWithPAlive = 0
      var pAlive = ExactSum()
      var expectedPurchases = ExactSum()
      var clv = ExactSum()

      mutating func add(_ columns: LifetimeColumns, _ c: Int) {
        customers += 1
        if let p = columns.probabilityAlive[c] { pAlive.add(p); customersWithPAlive += 1 }
        expectedPurchases.add(columns.expectedPurchases[c] ?? 0)
        clv.add(columns.clv[c] ?? 0)
      }

      mutating func merge(_ o: GroupFigures) {
        customers += o.customers
        customersWithPAlive += o.customersWithPAlive
        pAlive.merge(o.pAlive)
        expectedPurchases.merge(o.expectedPurchases)
        clv.merge(o.clv)
      }
    }

    var customersScored = 0
    var clv = ExactSum()
    var all = GroupFigures()
    /// By RFM segment, in `RFMSegment.allCases` order, when RFM ran.
    var bySegment: [GroupFigures]?

    /// The figures of every customer, summed in fixed chunks on every core
    /// and merged: exact sums do not depend on the order.
    init(columns: LifetimeColumns, segments: [RFMSegment]?) {
      let n = columns.clv.count
      let chunks = Parallel.chunkCount(for: n)
      var parts = [Partial](repeating: Partial(segments: segments != nil), count: chunks)
      parts.withUnsafeMutableBufferPointer { parts in
        Parallel.forEachChunk(count: n, chunkCount: chunks) { k, range in
          var p = Partial(segments: segments != nil)
          for c in range {
            if columns.clv[c] != nil { p.customersScored += 1 }
            if let segments {
              p.bySegment![segments[c].ordinal].add(columns, c)  // made with segments
            } else {
              p.all.add(columns, c)
            }
          }
          // Every customer is in one segment, so the segments' counts and
          // exact sums merged are all customers': half the additions (the
          // lifetime report's sums were 1.3% of a 10M-row run's samples).
          for g in p.bySegment ?? [] { p.all.merge(g) }
          // Exact sums of the same values: the same sum.
          p.clv = p.all.clv
          parts[k] = p
        }
      }
      self = parts.dropFirst().reduce(into: parts[0]) { $0.merge($1) }
    }

    /// No customers yet; with a group per RFM segment when `segments`.
    private init(segments: Bool) {
      if segments { bySegment = [GroupFigures](repeating: .init(), count: RFMSegment.allCases.count) }
    }

    mutating func merge(_ o: Partial) {
      customersScored += o.customersScored
      clv.merge(o.clv)
      all.merge(o.all)
      if var mine = bySegment, let theirs = o.bySegment {
        for s in 0..<min(mine.count, theirs.count) { mine[s].merge(theirs[s]) }
        bySegment = mine
      }
    }
  }

}
