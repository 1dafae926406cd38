import RealModule

/// The features of (customer, category) pairs at one origin day O, from the
/// purchases before O only, and the label source of every window starting
/// at O (the pair's first purchase on or after O).
///
/// `init` computes the customer and category aggregates once, over every
/// pair; `row(pair:into:)` then computes one pair's row on demand, so
/// training can sample pairs and scoring can work in parallel chunks
/// without holding a feature matrix of every pair.
///
/// | # | name | meaning (all as of O) |
/// | --- | --- | --- |
/// | 0 | `elapsed_days` | O − the pair's last purchase day |
/// | 1 | `purchases` | distinct days the customer bought the category |
/// | 2 | `mean_gap` | mean of the pair's gaps (NaN with one purchase) |
/// | 3 | `median_gap` | median of the pair's gaps (NaN) |
/// | 4 | `last_gap` | the pair's latest gap (NaN) |
/// | 5 | `elapsed_over_mean_gap` | 0 ÷ 2 (NaN) |
/// | 6 | `category_median_gap` | median of all gaps in the category (log-spaced bins, 2% resolution; NaN) |
/// | 7 | `category_rate` | among the category's pairs with a purchase before O − h, the share that bought in [O − h, O) (NaN) |
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
/// | 18 | `statistical_probability` | the interval model's P(purchase within h), `IntervalFamily.conditionalProbability` (NaN without a distribution) |
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
  static let count = names.count
  static let statisticalProbability = 18

  let origin: Int32
  let horizon: Int
  let histories: PurchaseHistories
  let model: IntervalModel
  let customers: Customers
  var categoryMedianGap: [Double]
  var categoryRate: [Double]
  var categoryBuyers: [Double]
  var categorySeason: [Double]
  /// Per customer of `histories`, its categories bought before the origin.
  var customerCategories: [Double]
  /// `model.categories` as the scalars `row` needs (no copy of a category per row).
  let categoryParameters: [IntervalShrinkage.Parameters]

  /// Customer-level aggregates as of one origin, shared by every horizon.
  struct Customers {
    var first: [Int32]
    var last: [Int32]
    var days: [Double]
    var monetary: [Double]
    var last30: [Double]
    var last90: [Double]

    /// Each customer's aggregates are its own rows' (its amounts summed in
    /// row order), so customers are aggregated in parallel chunks with the
    /// same result on any thread count.
    ///
    /// `minimumChunk`: customers a chunk at least (tests set it low to
    /// run several chunks on small data).
    ///
    /// - Complexity: O(rows of the ledger before the origin).
    init(ledger: Ledger, origin o: Int32, minimumChunk: Int = 32_768) {
      let n = ledger.customerCount
      first = [Int32](repeating: Int32.max, count: n)
      last = [Int32](repeating: Int32.min, count: n)
      days = [Double](repeating: 0, count: n)
      monetary = days
      last30 = days
      last90 = days
      first.withUnsafeMutableBufferPointer { first in
        last.withUnsafeMutableBufferPointer { last in
          days.withUnsafeMutableBufferPointer { days in
            monetary.withUnsafeMutableBufferPointer { monetary in
              last30.withUnsafeMutableBufferPointer { last30 in
                last90.withUnsafeMutableBufferPointer { last90 in
                  Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n, minimumChunk: minimumChunk)) {
                    _, range in
                    for c in range {
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
              }
            }
          }
        }
      }
    }
  }

  /// Bins per doubling of a gap in the category median-gap histograms.
  static let binsPerOctave = 32.0
  static let medianBins = 32 * 20

  /// The features at `origin` for windows of `horizon` days.
  ///
  /// - Complexity: O(pairs) for the customers' category counts, plus that
  ///   of `CategoryAggregates.init` unless `saved` is given.
  ///
  /// With `saved` (the fitting run's aggregates at this origin and horizon),
  /// the category columns 6–9 are taken from it instead of from `h`, so a
  /// subset of the fitting customers (a shard) gets the whole run's rows:
  /// every other column of a pair's row comes from the pair, its own
  /// customer (`customers`, and `customerCategories` over the customer's
  /// pairs) and `model`, never from other customers.
  init(
    histories h: PurchaseHistories, customers: Customers, model: IntervalModel, origin o: Int32, horizon: Int,
    dataStart: Int32, saved: CategoryAggregates? = nil
  ) {
    origin = o
    self.horizon = horizon
    histories = h
    self.model = model
    self.customers = customers
    categoryParameters = model.categories.map(IntervalShrinkage.Parameters.init)
    let k = model.categories.count
    let aggregates =
      saved.flatMap { $0.medianGap.count == k ? $0 : nil }
      ?? CategoryAggregates(histories: h, categoryCount: k, origin: o, horizon: horizon, dataStart: dataStart)
    categoryMedianGap = aggregates.medianGap
    categoryRate = aggregates.rate
    categoryBuyers = aggregates.buyers
    categorySeason = aggregates.season
    customerCategories = [Double](repeating: 0, count: h.customerCount)
    for p in 0..<h.pairCount where h.firstDay[p] < o { customerCategories[Int(h.pairCustomer[p])] += 1 }
  }

  /// The population-dependent columns of a row: per category, its median
  /// gap, rate, buyers and season at one origin for one horizon (NaN where
  /// undefined; null in model.json).
  struct CategoryAggregates: Sendable, Equatable, Codable {
    var medianGap: [Double]
    var rate: [Double]
    var buyers: [Double]
    var season: [Double]

    enum CodingKeys: String, CodingKey { case medianGap, rate, buyers, season }

    /// Equal values, NaN equal to NaN (an undefined column stays undefined).
    static func == (a: Self, b: Self) -> Bool {
      func same(_ x: [Double], _ y: [Double]) -> Bool {
        x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
      }
      return same(a.medianGap, b.medianGap) && same(a.rate, b.rate) && same(a.buyers, b.buyers)
        && same(a.season, b.season)
    }

    init(medianGap: [Double], rate: [Double], buyers: [Double], season: [Double]) {
      self.medianGap = medianGap
      self.rate = rate
      self.buyers = buyers
      self.season = season
    }

    /// The aggregates of every pair of `h` at origin `o` for windows of
    /// `horizon` days.
    ///
    /// Every sum here is a count, so the pairs are counted in parallel
    /// chunks, in integers, and the chunks' counts added: exact, whatever
    /// the chunking (the rate and season are then the same quotients).
    /// `minimumChunk`: pairs a chunk at least (tests set it low to run
    /// several chunks on small data).
    ///
    /// - Complexity: O(pairs + gaps) integer work, O(categories · 640) for
    ///   the median-gap histograms.
    init(
      histories h: PurchaseHistories, categoryCount k: Int, origin o: Int32, horizon: Int, dataStart: Int32,
      minimumChunk: Int = 65_536
    ) {
      let bins = PropensityFeatures.medianBins
      let hasYear = o - 365 >= dataStart
      let yearStart = o - 365, yearWindowEnd = o - 365 + Int32(horizon)
      let windowStart = o - Int32(horizon)
      /// One category's counts in one chunk of pairs.
      struct Counts {
        var gaps = 0, exposed = 0, bought = 0, buyers = 0, seasonWindow = 0, seasonYear = 0

        mutating func add(_ other: Self) {
          gaps += other.gaps
          exposed += other.exposed
          bought += other.bought
          buyers += other.buyers
          seasonWindow += other.seasonWindow
          seasonYear += other.seasonYear
        }
      }
      // At most 8 chunks: each holds a histogram of every category.
      let chunks = Parallel.chunkCount(for: h.pairCount, minimumChunk: minimumChunk, maximumChunks: 8)
      let parts = Parallel.map(chunks) { chunk in
        // Per category, its counts and its gap histogram (`bins` a category).
        var counts = [Counts](repeating: Counts(), count: k)
        var gapHistogram = [Int32](repeating: 0, count: k * bins)
        counts.withUnsafeMutableBufferPointer { n in
          gapHistogram.withUnsafeMutableBufferPointer { histogram in
            for p in Parallel.chunk(chunk, of: chunks, count: h.pairCount) {
              var d = h.firstDay[p]
              guard d < o else { continue }
              let cat = Int(h.pairCategory[p])
              if hasYear && d >= yearStart { n[cat].seasonYear += 1; if d < yearWindowEnd { n[cat].seasonWindow += 1 } }
              for g in h.gapStart[p]..<h.gapStart[p + 1] {
                let gap = h.gaps[g]
                let next = d &+ gap
                if next >= o { break }
                d = next
                histogram[cat * bins + PropensityFeatures.bin(gap)] &+= 1
                n[cat].gaps += 1
                if hasYear && d >= yearStart {
                  n[cat].seasonYear += 1
                  if d < yearWindowEnd { n[cat].seasonWindow += 1 }
                }
              }
              n[cat].buyers += 1
              if h.firstDay[p] < windowStart {
                n[cat].exposed += 1
                if d >= windowStart { n[cat].bought += 1 }
              }
            }
          }
        }
        return (counts, gapHistogram)
      }
      var (n, gapHistogram) = parts[0]
      for (counts, histogram) in parts.dropFirst() {
        for i in gapHistogram.indices { gapHistogram[i] &+= histogram[i] }
        for c in 0..<k { n[c].add(counts[c]) }
      }
      medianGap = (0..<k).map { c in
        guard n[c].gaps > 0 else { return .nan }
        var cumulative = 0
        for b in 0..<bins {
          cumulative += Int(gapHistogram[c * bins + b])
          if 2 * cumulative >= n[c].gaps { return PropensityFeatures.binCenter(b) }
        }
        return PropensityFeatures.binCenter(bins - 1)
      }
      rate = n.map { $0.exposed > 0 ? Double($0.bought) / Double($0.exposed) : .nan }
      buyers = n.map { Double.log(onePlus: Double($0.buyers)) }
      season = n.map {
        hasYear && $0.seasonYear > 0 ? Double($0.seasonWindow) * 365 / Double(horizon) / Double($0.seasonYear) : .nan
      }
    }

    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      func stored(_ v: [Double]) -> [Double?] { v.map { $0.isFinite ? $0 : nil } }
      try c.encode(stored(medianGap), forKey: .medianGap)
      try c.encode(stored(rate), forKey: .rate)
      try c.encode(stored(buyers), forKey: .buyers)
      try c.encode(stored(season), forKey: .season)
    }

    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      func read(_ key: CodingKeys) throws -> [Double] { try c.decode([Double?].self, forKey: key).map { $0 ?? .nan } }
      medianGap = try read(.medianGap)
      rate = try read(.rate)
      buyers = try read(.buyers)
      season = try read(.season)
      let k = medianGap.count
      guard rate.count == k, buyers.count == k, season.count == k else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "one value per category in each aggregate"))
      }
    }
  }

  /// The median-gap histogram bin of a gap of `gap` ≥ 1 days.
  @inline(__always)
  static func bin(_ gap: Int32) -> Int {
    gap > 0 && gap < tabulatedGaps ? Int(gapBins[Int(gap)]) : computedBin(gap)
  }

  static func computedBin(_ gap: Int32) -> Int {
    min(medianBins - 1, max(0, Int((Double.log2(Double(gap)) * binsPerOctave).rounded(.down))))
  }

  /// `bin` and `log` of the gaps below `tabulatedGaps` days, computed once
  /// (the same functions of the same arguments, so the same values): the
  /// category aggregates and every row took a `log2` or `log` per gap.
  static let tabulatedGaps: Int32 = 4096
  static let gapBins: [UInt16] = (0..<Int(tabulatedGaps)).map { $0 == 0 ? 0 : UInt16(computedBin(Int32($0))) }
  static let gapLogs: [Double] = (0..<Int(tabulatedGaps)).map { Double.log(Double($0)) }

  /// `log(gap)` for a gap of `gap` days.
  @inline(__always)
  static func logGap(_ gap: Int32) -> Double {
    gap >= 0 && gap < tabulatedGaps ? gapLogs[Int(gap)] : Double.log(Double(gap))
  }

  static func binCenter(_ b: Int) -> Double { Double.exp2((Double(b) + 0.5) / binsPerOctave) }

  /// What pair `p`'s row takes from its own purchases before the origin
  /// and from the interval model: the same at every horizon, so scoring
  /// computes it once for the rows of both windows (`row(pair:history:into:)`
  /// adds the columns of a horizon).
  struct PairHistory {
    /// The pair's last purchase day before the origin, and its first on or
    /// after it (`Int32.max`: none before the as-of day).
    var last: Int32, next: Int32
    var gapCount: Int
    var mean: Double, median: Double, lastGap: Double
    /// The interval model's predictive (location, scale), nil without a
    /// distribution; its log S at the days elapsed since `last` (computed
    /// once for every window's row); its probability of ever buying again
    /// (NaN without a distribution).
    var predictive: (location: Double, scale: Double)?
    var logSurvival: Double
    var returning: Double
  }

  /// Pair `p`'s `PairHistory`, nil when it has no purchase before the
  /// origin. `scratch` is reused between calls.
  ///
  /// - Complexity: O(g log g) for the pair's g gaps.
  func history(pair p: Int, scratch: inout [Int32]) -> PairHistory? {
    let h = histories
    var d = h.firstDay[p]
    guard d < origin else { return nil }
    scratch.removeAll(keepingCapacity: true)
    var next = Int32.max
    var sumLog = 0.0, sum = 0.0
    for g in h.gapStart[p]..<h.gapStart[p + 1] {
      let gap = h.gaps[g]
      let nd = d &+ gap
      if nd >= origin { next = nd; break }
      scratch.append(gap)
      sumLog += Self.logGap(gap)
      sum += Double(gap)
      d = nd
    }
    let n = scratch.count
    var mean = Double.nan, median = Double.nan, lastGap = Double.nan
    if n > 0 {
      mean = sum / Double(n)
      lastGap = Double(scratch[n - 1])
      scratch.sort()
      median = n % 2 == 1 ? Double(scratch[n / 2]) : (Double(scratch[n / 2 - 1]) + Double(scratch[n / 2])) / 2
    }
    let m = categoryParameters[Int(h.pairCategory[p])]
    var predictive: (location: Double, scale: Double)?
    var logSurvival = Double.nan, returning = Double.nan
    if m.predicts, let family = m.family {
      // Without covariates the location is the intercept (`IntervalShrinkage.location`).
      let (mu, s) = IntervalShrinkage.predictive(
        m, family: family, location: m.intercept, gapCount: n, sumLogGaps: sumLog)
      predictive = (mu, s)
      logSurvival = family.logSurvival(elapsed: Double(origin - d), location: mu, scale: s)
      returning =
        m.logitReturnProbability.map { family.returnProbability(logSurvival: logSurvival, logitReturn: $0) } ?? 1
    }
    return PairHistory(
      last: d, next: next, gapCount: n, mean: mean, median: median, lastGap: lastGap, predictive: predictive,
      logSurvival: logSurvival, returning: returning)
  }

  /// Writes pair `p`'s row into `out[0 ..< count]` and returns the pair's
  /// first purchase day on or after the origin (`Int32.max`: none before the
  /// as-of day), or nil when the pair has no purchase before the origin.
  /// `scratch` is reused between calls.
  ///
  /// - Complexity: O(g log g) for the pair's g gaps.
  func row(pair p: Int, into out: UnsafeMutableBufferPointer<Double>, scratch: inout [Int32]) -> Int32? {
    guard let history = history(pair: p, scratch: &scratch) else { return nil }
    row(pair: p, history: history, into: out)
    return history.next
  }

  /// Writes pair `p`'s row into `out[0 ..< count]` from its `history` (of
  /// these features, or of features with the same histories, model and
  /// origin: only the horizon and category columns may differ).
  ///
  /// - Complexity: O(1).
  func row(pair p: Int, history: PairHistory, into out: UnsafeMutableBufferPointer<Double>) {
    let h = histories
    let cat = Int(h.pairCategory[p])
    let c = Int(h.pairCustomer[p])
    let e = Double(origin - history.last)
    let m = categoryParameters[cat]
    var statistical = Double.nan
    if let (mu, s) = history.predictive, let family = m.family {
      statistical = family.conditionalProbability(
        elapsed: e, logSurvival: history.logSurvival, horizon: Double(horizon), location: mu, scale: s,
        logitReturn: m.logitReturnProbability)
    }
    let purchases = Double(history.gapCount + 1)
    out[0] = e
    out[1] = purchases
    out[2] = history.mean
    out[3] = history.median
    out[4] = history.lastGap
    out[5] = e / history.mean
    out[6] = categoryMedianGap[cat]
    out[7] = categoryRate[cat]
    out[8] = categoryBuyers[cat]
    out[9] = categorySeason[cat]
    out[10] = Double(origin - customers.last[c])
    out[11] = customers.days[c]
    out[12] = customers.monetary[c]
    out[13] = Double(origin - customers.first[c])
    out[14] = customers.last30[c]
    out[15] = customers.last90[c]
    out[16] = customerCategories[c]
    out[17] = purchases / max(1, customers.days[c])
    out[18] = statistical
    out[19] = history.returning
    out[20] = e / categoryMedianGap[cat]
    for j in 0..<Self.count where !out[j].isFinite { out[j] = .nan }
  }
}
