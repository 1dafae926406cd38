import Foundation
import RealModule

/// The repurchase propensity model: P(a pair buys its category again within
/// h days), h = 30 and 90 (`windows`), learned from the run's own history by
/// rolling origins, and the knots that bend each pair's `NextPurchaseCurve`
/// (its 60-day probability lies on the bent curve between them).
///
/// For each h, training rows are the pairs at origins
/// `O_j = asOf − h − 30·j` (j = 0 … `origins` − 1, each with at least 60 days
/// of history before it), with `PropensityFeatures` from the purchases before
/// O_j and label "bought in [O_j, O_j + h)" — every label lies before the
/// as-of day. A customer in five (multiplicative hash of the customer index)
/// is held out; gradient-boosted trees (`GradientBoostedTrees`, log loss)
/// stop adding trees when the held-out log loss stops improving. The trees
/// are kept for h only when their held-out log loss is below that of the
/// interval model's own probability (feature `statistical_probability`) on
/// the same rows: the built-in backtest chooses, per run and per window.
///
/// Rows are capped at `maximumTrainingRows` per window by a deterministic
/// hash of (customer, category, origin), so the choice of rows never
/// depends on input order or thread count.
///
/// `fit` is three steps, so that a population split into parts by customer
/// (shards) trains exactly the whole population's trees without holding its
/// rows: `plan` from the whole population's histories (origins, sampling
/// thresholds, category columns), `draw` of each part (the rows the whole
/// population draws of the part's pairs, keyed by whole-population
/// customer and category), `merge` of the parts' draws into the whole
/// population's order, and `train` on them.
///
/// - Complexity: O(rows + origins · pairs) for the features, plus the
///   boosting: O(trees · training rows · features) per window.
enum RepurchasePropensity {
  /// The knot windows, days.
  static let windows = [30, 90]
  static let origins = 4
  static let originStep: Int32 = 30
  static let minimumHistoryDays: Int32 = 60
  static let maximumTrainingRows = 200_000
  static let minimumClassCount = 100

  /// Log loss, at most 400 trees of 31 leaves, learning rate 0.1 (half the
  /// trees of 0.05 for held-out AUC within 0.001 on CDNOW and Complete
  /// Journey), at least 50 rows a leaf, early stopping after 30 rounds
  /// without improvement.
  static let trees: GradientBoostedTrees.Options = {
    var o = GradientBoostedTrees.Options(objective: .logistic)
    o.learningRate = 0.1
    return o
  }()

  /// What scoring needs of the training: each window's trees (nil where
  /// the interval model's own probability won) and the first purchase day
  /// of the training data (a feature is measured from it).
  /// (Saved in model.json: `RepurchasePropensity+Codable.swift`.)
  struct Trained: Sendable, Equatable {
    var trees: [GradientBoostedTrees?]
    var dataStart: Int32
    /// Per window, the category columns of the scoring rows (origin = the
    /// as-of day) over the fitting population; nil in a model from before
    /// they were saved (scoring then computes them from the scored pairs).
    var asOfCategories: [PropensityFeatures.CategoryAggregates]? = nil
  }

  /// Trains each window's trees on the rolling origins of `h`: `plan`,
  /// `draw` of every pair, then `train`.
  static func fit(
    ledger: Ledger, histories h: PurchaseHistories, model: IntervalModel
  ) -> (trained: Trained, report: PropensityReport) {
    let plan = Self.plan(histories: h, model: model)
    return train(
      plan: plan, draws: draw(ledger: ledger, histories: h, globalCustomer: nil, model: model, plan: plan),
      histories: h, model: model)
  }

