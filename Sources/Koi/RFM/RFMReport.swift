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
    self.bins = bins
    let n = columns.segment.count
    let total = columns.monetary.reduce(0, +)
    func share(_ x: Double, _ of: Double) -> Double { of == 0 ? 0 : rounded(x / of, 6) }
    segments = RFMSegment.allCases.map { s in
      var count = 0, rev = 0.0, rec = 0.0, f = 0.0, r = 0.0, fs = 0.0, ms = 0.0
      for c in 0..<n where columns.segment[c] == s {
        count += 1; rev += columns.monetary[c]; rec += Double(columns.recencyDays[c])
        f += Double(columns.frequency[c]); r += Double(columns.rScore[c])
        fs += Double(columns.fScore[c]); ms += Double(columns.mScore[c])
      }
      let k = Double(count)
      func mean(_ x: Double, _ p: Int) -> Double? { count == 0 ? nil : rounded(x / k, p) }
      return Segment(
        segment: s.rawValue, nameZh: s.nameZH, meaning: s.meaning, customers: count,
        shareOfCustomers: share(k, Double(n)), revenue: rounded(rev, 2),
        shareOfRevenue: share(rev, total),
        meanRecencyDays: mean(rec, 2), meanFrequency: mean(f, 3), meanMonetary: mean(rev, 2),
        meanRScore: mean(r, 3), meanFScore: mean(fs, 3), meanMScore: mean(ms, 3))
    }
    func ranges(_ scores: [UInt8], _ values: (Int) -> Double) -> [ScoreRange] {
      (1...bins).map { s in
        var count = 0, lo = Double.infinity, hi = -Double.infinity
        for c in 0..<n where Int(scores[c]) == s {
          count += 1
          let v = values(c)
          lo = Swift.min(lo, v); hi = Swift.max(hi, v)
        }
        return ScoreRange(
          score: s, customers: count, min: count == 0 ? nil : rounded(lo, 2), max: count == 0 ? nil : rounded(hi, 2))
      }
    }
    recencyDays = ranges(columns.rScore) { Double(columns.recencyDays[$0]) }
    frequency = ranges(columns.fScore) { Double(columns.frequency[$0]) }
    monetary = ranges(columns.mScore) { columns.monetary[$0] }
    // The largest fifth, largest first (equal amounts add alike in any order).
    let m = columns.monetary
    let top: Double
    if let ascending = RadixSort.ascendingOrder(m) {
      top = ascending.suffix(Swift.max(1, n / 5)).reversed().reduce(0) { $0 + m[Int($1)] }
    } else {
      top = m.sorted(by: >).prefix(Swift.max(1, n / 5)).reduce(0, +)
    }
    top20PercentRevenueShare = share(top, total)
  }
}
