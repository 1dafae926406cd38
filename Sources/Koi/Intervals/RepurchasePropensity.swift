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
/// - Complexity: O(origins · (rows + pairs)) for the features, plus the
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

  /// Trains each window's trees on the rolling origins of `h`.
  static func fit(
    ledger: Ledger, histories h: PurchaseHistories, model: IntervalModel
  ) -> (trained: Trained, report: PropensityReport) {
    let asOf = h.asOfDay
    var dataStart = Int32.max
    for p in 0..<h.pairCount { dataStart = min(dataStart, h.firstDay[p]) }
    let q = PropensityFeatures.count
    // Each window's origins O_j, j = 0, 1, …, while they have enough history.
    let origins = windows.map { horizon in
      (0..<Self.origins).map { asOf - Int32(horizon) - originStep * Int32($0) }
        .prefix { $0 - dataStart >= minimumHistoryDays }
    }
    let keepBelow = origins.map { sampleThreshold(origins: $0, histories: h) }
    // Windows share origins (asOf − 120 is both 30 + 3·30 and 90 + 30):
    // each origin's customer aggregates are built once, for every window
    // training there, and dropped when its samples are drawn, so one
    // origin's aggregates (40 bytes a customer) are alive at a time. On
    // this thread: drawn concurrently, the origins took no less time at
    // 10M rows and their memory landed in glibc's per-thread arenas
    // (+5–25 MB peak).
    let distinct = Set(origins.joined()).sorted(by: >)
    let drawn = distinct.map { o in
      let customers = PropensityFeatures.Customers(ledger: ledger, origin: o)
      return windows.indices.map { w -> WindowRows.Sample? in
        guard origins[w].contains(o) else { return nil }
        let snapshot = PropensityFeatures(
          histories: h, customers: customers, model: model, origin: o, horizon: windows[w], dataStart: dataStart)
        return sample(snapshot, keepBelow: keepBelow[w])
      }
    }
    let rows = windows.indices.map { w in
      WindowRows(horizon: windows[w], samples: origins[w].map { drawn[distinct.firstIndex(of: $0)!][w]! })
    }
    // The windows' boosting concurrently: most of a fit is serial (split
    // search, partitions), and each fit is the same on any thread.
    let trained = Parallel.map(rows.count) { train(rows[$0]) }
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
    // The scoring rows' category columns over every pair, saved so that a
    // shard scored with the model gets the whole population's.
    let atAsOf = windows.map {
      PropensityFeatures.CategoryAggregates(
        histories: h, categoryCount: model.categories.count, origin: asOf, horizon: $0, dataStart: dataStart)
    }
    return (
      Trained(trees: windowTrees, dataStart: dataStart, asOfCategories: atAsOf),
      PropensityReport(windows: reports, features: PropensityFeatures.names, importance: importance)
    )
  }

  /// One window's training and held-out rows, its origins' samples in
  /// order, and the report's row counts.
  struct WindowRows {
    /// The rows sampled at one origin.
    struct Sample {
      var origin: Int32
      var train: [Double] = [], trainY: [Double] = [], held: [Double] = [], heldY: [Double] = []
    }

    var report: PropensityReport.Window
    var train: [Double] = [], trainY: [Double] = [], held: [Double] = [], heldY: [Double] = []

    init(horizon: Int, samples: [Sample]) {
      report = PropensityReport.Window(days: horizon)
      report.origins = samples.map { DayNumber.format($0.origin) }
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
  static func sampleThreshold(origins: ArraySlice<Int32>, histories h: PurchaseHistories) -> UInt64 {
    var total = 0
    for o in origins { for p in 0..<h.pairCount where h.firstDay[p] < o { total += 1 } }
    return total > maximumTrainingRows
      ? UInt64(Double(UInt32.max) * Double(maximumTrainingRows) / Double(total)) : UInt64(UInt32.max) + 1
  }

  /// The rows of `s`'s origin whose (customer, category, origin) hash is
  /// below `keepBelow`, in pair order; a customer in five is held out.
  ///
  /// - Complexity: O(pairs) for the sampling, O(rows · g log g) for the
  ///   sampled rows' features.
  static func sample(_ s: PropensityFeatures, keepBelow: UInt64) -> WindowRows.Sample {
    let h = s.histories
    var out = WindowRows.Sample(origin: s.origin)
    var row = [Double](repeating: 0, count: PropensityFeatures.count)
    var scratch: [Int32] = []
    for p in 0..<h.pairCount where h.firstDay[p] < s.origin {
      let c = UInt64(UInt32(bitPattern: h.pairCustomer[p]))
      let key =
        c &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(UInt32(bitPattern: h.pairCategory[p])) &* 0xC2B2_AE3D_27D4_EB4F
        ^ UInt64(UInt32(bitPattern: s.origin)) &* 0x1656_67B1_9E37_79F9
      guard (key >> 32) < keepBelow else { continue }
      guard let next = row.withUnsafeMutableBufferPointer({ s.row(pair: p, into: $0, scratch: &scratch) }) else {
        continue
      }
      let y: Double = next < s.origin &+ Int32(s.horizon) ? 1 : 0
      if ((c &* 0x9E37_79B9_7F4A_7C15) >> 32) % 5 == 0 {
        out.held += row; out.heldY.append(y)
      } else {
        out.train += row; out.trainY.append(y)
      }
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
    for (w, horizon) in windows.enumerated() {
      let boosted = trained.trees[w]
      let compiled = boosted.flatMap(CompiledTrees.init)
      let current = PropensityFeatures(
        histories: h, customers: customers, model: model, origin: h.asOfDay, horizon: horizon,
        dataStart: trained.dataStart, saved: trained.asOfCategories?[w])
      knots.withUnsafeMutableBufferPointer { knots in
        let n = h.pairCount
        Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n, minimumChunk: 8192)) { _, range in
          // Rows of the chunk's scored pairs, in pair order; each row's
          // prediction depends on that row alone.
          var rows = [Double](repeating: 0, count: range.count * q)
          var scored: [Int] = []
          scored.reserveCapacity(range.count)
          var scratch: [Int32] = []
          rows.withUnsafeMutableBufferPointer { rows in
            for p in range where bent[Int(h.pairCategory[p])] {
              let i = scored.count
              _ = current.row(
                pair: p, into: UnsafeMutableBufferPointer(rebasing: rows[(i * q)..<((i + 1) * q)]), scratch: &scratch)
              scored.append(p)
            }
          }
          rows.removeLast((range.count - scored.count) * q)
          let scores = boosted.map { compiled?.predict(features: rows) ?? $0.predict(features: rows, featureCount: q) }
          for (i, p) in scored.enumerated() { knots[stride * p + w] = scores?[i] ?? rows[i * q + statColumn] }
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