  /// What the draws of every part of a population share, from the whole
  /// population's histories: the first purchase day, each window's origins
  /// and sampling threshold, and the category columns at each origin. With
  /// them, a part's rows are the rows the whole run draws of its pairs.
  struct Plan: Sendable, Equatable {
    /// The first purchase day of any pair (a feature is measured from it).
    var dataStart: Int32
    /// Per window, its origins O_j, latest first (at most `origins`, each
    /// with `minimumHistoryDays` of history before it).
    var origins: [[Int32]]
    /// Per window, the hash threshold of its rows (`sampleThreshold`).
    var keepBelow: [UInt64]
    /// Every window's origins once, earliest first: the order in which a
    /// draw advances the customer aggregates.
    var distinctOrigins: [Int32]
    /// Per window and origin (indexed like `origins`), the category
    /// columns over the whole population.
    var categories: [[PropensityFeatures.CategoryAggregates]]
  }

  /// The plan of the population of `h` (the whole population, not a part).
  ///
  /// - Complexity: O(origins · (pairs + gaps)), O(origins · categories · 640)
  ///   for the median-gap histograms.
  static func plan(histories h: PurchaseHistories, model: IntervalModel) -> Plan {
    let asOf = h.asOfDay
    var dataStart = Int32.max
    for p in 0..<h.pairCount { dataStart = min(dataStart, h.firstDay[p]) }
    // Each window's origins O_j, j = 0, 1, …, while they have enough history.
    let origins = windows.map { horizon in
      Array(
        (0..<Self.origins).map { asOf - Int32(horizon) - originStep * Int32($0) }
          .prefix { $0 - dataStart >= minimumHistoryDays })
    }
    // Windows share origins (asOf − 120 is both 30 + 3·30 and 90 + 30).
    let distinct = Set(origins.joined()).sorted()
    // Every window's origins counted in one pass, then split by window.
    let counted = PropensityFeatures.CategoryAggregates.counted(
      histories: h, categoryCount: model.categories.count,
      windows: windows.indices.flatMap { w in origins[w].map { ($0, windows[w]) } }, dataStart: dataStart)
    var categories: [[PropensityFeatures.CategoryAggregates]] = [], next = 0
    for o in origins {
      categories.append(Array(counted[next..<(next + o.count)]))
      next += o.count
    }
    return Plan(
      dataStart: dataStart, origins: origins, keepBelow: origins.map { sampleThreshold(origins: $0, histories: h) },
      distinctOrigins: distinct, categories: categories)
  }

  /// The rows drawn from a population or a part of one: per window, per
  /// origin of `Plan.origins`, the sampled rows.
  struct Draws: Sendable, Equatable {
    var samples: [[WindowRows.Sample]]
  }

  /// The rows of `plan` drawn from the pairs of `h` (built from `ledger`,
  /// as of the whole population's as-of day, with the whole population's
  /// category indices). `globalCustomer` maps each customer of `ledger` to
  /// its index in the whole population (increasing); nil when `ledger` is
  /// the whole population. The sampling hash and the held-out customers
  /// use the whole population's customer index, so a part draws exactly
  /// the rows the whole population draws of its pairs, in the same order
  /// (`merge`).
  ///
  /// One set of customer aggregates (44 bytes a customer) is advanced
  /// through the origins, earliest first, each ledger row read once
  /// (`PropensityFeatures.Customers.advance`), and each origin's samples
  /// are drawn for every window training there before the next. On this
  /// thread: drawn concurrently, the origins took no less time at 10M rows
  /// and their memory landed in glibc's per-thread arenas (+5–25 MB peak).
  ///
  /// - Complexity: O(rows + origins · pairs), plus O(rows · g log g)
  ///   for the sampled rows' features.
  static func draw(
    ledger: Ledger, histories h: PurchaseHistories, globalCustomer: [Int32]?, model: IntervalModel, plan: Plan
  ) -> Draws {
    precondition(ledger.customerCount == h.customerCount, "histories of the ledger")
    precondition(globalCustomer.map { $0.count == h.customerCount } ?? true, "one global index per customer")
    var samples = plan.origins.map { $0.map { WindowRows.Sample(origin: $0) } }
    var customers = PropensityFeatures.Customers(customerCount: ledger.customerCount)
    for o in plan.distinctOrigins {
      customers.advance(to: o, ledger: ledger)
      // (The snapshots share the aggregates' arrays; each is gone before
      // the next `advance`, which therefore changes them in place.)
      for w in windows.indices {
        guard let j = plan.origins[w].firstIndex(of: o) else { continue }
        let snapshot = PropensityFeatures(
          histories: h, customers: customers, model: model, origin: o, horizon: windows[w],
          dataStart: plan.dataStart, saved: plan.categories[w][j])
        samples[w][j] = sample(snapshot, keepBelow: plan.keepBelow[w], globalCustomer: globalCustomer)
      }
    }
    return Draws(samples: samples)
  }

