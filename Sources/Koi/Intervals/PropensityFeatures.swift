import RealModule

/// The features of (customer, category) pairs at one origin day O, computed
/// from the purchases before O only, and each pair's first purchase on or
/// after O (the label of every window that starts at O).
///
/// The same code builds the training rows at earlier origins and the rows
/// scored at the as-of day, so training and scoring see the same thing.
///
/// | # | name | meaning (all as of O) |
/// | --- | --- | --- |
/// | 0 | `elapsed_days` | O − the pair's last purchase day |
/// | 1 | `purchases` | distinct days the customer bought the category |
/// | 2 | `mean_gap` | mean of the pair's gaps (NaN with one purchase) |
/// | 3 | `median_gap` | median of the pair's gaps (NaN) |
/// | 4 | `last_gap` | the pair's latest gap (NaN) |
/// | 5 | `elapsed_over_mean_gap` | 0 ÷ 2 (NaN) |
/// | 6 | `category_median_gap` | median of all gaps in the category before O (NaN) |
/// | 7 | `category_rate` | among the category's pairs with a purchase before O − h, the share that bought in [O − h, O) |
/// | 8 | `category_customers` | log(1 + customers who bought the category) |
/// | 9 | `category_season` | the category's purchases in [O − 365, O − 365 + h) × 365/h ÷ its purchases in [O − 365, O); NaN before a year of data |
/// | 10 | `recency` | O − the customer's last purchase day (any category) |
/// | 11 | `frequency` | the customer's distinct purchase days |
/// | 12 | `monetary` | the customer's net amount |
/// | 13 | `tenure` | O − the customer's first purchase day |
/// | 14 | `days_last_30` | the customer's purchase days in [O − 30, O) |
/// | 15 | `days_last_90` | the customer's purchase days in [O − 90, O) |
/// | 16 | `categories` | categories the customer bought |
/// | 17 | `category_share` | 1 ÷ 11 |
/// | 18 | `statistical_probability` | the interval model's P(purchase within h), `IntervalFamily.conditionalProbability` (NaN without a fitted distribution) |
/// | 19 | `statistical_return` | the interval model's probability of ever buying again (NaN) |
/// | 20 | `elapsed_over_category_median` | 0 ÷ 6 (NaN) |
///
/// The interval model is the run's (fitted as of the as-of day); at an
/// earlier origin it is evaluated on that origin's history, so only its
/// per-category parameters have seen later data.
struct PropensityFeatures {
  static let names = [
    "elapsed_days", "purchases", "mean_gap", "median_gap", "last_gap", "elapsed_over_mean_gap",
    "category_median_gap", "category_rate", "category_customers", "category_season",
    "recency", "frequency", "monetary", "tenure", "days_last_30", "days_last_90", "categories",
    "category_share", "statistical_probability", "statistical_return", "elapsed_over_category_median",
  ]
  static var count: Int { names.count }

  let origin: Int32
  let horizon: Int
  /// Indices of the as-of histories' pairs with a purchase before the origin.
  var pairs: [Int32] = []
  /// `pairs.count × count`, row-major.
  var values: [Double] = []
  /// First purchase day of the pair on or after the origin (`Int32.max`: none
  /// before the as-of day).
  var next: [Int32] = []

  /// Whether pair row `i` bought within the window [origin, origin + horizon).
  func label(_ i: Int) -> Double { next[i] < origin &+ Int32(horizon) ? 1 : 0 }

  /// Customer-level aggregates as of one origin, shared by every horizon.
  struct Customers {
    var first: [Int32]
    var last: [Int32]
    var days: [Double]
    var monetary: [Double]
    var last30: [Double]
    var last90: [Double]

    /// - Complexity: O(rows of the ledger).
    init(ledger: Ledger, origin o: Int32) {
      let n = ledger.customerCount
      first = [Int32](repeating: Int32.max, count: n)
      last = [Int32](repeating: Int32.min, count: n)
      days = [Double](repeating: 0, count: n)
      monetary = days
      last30 = days
      last90 = days
      for c in 0..<n {
        var previous = Int32.min
        for i in ledger.rows(of: c) {
          let d = ledger.day[i]
          if d >= o { break }  // rows are sorted by day within a customer
          monetary[c] += ledger.amount[i]
          guard isPurchase(ledger.amount[i]) else { continue }
          if first[c] == Int32.max { first[c] = d }
          last[c] = d
          if d != previous {
            days[c] += 1
            if d >= o - 30 { last30[c] += 1 }
            if d >= o - 90 { last90[c] += 1 }
            previous = d
          }
        }
      }
    }
  }

