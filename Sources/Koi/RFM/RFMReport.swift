/// The RFM section of segments.json: per segment size and value, and the
/// value range behind each score.
struct RFMReport: Sendable, Codable, Equatable {
  struct Segment: Sendable, Codable, Equatable {
    public var segment: String
    /// The Chinese name (重要价值客户 …): segments.json `name_zh`.
    public var nameZh: String
    public var meaning: String
    public var customers: Int
    var shareOfCustomers: Double
    public var revenue: Double
    var shareOfRevenue: Double
    var meanRecencyDays: Double?
    var meanFrequency: Double?
    var meanMonetary: Double?
    var meanRScore: Double?
    var meanFScore: Double?
    var meanMScore: Double?
  }

  /// Customers and value range of one score of one dimension.
  struct ScoreRange: Sendable, Codable, Equatable {
    public var score: Int
    public var customers: Int
    public var min: Double?
    public var max: Double?
  }

  public var bins: Int
  public var segments: [Segment]
  var recencyDays: [ScoreRange]
  public var frequency: [ScoreRange]
  var monetary: [ScoreRange]
  /// Share of net revenue from the top 20% of customers by net amount (the
  /// 80/20 working assumption, measured).
  var top20PercentRevenueShare: Double

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case bins, segments, frequency, monetary, recencyDays
    case top20PercentRevenueShare = "top_20_percent_revenue_share"
  }

  /// - Complexity: O(N log N) (the 80/20 figure sorts net amounts).
  public init(columns: RFMColumns, bins: Int) {
    self.init(Partial(columns: columns, bins: bins), bins: bins)
  }

  /// The report of the customers whose partial is `p` (merged over shards:
  /// the report of all their customers).
  ///
  /// - Complexity: O(distinct net amounts + segments · bins).
  init(_ p: Partial, bins: Int) {
    self.bins = bins
    let n = p.customers
    let total = p.revenue.value
    func share(_ x: Double, _ of: Double) -> Double { of == 0 ? 0 : rounded(x / of, 6) }
    segments = zip(RFMSegment.allCases, p.segments).map { s, a in
      let count = a.customers
      let k = Double(count)
      let rev = a.revenue.value
      func mean(_ x: Double, _ p: Int) -> Double? { count == 0 ? nil : rounded(x / k, p) }
      return Segment(
        segment: s.rawValue, nameZh: s.nameZH, meaning: s.meaning, customers: count,
        shareOfCustomers: share(k, Double(n)), revenue: rounded(rev, 2),
        shareOfRevenue: share(rev, total),
        meanRecencyDays: mean(Double(a.recencyDays), 2), meanFrequency: mean(Double(a.frequency), 3),
        meanMonetary: mean(rev, 2), meanRScore: mean(Double(a.rScore), 3), meanFScore: mean(Double(a.fScore), 3),
        meanMScore: mean(Double(a.mScore), 3))
    }
    func ranges(_ r: [Partial.Range]) -> [ScoreRange] {
      r.enumerated().map { i, x in
        ScoreRange(
          score: i + 1, customers: x.customers, min: x.customers == 0 ? nil : rounded(x.min, 2),
          max: x.customers == 0 ? nil : rounded(x.max, 2))
      }
    }
    recencyDays = ranges(p.recencyRanges)
    frequency = ranges(p.frequencyRanges)
    monetary = ranges(p.monetaryRanges)
    // The largest fifth of net amounts summed largest first, as a sort of
    // every amount would.
    var top = 0.0
    var left = Swift.max(1, n / 5)
    for (v, c) in zip(p.netAmounts.values, p.netAmounts.counts).reversed() where left > 0 {
      for _ in 0..<Swift.min(c, left) { top += v }
      left -= Swift.min(c, left)
    }
    top20PercentRevenueShare = share(top, total)
  }

  /// The figures of some customers the report is made from; partials of
  /// customer-disjoint shards merge exactly (counts, exact sums, extremes,
  /// value counts), so the merged partial gives the single run's report.
  struct Partial: Sendable, Codable, Equatable {
    struct SegmentFigures: Sendable, Codable, Equatable {
      var customers = 0
      var revenue = ExactSum()
      var recencyDays = 0
      var frequency = 0
      var rScore = 0
      var fScore = 0
      var mScore = 0
    }
    struct Range: Sendable, Codable, Equatable {
      var customers = 0
      var min = Double.infinity
      var max = -Double.infinity

      enum CodingKeys: String, CodingKey { case customers, min, max }
      init() {}
      init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        customers = try c.decode(Int.self, forKey: .customers)
        min = try c.decodeIfPresent(Double.self, forKey: .min) ?? .infinity
        max = try c.decodeIfPresent(Double.self, forKey: .max) ?? -.infinity
      }
      func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(customers, forKey: .customers)
        if customers > 0 {
          try c.encode(min, forKey: .min)
          try c.encode(max, forKey: .max)
        }
      }
      mutating func add(_ v: Double) {
        customers += 1
        min = Swift.min(min, v)
        max = Swift.max(max, v)
      }
      mutating func merge(_ o: Range) {
        customers += o.customers
        min = Swift.min(min, o.min)
        max = Swift.max(max, o.max)
      }
    }
    var customers = 0
    var revenue = ExactSum()
    var segments = [SegmentFigures](repeating: .init(), count: RFMSegment.allCases.count)
    var recencyRanges: [Range]
    var frequencyRanges: [Range]
    var monetaryRanges: [Range]
    /// Every net amount as value counts (for the 80/20 figure).
    /// Every customer's net amount (value counts travel in shard.json).
    var netAmounts = ValueCounts([Double]())

    /// The figures of every customer, summed in fixed chunks on every core
    /// and merged: counts, exact sums and ranges do not depend on the order
    /// (on one core, the exact sums alone were 30 ms of a 10M-row run with
    /// the other core idle).
    init(columns: RFMColumns, bins: Int) {
      let n = columns.segment.count
      let chunks = Parallel.chunkCount(for: n)
      var parts = [Partial](repeating: Partial(bins: bins), count: chunks)
      parts.withUnsafeMutableBufferPointer { parts in
        Parallel.forEachChunk(count: n, chunkCount: chunks) { k, range in
          var p = Partial(bins: bins)
          p.add(columns, range, bins: bins)
          parts[k] = p
        }
      }
      self = parts.dropFirst().reduce(into: parts[0]) { $0.merge($1) }
      netAmounts = ValueCounts(columns.monetary)
    }

    /// No customers yet.
    private init(bins: Int) {
      recencyRanges = [Range](repeating: .init(), count: bins)
      frequencyRanges = recencyRanges
      monetaryRanges = recencyRanges
    }

    /// Adds customers `range` of `columns`.
    private mutating func add(_ columns: RFMColumns, _ range: Swift.Range<Int>, bins: Int) {
      for c in range {
        let m = columns.monetary[c]
        let s = columns.segment[c].ordinal
        segments[s].customers += 1
        segments[s].revenue.add(m)
        segments[s].recencyDays += Int(columns.recencyDays[c])
        segments[s].frequency += Int(columns.frequency[c])
        segments[s].rScore += Int(columns.rScore[c])
        segments[s].fScore += Int(columns.fScore[c])
        segments[s].mScore += Int(columns.mScore[c])
        if (1...bins).contains(Int(columns.rScore[c])) {
          recencyRanges[Int(columns.rScore[c]) - 1].add(Double(columns.recencyDays[c]))
        }
        if (1...bins).contains(Int(columns.fScore[c])) {
          frequencyRanges[Int(columns.fScore[c]) - 1].add(Double(columns.frequency[c]))
        }
        if (1...bins).contains(Int(columns.mScore[c])) { monetaryRanges[Int(columns.mScore[c]) - 1].add(m) }
      }
      customers += range.count
      // Every customer is in one segment: the segments' exact sums merged
      // are the revenue (half the additions).
      for g in segments { revenue.merge(g.revenue) }
    }

    mutating func merge(_ o: Partial) {
      customers += o.customers
      revenue.merge(o.revenue)
      for i in segments.indices {
        segments[i].customers += o.segments[i].customers
        segments[i].revenue.merge(o.segments[i].revenue)
        segments[i].recencyDays += o.segments[i].recencyDays
        segments[i].frequency += o.segments[i].frequency
        segments[i].rScore += o.segments[i].rScore
        segments[i].fScore += o.segments[i].fScore
        segments[i].mScore += o.segments[i].mScore
      }
      for i in recencyRanges.indices {
        recencyRanges[i].merge(o.recencyRanges[i])
        frequencyRanges[i].merge(o.frequencyRanges[i])
        monetaryRanges[i].merge(o.monetaryRanges[i])
      }
      netAmounts.merge(o.netAmounts)
    }
  }
}