  /// The draws of the parts of a population (disjoint sets of customers,
  /// drawn with the same plan) as the whole population's draws: each
  /// sample's training and held-out rows in the order of their keys
  /// (customer, then category: the whole population's pair order).
  ///
  /// - Complexity: O(n log n) for the n rows of each sample.
  ///
  /// Each part's sample is released once merged, so the merge holds about
  /// one copy of the rows.
  static func merge(_ input: consuming [Draws]) -> Draws {
    var parts = consume input
    precondition(!parts.isEmpty, "at least one part")
    if parts.count == 1 { return parts[0] }
    var out = Draws(samples: parts[0].samples.map { $0.map { WindowRows.Sample(origin: $0.origin) } })
    for w in out.samples.indices {
      for j in out.samples[w].indices {
        let pieces = parts.indices.map { k -> WindowRows.Sample in
          let d = parts[k]
          precondition(
            d.samples.count == out.samples.count && d.samples[w].count == out.samples[w].count
              && d.samples[w][j].origin == out.samples[w][j].origin, "parts drawn with one plan")
          defer { parts[k].samples[w][j] = WindowRows.Sample(origin: d.samples[w][j].origin) }
          return d.samples[w][j]
        }
        var s = WindowRows.Sample(origin: out.samples[w][j].origin)
        (s.train, s.trainY, s.trainKey) = merged(pieces.map { ($0.train, $0.trainY, $0.trainKey) })
        (s.held, s.heldY, s.heldKey) = merged(pieces.map { ($0.held, $0.heldY, $0.heldKey) })
        out.samples[w][j] = s
      }
    }
    return out
  }

  /// The rows of `pieces` (rows of `PropensityFeatures.count` values, one
  /// label and one key each) in key order.
  ///
  /// - Precondition: no key is in two pieces.
  static func merged(_ pieces: [(rows: [Double], labels: [Double], keys: [UInt64])]) -> (
    rows: [Double], labels: [Double], keys: [UInt64]
  ) {
    let q = PropensityFeatures.count
    var order: [(key: UInt64, piece: Int, row: Int)] = []
    order.reserveCapacity(pieces.reduce(0) { $0 + $1.keys.count })
    for (i, piece) in pieces.enumerated() {
      precondition(piece.rows.count == q * piece.keys.count && piece.labels.count == piece.keys.count)
      for (r, key) in piece.keys.enumerated() { order.append((key, i, r)) }
    }
    order.sort { $0.key < $1.key }
    var rows: [Double] = [], labels: [Double] = [], keys: [UInt64] = []
    rows.reserveCapacity(order.count * q)
    labels.reserveCapacity(order.count)
    keys.reserveCapacity(order.count)
    for (n, o) in order.enumerated() {
      precondition(n == 0 || order[n - 1].key < o.key, "a pair in two parts")
      rows += pieces[o.piece].rows[(o.row * q)..<((o.row + 1) * q)]
      labels.append(pieces[o.piece].labels[o.row])
      keys.append(o.key)
    }
    return (rows, labels, keys)
  }