  /// Builds the rows at `origin` for windows of `horizon` days.
  ///
  /// - Complexity: O(pairs + gaps) plus a sort of each category's gaps
  ///   before the origin (for its median).
  init(
    histories h: PurchaseHistories, customers: Customers, model: IntervalModel, origin o: Int32, horizon: Int,
    dataStart: Int32
  ) {
    origin = o
    self.horizon = horizon
    let k = model.categories.count
    let q = Self.count
    var categoryGaps = [[Int32]](repeating: [], count: k)
    var exposed = [Double](repeating: 0, count: k), bought = exposed, buyers = exposed
    var seasonWindow = exposed, seasonYear = exposed
    let hasYear = o - 365 >= dataStart
    let windowStart = o - Int32(horizon)
    var categories = [Double](repeating: 0, count: h.customerCount)
    var own: [Int32] = []
    var lastGap = [Int32]()
    // First pass: per-pair history before the origin, category aggregates.
    struct Pair { var p: Int32; var n: Int32; var last: Int32; var next: Int32; var sumLog: Double; var mean: Double; var median: Double; var lastGap: Double }
    var rows: [Pair] = []
    rows.reserveCapacity(h.pairCount)
    for p in 0..<h.pairCount {
      var d = h.firstDay[p]
      guard d < o else { continue }
      let cat = Int(h.pairCategory[p])
      own.removeAll(keepingCapacity: true)
      var next = Int32.max
      var sumLog = 0.0
      if hasYear && d >= o - 365 { seasonYear[cat] += 1; if d < o - 365 + Int32(horizon) { seasonWindow[cat] += 1 } }
      for g in h.gapStart[p]..<h.gapStart[p + 1] {
        let nd = d &+ h.gaps[g]
        if nd >= o { next = nd; break }
        own.append(h.gaps[g])
        sumLog += Double.log(Double(h.gaps[g]))
        d = nd
        if hasYear && d >= o - 365 { seasonYear[cat] += 1; if d < o - 365 + Int32(horizon) { seasonWindow[cat] += 1 } }
      }
      categoryGaps[cat] += own
      buyers[cat] += 1
      categories[Int(h.pairCustomer[p])] += 1
      if h.firstDay[p] < windowStart {
        exposed[cat] += 1
        if d >= windowStart { bought[cat] += 1 }
      }
      var mean = Double.nan, median = Double.nan, lg = Double.nan
      if !own.isEmpty {
        mean = Double(own.reduce(0, +)) / Double(own.count)
        lg = Double(own[own.count - 1])
        lastGap = own
        lastGap.sort()
        median = Self.median(sorted: lastGap)
      }
      rows.append(Pair(p: Int32(p), n: Int32(own.count + 1), last: d, next: next, sumLog: sumLog, mean: mean, median: median, lastGap: lg))
    }
    var categoryMedian = [Double](repeating: .nan, count: k)
    for c in 0..<k where !categoryGaps[c].isEmpty {
      categoryGaps[c].sort()
      categoryMedian[c] = Self.median(sorted: categoryGaps[c])
    }
    pairs.reserveCapacity(rows.count)
    next.reserveCapacity(rows.count)
    values = [Double](repeating: .nan, count: rows.count * q)
    for (i, r) in rows.enumerated() {
      let p = Int(r.p)
      let cat = Int(h.pairCategory[p])
      let c = Int(h.pairCustomer[p])
      let e = Double(o - r.last)
      let m = model.categories[cat]
      var statistical = Double.nan, returning = Double.nan
      if m.predicts, let family = m.family {
        let (mu, s) = IntervalShrinkage.predictive(
          m, family: family, customer: c, covariates: nil, gapCount: Int(r.n) - 1, sumLogGaps: r.sumLog)
        statistical = family.conditionalProbability(
          elapsed: e, horizon: Double(horizon), location: mu, scale: s, logitReturn: m.logitReturnProbability)
        returning = family.returnProbability(elapsed: e, location: mu, scale: s, logitReturn: m.logitReturnProbability)
      }
      let f = [
        e, Double(r.n), r.mean, r.median, r.lastGap, e / r.mean,
        categoryMedian[cat], exposed[cat] > 0 ? bought[cat] / exposed[cat] : .nan, Double.log(onePlus: buyers[cat]),
        hasYear && seasonYear[cat] > 0 ? seasonWindow[cat] * 365 / Double(horizon) / seasonYear[cat] : .nan,
        Double(o - customers.last[c]), customers.days[c], customers.monetary[c], Double(o - customers.first[c]),
        customers.last30[c], customers.last90[c], categories[c], Double(r.n) / max(1, customers.days[c]),
        statistical, returning, e / categoryMedian[cat],
      ]
      for j in 0..<q { values[i * q + j] = f[j].isFinite ? f[j] : .nan }
      pairs.append(r.p)
      next.append(r.next)
    }
  }

  static func median(sorted v: [Int32]) -> Double {
    let n = v.count
    return n % 2 == 1 ? Double(v[n / 2]) : (Double(v[n / 2 - 1]) + Double(v[n / 2])) / 2
  }
}
