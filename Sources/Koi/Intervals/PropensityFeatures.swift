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
  ///
  /// Built once and advanced from origin to origin in ascending order
  /// (`advance(to:ledger:)`): each customer's rows before the new origin
  /// are those before the old one and the rows since, so its sums, first
  /// and last days and distinct days continue where they stopped, over the
  /// same rows in the same order as a scan from the customer's first row
  /// (the same bits), and every origin reads each ledger row once instead
  /// of the whole ledger once per origin. Only the counts of the last 30
  /// and 90 days are each origin's own: they are counted again from the
  /// customer's rows in the 90 days before it.
  struct Customers {
    var first: [Int32]
    var last: [Int32]
    var days: [Double]
    var monetary: [Double]
    var last30: [Double]
    var last90: [Double]
    /// The origin the aggregates are as of (`Int32.min` before the first).
    private(set) var origin = Int32.min
    /// Per customer, how many of its ledger rows (from its first) are
    /// aggregated: those before `origin`.
    private var consumed: [Int32]

    /// The aggregates as of origin `o`: `init(customerCount:)` advanced to `o`.
    ///
    /// - Complexity: O(rows of the ledger before the origin).
    init(ledger: Ledger, origin o: Int32, minimumChunk: Int = 32_768) {
      self.init(customerCount: ledger.customerCount)
      advance(to: o, ledger: ledger, minimumChunk: minimumChunk)
    }

    /// The aggregates of `customerCount` customers before any row.
    init(customerCount n: Int) {
      first = [Int32](repeating: Int32.max, count: n)
      last = [Int32](repeating: Int32.min, count: n)
      days = [Double](repeating: 0, count: n)
      monetary = days
      last30 = days
      last90 = days
      consumed = [Int32](repeating: 0, count: n)
    }

    /// Moves the aggregates to origin `o` (not before the current one),
    /// adding each customer's rows in `[origin, o)`.
    ///
    /// `monetary` is the customer's amounts summed in row order from its
    /// first row, a purchase day counts once (`last` is the latest counted),
    /// and `last30`/`last90` count the distinct purchase days in
    /// `[o − 30, o)` and `[o − 90, o)`, read backwards from `o`. Each
    /// customer's aggregates are its own rows', so customers are advanced
    /// in parallel chunks with the same result on any thread count.
    /// `minimumChunk`: customers a chunk at least (tests set it low to run
    /// several chunks on small data).
    ///
    /// - Complexity: O(rows in `[origin, o)` + rows in `[o − 90, o)`).
    mutating func advance(to o: Int32, ledger: Ledger, minimumChunk: Int = 32_768) {
      precondition(o >= origin, "origins in ascending order")
      let n = first.count
      precondition(ledger.customerCount == n, "the ledger of the aggregates")
      origin = o
      first.withUnsafeMutableBufferPointer { first in
        last.withUnsafeMutableBufferPointer { last in
          days.withUnsafeMutableBufferPointer { days in
            monetary.withUnsafeMutableBufferPointer { monetary in
              last30.withUnsafeMutableBufferPointer { last30 in
                last90.withUnsafeMutableBufferPointer { last90 in
                  consumed.withUnsafeMutableBufferPointer { consumed in
                    Parallel.forEachChunk(
                      count: n, chunkCount: Parallel.chunkCount(for: n, minimumChunk: minimumChunk)
                    ) { _, range in
                      for c in range {
                        let rows = ledger.rows(of: c)
                        var i = rows.lowerBound + Int(consumed[c])
                        // The latest purchase day counted is `last` (Int32.min: none).
                        var previous = last[c]
                        while i < rows.upperBound {
                          let d = ledger.day[i], amount = ledger.amount[i]
                          if d >= o { break }  // rows are sorted by day within a customer
                          i += 1
                          monetary[c] += amount
                          guard isPurchase(amount) else { continue }
                          if first[c] == Int32.max { first[c] = d }
                          last[c] = d
                          if d != previous {
                            days[c] += 1
                            previous = d
                          }
                        }
                        consumed[c] = Int32(i - rows.lowerBound)
                        // The distinct purchase days of the last 90 days, latest first.
                        var in30 = 0.0, in90 = 0.0
                        previous = Int32.max
                        var j = i
                        while j > rows.lowerBound {
                          j -= 1
                          let d = ledger.day[j]
                          if d < o - 90 { break }
                          guard isPurchase(ledger.amount[j]), d != previous else { continue }
                          in90 += 1
                          if d >= o - 30 { in30 += 1 }
                          previous = d
                        }
                        last30[c] = in30
                        last90[c] = in90
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
    /// `horizon` days: `CategoryAggregates.counted` for this one window.
    init(
      histories h: PurchaseHistories, categoryCount k: Int, origin o: Int32, horizon: Int, dataStart: Int32,
      minimumChunk: Int = 65_536
    ) {
      self =
        Self.counted(
          histories: h, categoryCount: k, windows: [(o, horizon)], dataStart: dataStart, minimumChunk: minimumChunk)[0]
    }

    /// The aggregates of every pair of `h` for each window (its origin and
    /// horizon in days), counted in one pass over the pairs and gaps.
    ///
    /// Each window's counts are counts of purchase days, first days and
    /// gaps on either side of its origin, its window start and its
    /// season's bounds. A pass therefore counts each purchase day once,
    /// by category and by the slot between two consecutive bounds of all
    /// windows (`Bounds`), and each gap once by category, by the first
    /// origin after it and by median bin; a window's counts are then sums
    /// over slots. Only whether a pair bought inside a window depends on
    /// the pair's days together: a pair keeps the slots it bought in as a
    /// bit set. Every sum is a count, so the pairs are counted in parallel
    /// chunks, in integers, and the chunks' counts added: exact, whatever
    /// the chunking and the number of windows (the rate and season are then
    /// the same quotients as counting each window alone). `minimumChunk`:
    /// pairs a chunk at least (tests set it low to run several chunks on
    /// small data).
    ///
    /// - Complexity: O(pairs · windows + gaps) integer work, O(categories ·
    ///   origins · 640) for the median-gap histograms.
    static func counted(
      histories h: PurchaseHistories, categoryCount k: Int, windows: [(origin: Int32, horizon: Int)],
      dataStart: Int32, minimumChunk: Int = 65_536
    ) -> [CategoryAggregates] {
      // A pair's slots are a 64-bit set: at most 4 bounds a window.
      guard windows.count <= Bounds.maximumWindows else {
        return stride(from: 0, to: windows.count, by: Bounds.maximumWindows).flatMap {
          counted(
            histories: h, categoryCount: k,
            windows: Array(windows[$0..<min(windows.count, $0 + Bounds.maximumWindows)]), dataStart: dataStart,
            minimumChunk: minimumChunk)
        }
      }
      guard !windows.isEmpty else { return [] }
      let bins = PropensityFeatures.medianBins
      let b = Bounds(windows: windows, dataStart: dataStart)
      let m = windows.count, slots = b.slotCount, origins = b.origins.count
      let lastOrigin = b.origins[origins - 1]
      /// One chunk's counts, by category: purchase days and first days by
      /// slot, gaps by the first origin after them and by median bin, and
      /// per window the pairs that bought inside it.
      struct Counts {
        var days: [Int], firsts: [Int], bought: [Int]
        var gapHistogram: [Int32]
      }
      // At most 8 chunks: each holds a histogram of every category and origin.
      let chunks = Parallel.chunkCount(for: h.pairCount, minimumChunk: minimumChunk, maximumChunks: 8)
      let parts = Parallel.map(chunks) { chunk in
        var n = Counts(
          days: [Int](repeating: 0, count: k * slots), firsts: [Int](repeating: 0, count: k * slots),
          bought: [Int](repeating: 0, count: k * m),
          gapHistogram: [Int32](repeating: 0, count: k * origins * bins))
        n.days.withUnsafeMutableBufferPointer { days in
          n.firsts.withUnsafeMutableBufferPointer { firsts in
            n.bought.withUnsafeMutableBufferPointer { bought in
              n.gapHistogram.withUnsafeMutableBufferPointer { histogram in
                for p in Parallel.chunk(chunk, of: chunks, count: h.pairCount) {
                  var d = h.firstDay[p]
                  guard d < lastOrigin else { continue }
                  let cat = Int(h.pairCategory[p])
                  let first = b.slot(d)
                  firsts[cat * slots + first] += 1
                  days[cat * slots + first] += 1
                  var boughtIn: UInt64 = 1 << first
                  for g in h.gapStart[p]..<h.gapStart[p + 1] {
                    let gap = h.gaps[g]
                    let next = d &+ gap
                    if next >= lastOrigin { break }
                    d = next
                    let s = b.slot(d)
                    days[cat * slots + s] += 1
                    boughtIn |= 1 << s
                    histogram[(cat * origins + b.originAfter[s]) * bins + PropensityFeatures.bin(gap)] &+= 1
                  }
                  for w in 0..<m where first <= b.windowStart[w] && boughtIn & b.windowSlots[w] != 0 {
                    bought[cat * m + w] += 1
                  }
                }
              }
            }
          }
        }
        return n
      }
      var n = parts[0]
      for part in parts.dropFirst() {
        for i in n.days.indices { n.days[i] += part.days[i] }
        for i in n.firsts.indices { n.firsts[i] += part.firsts[i] }
        for i in n.bought.indices { n.bought[i] += part.bought[i] }
        for i in n.gapHistogram.indices { n.gapHistogram[i] &+= part.gapHistogram[i] }
      }
      /// Σ of `values[c * width + i]` for `i` in `range`.
      func sum(_ values: [Int], _ c: Int, _ width: Int, _ range: Range<Int>) -> Int {
        range.reduce(0) { $0 + values[c * width + $1] }
      }
      return (0..<m).map { w in
        let o = b.originIndex[w], horizon = Double(windows[w].horizon)
        let medianGap = (0..<k).map { c -> Double in
          // The category's gaps before origin `o`, by bin.
          let histogram = (0..<bins).map { bin in
            (0...o).reduce(0) { $0 + Int(n.gapHistogram[(c * origins + $1) * bins + bin]) }
          }
          let total = histogram.reduce(0, +)
          guard total > 0 else { return .nan }
          var cumulative = 0
          for bin in 0..<bins {
            cumulative += histogram[bin]
            if 2 * cumulative >= total { return PropensityFeatures.binCenter(bin) }
          }
          return PropensityFeatures.binCenter(bins - 1)
        }
        let rate = (0..<k).map { c -> Double in
          let exposed = sum(n.firsts, c, slots, 0..<(b.windowStart[w] + 1))
          return exposed > 0 ? Double(n.bought[c * m + w]) / Double(exposed) : .nan
        }
        let buyers = (0..<k).map { c in Double.log(onePlus: Double(sum(n.firsts, c, slots, 0..<(b.originSlot[w] + 1))))
        }
        let season = (0..<k).map { c -> Double in
          guard let year = b.year[w] else { return .nan }
          let all = sum(n.days, c, slots, year.all), window = sum(n.days, c, slots, year.window)
          return all > 0 ? Double(window) * 365 / horizon / Double(all) : .nan
        }
        return CategoryAggregates(medianGap: medianGap, rate: rate, buyers: buyers, season: season)
      }
    }

    /// The bounds of windows counted together, sorted: every origin `o`,
    /// window start `o − horizon` and, with a year of data before `o`,
    /// season start `o − 365` and season end `o − 365 + horizon`. Slot
    /// `s` holds the days with `s` bounds at or before them, so day `d` is
    /// before bound `bounds[i]` exactly when `slot(d) ≤ i`.
    struct Bounds {
      /// At most 15 windows: 61 slots fit a pair's 64-bit set.
      static let maximumWindows = 15
      let bounds: [Int32]
      var slotCount: Int { bounds.count + 1 }
      /// The distinct origins, ascending.
      let origins: [Int32]
      /// Per slot, the index of the first origin after its days (an origin
      /// is a bound, so one slot's days share it).
      let originAfter: [Int]
      /// Per window, the index of its origin in `origins` and in `bounds`,
      /// and of its window start in `bounds`.
      let originIndex: [Int], originSlot: [Int], windowStart: [Int]
      /// Per window, the slots of the days in `[o − horizon, o)`.
      let windowSlots: [UInt64]
      /// Per window with a year of data before its origin, the slots of
      /// its season's days, `[o − 365, o)`, and of the season's window,
      /// `[o − 365, min(o − 365 + horizon, o))`.
      let year: [(all: Range<Int>, window: Range<Int>)?]
      /// `slot(d)` for `d` in `bounds.first ... bounds.last`.
      private let slots: [UInt8]

      init(windows: [(origin: Int32, horizon: Int)], dataStart: Int32) {
        precondition(!windows.isEmpty && windows.count <= Self.maximumWindows)
        func hasYear(_ o: Int32) -> Bool { o - 365 >= dataStart }
        var all = Set<Int32>()
        for (o, horizon) in windows {
          all.formUnion([o, o - Int32(horizon)])
          if hasYear(o) { all.formUnion([o - 365, min(o - 365 + Int32(horizon), o)]) }
        }
        let bounds = all.sorted()
        self.bounds = bounds
        let origins = Set(windows.map(\.origin)).sorted()
        self.origins = origins
        let index = Dictionary(uniqueKeysWithValues: bounds.enumerated().map { ($1, $0) })
        originIndex = windows.map { w in origins.firstIndex(of: w.origin)! }  // from `origins`
        originSlot = windows.map { index[$0.origin]! }  // a bound
        windowStart = windows.map { index[$0.origin - Int32($0.horizon)]! }  // a bound
        // Days in [bounds[i], bounds[j]) are the slots i + 1 ... j.
        func range(_ from: Int32, _ to: Int32) -> Range<Int> { (index[from]! + 1)..<(index[to]! + 1) }  // bounds
        windowSlots = windows.map { w in
          range(w.origin - Int32(w.horizon), w.origin).reduce(UInt64(0)) { $0 | 1 << $1 }
        }
        year = windows.map { w in
          guard hasYear(w.origin) else { return nil }
          let start = w.origin - 365
          return (range(start, w.origin), range(start, min(start + Int32(w.horizon), w.origin)))
        }
        originAfter = (0...bounds.count).map { s in origins.firstIndex { index[$0]! >= s } ?? origins.count }
        var slots: [UInt8] = []
        var s = 0
        for d in bounds[0]...bounds[bounds.count - 1] {
          while s < bounds.count && bounds[s] <= d { s += 1 }
          slots.append(UInt8(s))
        }
        self.slots = slots
      }

      /// The slot of day `d`.
      @inline(__always)
      func slot(_ d: Int32) -> Int {
        if d < bounds[0] { return 0 }
        if d >= bounds[bounds.count - 1] { return bounds.count }
        return Int(slots[Int(d - bounds[0])])
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