  /// Each window's trees on the rows `draws` (of the whole population, or
  /// merged from its parts with `merge`), and the report; the scoring rows'
  /// category columns from `h`, the whole population's histories.
  ///
  /// - Complexity: that of `train(_:)` for each window, plus
  ///   O(pairs + gaps) for each window's scoring aggregates.
  static func train(
    plan: Plan, draws: consuming Draws, histories h: PurchaseHistories, model: IntervalModel
  ) -> (trained: Trained, report: PropensityReport) {
    precondition(
      draws.samples.map { $0.map(\.origin) } == plan.origins, "draws of the plan's origins")
    let q = PropensityFeatures.count
    // The windows' rows at once: a copy into fresh pages, 44 ms of one
    // core on Complete Journey.
    let rows = Parallel.map(windows.count) { w in WindowRows(horizon: windows[w], samples: draws.samples[w]) }
    // The samples are copied into the windows' rows: drop them before the
    // boosting.
    _ = consume draws
    // The scoring rows' category columns over every pair, saved so that a
    // shard scored with the model gets the whole population's.
    let asOfAggregates = {
      PropensityFeatures.CategoryAggregates.counted(
        histories: h, categoryCount: model.categories.count, windows: windows.map { (h.asOfDay, $0) },
        dataStart: plan.dataStart)
    }
    // The windows' boosting concurrently (most of a fit is serial: split
    // search, partitions; each fit is the same on any thread), every window
    // after the first on a thread of its own, not in a `Parallel` chunk: a
    // dispatch_apply inside another runs serially, so each fit's parallel
    // kernels (histograms, gradients, held-out scoring) kept to one core,
    // and the longer fit's last rounds (at 10M rows 150 against 108) left
    // the other idle. The first window's fit, on this thread, has fewer
    // rounds at 10M rows; the category columns are counted after it.
    // While both fits run, their kernels may use up to twice as many
    // threads as cores; under `--threads` the windows go through `Parallel`
    // instead, which keeps to that many threads (each fit then on one).
    var trained: [(trees: GradientBoostedTrees?, report: PropensityReport.Window)]
    let atAsOf: [PropensityFeatures.CategoryAggregates]
    if Parallel.threadLimit == nil && Parallel.coreCount > 1 {
      let others = rows.dropFirst().map(WindowFit.init)
      trained = rows.prefix(1).map(train)
      atAsOf = asOfAggregates()
      trained += others.map { $0.wait() }
    } else {
      trained = Parallel.map(rows.count) { train(rows[$0]) }
      atAsOf = asOfAggregates()
    }
    var windowTrees: [GradientBoostedTrees?] = []
    var reports: [PropensityReport.Window] = []
    var gain = [Double](repeating: 0, count: q)
    for (boosted, report) in trained {
      if let boosted { for j in 0..<q { gain[j] += boosted.featureGain[j] } }
      windowTrees.append(boosted)
      reports.append(report)
    }
    let totalGain = gain.reduce(0, +)
    let importance =
      totalGain > 0
      ? zip(PropensityFeatures.names, gain).map {
        PropensityReport.Importance(feature: $0.0, share: rounded($0.1 / totalGain, 4))
      }
      .sorted { $0.share > $1.share }
      : []
    return (
      Trained(trees: windowTrees, dataStart: plan.dataStart, asOfCategories: atAsOf),
      PropensityReport(windows: reports, features: PropensityFeatures.names, importance: importance)
    )
  }

  /// One window's `train(_:)` on a thread of its own, started by `init`;
  /// `wait` returns its result. The rows are read by that thread alone.
  private final class WindowFit: @unchecked Sendable {
    private var result: (trees: GradientBoostedTrees?, report: PropensityReport.Window)?
    private let done = DispatchSemaphore(value: 0)

    init(_ rows: WindowRows) {
      Thread { [self] in
        result = RepurchasePropensity.train(rows)
        done.signal()
      }
      .start()
    }

    func wait() -> (trees: GradientBoostedTrees?, report: PropensityReport.Window) {
      done.wait()
      // Set before the signal that `wait` has just received.
      guard let result else { preconditionFailure("a window's fit signalled without a result") }
      return result
    }
  }

  /// One window's training and held-out rows, its origins' samples in
  /// order, and the report's row counts.
  struct WindowRows {
    /// The rows sampled at one origin: features (`PropensityFeatures.count`
    /// a row), labels and each row's key (`pairKey`), training and held-out.
    struct Sample: Sendable, Equatable {
      var origin: Int32
      var train: [Double] = [], trainY: [Double] = [], trainKey: [UInt64] = []
      var held: [Double] = [], heldY: [Double] = [], heldKey: [UInt64] = []

      /// Bit for bit: the same rows, NaN equal to NaN.
      static func == (a: Self, b: Self) -> Bool {
        func same(_ x: [Double], _ y: [Double]) -> Bool {
          x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
        }
        return a.origin == b.origin && same(a.train, b.train) && same(a.trainY, b.trainY) && a.trainKey == b.trainKey
          && same(a.held, b.held) && same(a.heldY, b.heldY) && a.heldKey == b.heldKey
      }
    }

    var report: PropensityReport.Window
    var train: [Double] = [], trainY: [Double] = [], held: [Double] = [], heldY: [Double] = []

    init(horizon: Int, samples: [Sample]) {
      report = PropensityReport.Window(days: horizon)
      report.origins = samples.map { DayNumber.format($0.origin) }
      // Made room for once: grown by appending, the arrays were copied
      // at each doubling into fresh pages (the heap's peak grows here) for
      // 0.12 s on one core at 10M rows.
      func total(_ part: (Sample) -> [Double]) -> Int { samples.reduce(0) { $0 + part($1).count } }
      train.reserveCapacity(total(\.train))
      trainY.reserveCapacity(total(\.trainY))
      held.reserveCapacity(total(\.held))
      heldY.reserveCapacity(total(\.heldY))
      for s in samples {
        train += s.train
        trainY += s.trainY
        held += s.held
        heldY += s.heldY
      }
      report.trainingRows = trainY.count
      report.heldOutRows = heldY.count
      report.trainingPositives = Int(trainY.reduce(0, +))
    }
  }

  /// The hash threshold that samples at most `maximumTrainingRows` of a
  /// window's rows: one row per pair with a purchase before each origin.
  ///
  /// - Complexity: O(origins · pairs).
  static func sampleThreshold(origins: [Int32], histories h: PurchaseHistories) -> UInt64 {
    var total = 0
    for o in origins { for p in 0..<h.pairCount where h.firstDay[p] < o { total += 1 } }
    return total > maximumTrainingRows
      ? UInt64(Double(UInt32.max) * Double(maximumTrainingRows) / Double(total)) : UInt64(UInt32.max) + 1
  }

  /// The key of a row: the pair's customer (index in the whole population)
  /// and category, in the order of the whole population's pairs.
  @inline(__always)
  static func pairKey(customer: Int32, category: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: customer)) << 32 | UInt64(UInt32(bitPattern: category))
  }

  /// The rows of `s`'s origin whose (customer, category, origin) hash is
  /// below `keepBelow`, in pair order; a customer in five is held out. The
  /// customer is `globalCustomer[c]` for customer `c` of `s` (c itself
  /// when nil).
  ///
  /// Each row depends on its pair alone, so fixed chunks of pairs are
  /// drawn in parallel and joined in chunk order: the rows of one pass in
  /// pair order. Chunks of 8,192 pairs or more, 32 at most: with 65,536,
  /// CDNOW's 23,502 pairs were one chunk, and its 8 samples 70 ms of one
  /// core; at 10M rows (2.2M pairs) they are 32 chunks, about as before.
  ///
  /// - Complexity: O(pairs) for the sampling, O(rows · g log g) for the
  ///   sampled rows' features.
  static func sample(_ s: PropensityFeatures, keepBelow: UInt64, globalCustomer: [Int32]?) -> WindowRows.Sample {
    let h = s.histories
    let chunks = Parallel.chunkCount(for: h.pairCount, minimumChunk: 8192, maximumChunks: 32)
    let parts = Parallel.map(chunks) { chunk in
      var out = WindowRows.Sample(origin: s.origin)
      var row = [Double](repeating: 0, count: PropensityFeatures.count)
      var scratch: [Int32] = []
      for p in Parallel.chunk(chunk, of: chunks, count: h.pairCount) where h.firstDay[p] < s.origin {
        let customer = globalCustomer.map { $0[Int(h.pairCustomer[p])] } ?? h.pairCustomer[p]
        let category = h.pairCategory[p]
        let c = UInt64(UInt32(bitPattern: customer))
        let key =
          c &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt32(bitPattern: category)) &* 0xC2B2_AE3D_27D4_EB4F
          ^ UInt64(UInt32(bitPattern: s.origin)) &* 0x1656_67B1_9E37_79F9
        guard (key >> 32) < keepBelow else { continue }
        guard let next = row.withUnsafeMutableBufferPointer({ s.row(pair: p, into: $0, scratch: &scratch) }) else {
          continue
        }
        let y: Double = next < s.origin &+ Int32(s.horizon) ? 1 : 0
        if ((c &* 0x9E37_79B9_7F4A_7C15) >> 32) % 5 == 0 {
          out.held += row; out.heldY.append(y); out.heldKey.append(pairKey(customer: customer, category: category))
        } else {
          out.train += row; out.trainY.append(y); out.trainKey.append(pairKey(customer: customer, category: category))
        }
      }
      return out
    }
    guard parts.count > 1 else { return parts[0] }
    var out = WindowRows.Sample(origin: s.origin)
    for part in parts {
      out.train += part.train; out.trainY += part.trainY; out.trainKey += part.trainKey
      out.held += part.held; out.heldY += part.heldY; out.heldKey += part.heldKey
    }
    return out
  }

  /// One window's trees, kept only when they beat the interval model's own
  /// probability on the held-out rows (nil otherwise, or when a class has
  /// too few rows), and its report.
  ///
  /// - Complexity: that of `GradientBoostedTrees.fit` on the rows.
  static func train(_ rows: WindowRows) -> (trees: GradientBoostedTrees?, report: PropensityReport.Window) {
    let q = PropensityFeatures.count
    let statColumn = PropensityFeatures.statisticalProbability
    var report = rows.report
    let positives = report.trainingPositives
    guard positives >= minimumClassCount, rows.trainY.count - positives >= minimumClassCount, !rows.heldY.isEmpty
    else { return (nil, report) }
    let fitted = GradientBoostedTrees.fit(
      features: rows.train, featureCount: q, labels: rows.trainY, options: trees,
      validation: (rows.held, rows.heldY))
    let predicted = fitted.predict(features: rows.held, featureCount: q)
    var lossBoosted = 0.0, lossStatistical = 0.0, compared = 0.0
    for i in rows.heldY.indices {
      let s = rows.held[i * q + statColumn]
      guard s.isFinite else { continue }
      lossBoosted += logLoss(predicted[i], rows.heldY[i])
      lossStatistical += logLoss(s, rows.heldY[i])
      compared += 1
    }
    report.trees = fitted.treeCount
    if compared > 0 {
      report.heldOutLogLossBoosted = lossBoosted / compared
      report.heldOutLogLossStatistical = lossStatistical / compared
    }
    guard compared == 0 || lossBoosted <= lossStatistical else { return (nil, report) }
    report.chosen = "boosted"
    return (fitted, report)
  }

  /// Scores every pair of `h` as of its as-of day with the trained windows:
  /// `windows.count × pairCount` knots (pair-major; NaN for a pair with no
  /// probability), in fixed chunks. Pairs of one-off categories (basis
  /// `oneOff` in `model`, indexed like `h.pairCategory`) get NaN without
  /// being scored: `IntervalStage.score` gives them status `one_off` and
  /// never reads their knots.
  ///
  /// A pair's rows of the windows differ only in their horizon's columns:
  /// its history part (gaps, their sort, the model's predictive and return
  /// probability) is computed once for both (`PropensityFeatures.history`),
  /// a block of pairs at a time, so the block's rows stay in cache for the
  /// trees.
  ///
  /// - Complexity: O(pairs · (features · log thresholds + Σ tree depths)).
  static func knots(
    ledger: Ledger, histories h: PurchaseHistories, model: IntervalModel, trained: Trained
  ) -> [Double] {
    let q = PropensityFeatures.count
    let statColumn = PropensityFeatures.statisticalProbability
    let stride = windows.count
    var knots = [Double](repeating: .nan, count: stride * h.pairCount)
    let bent = model.categories.map { $0.basis != .oneOff }
    let customers = PropensityFeatures.Customers(ledger: ledger, origin: h.asOfDay)
    let current = windows.indices.map { w in
      PropensityFeatures(
        histories: h, customers: customers, model: model, origin: h.asOfDay, horizon: windows[w],
        dataStart: trained.dataStart, saved: trained.asOfCategories?[w])
    }
    let compiled = trained.trees.map { $0.flatMap(CompiledTrees.init) }
    // Pairs whose rows are built and scored together.
    let block = 4096
    knots.withUnsafeMutableBufferPointer { knots in
      let n = h.pairCount
      Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n, minimumChunk: 8192)) { _, range in
        // The block's scored pairs and their histories, in pair order, then
        // each window's rows of them in turn; each row's prediction depends
        // on that row alone.
        var scored: [Int] = []
        scored.reserveCapacity(block)
        var pairHistories = [PropensityFeatures.PairHistory?](repeating: nil, count: block)
        var rows = [Double](repeating: 0, count: block * q)
        var scratch: [Int32] = []
        let first = current[0]
        for start in Swift.stride(from: range.lowerBound, to: range.upperBound, by: block) {
          scored.removeAll(keepingCapacity: true)
          for p in start..<min(start + block, range.upperBound) where bent[Int(h.pairCategory[p])] {
            pairHistories[scored.count] = first.history(pair: p, scratch: &scratch)
            scored.append(p)
          }
          for (w, features) in current.enumerated() {
            rows.withUnsafeMutableBufferPointer { rows in
              for (i, p) in scored.enumerated() {
                let out = UnsafeMutableBufferPointer(rebasing: rows[(i * q)..<((i + 1) * q)])
                // (No history: no purchase before the as-of day, which a
                // pair of `h` always has; its row would be zeros.)
                if let history = pairHistories[i] {
                  features.row(pair: p, history: history, into: out)
                } else {
                  out.update(repeating: 0)
                }
              }
            }
            let scores = trained.trees[w].map { boosted in
              rows.withUnsafeBufferPointer { all in
                let x = UnsafeBufferPointer(rebasing: all[0..<(scored.count * q)])
                guard let compiled = compiled[w] else {
                  return boosted.predict(features: Array(x), featureCount: q)
                }
                var out = [Double](repeating: 0, count: scored.count)
                out.withUnsafeMutableBufferPointer { compiled.predict(features: x, into: $0) }
                return out
              }
            }
            for (i, p) in scored.enumerated() { knots[stride * p + w] = scores?[i] ?? rows[i * q + statColumn] }
          }
        }
      }
    }
    return knots
  }

  static func logLoss(_ p: Double, _ y: Double) -> Double {
    let c = min(1 - 1e-6, max(1e-6, p))
    return y > 0.5 ? -Double.log(c) : -Double.log(onePlus: -c)
  }
}

/// model.json `intervals.propensity`: how each window's probabilities were
/// obtained. The trees themselves are saved beside it, in
/// `intervals.propensity_trees`.
public struct PropensityReport: Codable, Sendable, Equatable {
  struct Window: Codable, Sendable, Equatable {
    public var days: Int
    /// The origins the training rows were taken at (`YYYY-MM-DD`).
    var origins: [String] = []
    var trainingRows = 0
    var trainingPositives = 0
    var heldOutRows = 0
    /// Trees kept after early stopping (0: not trained).
    public var trees = 0
    /// Mean held-out log loss of the trees and of the interval model's own
    /// probability, over held-out rows where the interval model has one.
    var heldOutLogLossBoosted: Double?
    var heldOutLogLossStatistical: Double?
    /// `boosted` or `statistical`.
    public var chosen = "statistical"

    init(days: Int) { self.days = days }
  }

  struct Importance: Codable, Sendable, Equatable {
    public var feature: String
    /// Share of the total split gain over the windows that chose the trees.
    public var share: Double
  }

  var windows: [Window]
  public var features: [String]
  var importance: [Importance]
}
