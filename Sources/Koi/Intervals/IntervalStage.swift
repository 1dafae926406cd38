import RealModule

/// The repurchase-interval stage (复购周期): when each customer is due for
/// each treatment category, with uncertainty.
///
/// `fit` learns one interval distribution per category (`IntervalModel`);
/// `score` turns it into per (customer, category) predictions
/// (`IntervalColumns`). Splitting the two lets a backtest fit on a
/// calibration window and score a holdout.
public struct IntervalStage: Sendable {
  public var options: IntervalOptions
  /// The due lists of due.json (`--due-within`, `--due-min-probability`,
  /// `--due-limit`).
  public var due: DueListOptions

  public init(_ options: IntervalOptions = IntervalOptions(), due: DueListOptions = DueListOptions()) {
    self.options = options
    self.due = due
  }

  /// What `koi score` ships and `koi backtest` measures, in one call: the
  /// histories as of `table.asOfDay`, the standard covariates
  /// (`IntervalCovariates.standard`), the fit, the propensity model when
  /// `options.propensity` is on, and the scores.
  ///
  /// - Complexity: that of `fit` and `score`, plus the propensity model's.
  public static func run(
    ledger: Ledger, table: CustomerTable, options: IntervalOptions = IntervalOptions()
  ) -> (model: IntervalModel, columns: IntervalColumns) {
    run(
      ledger: ledger, table: table, histories: PurchaseHistories(ledger: ledger, asOfDay: table.asOfDay),
      options: options)
  }

  /// `run` on histories already built (as of `table.asOfDay`).
  static func run(
    ledger: Ledger, table: CustomerTable, histories: PurchaseHistories, options: IntervalOptions
  ) -> (model: IntervalModel, columns: IntervalColumns) {
    let stage = IntervalStage(options)
    let statistics = IntervalStatistics(batch: StageBatch(ledger: ledger, table: table), histories: histories)
    let fitted = stage.fit(statistics)
    return (fitted.model, stage.columns(statistics, fitted: fitted))
  }

  /// The interval model and, with `options.propensity`, the trees.
  func fit(_ s: IntervalStatistics) -> IntervalFit {
    let covariates = IntervalCovariates.standard(table: s.batch.table)
    var model = Self.fit(
      histories: s.histories, categoryNames: s.batch.ledger.categories, options: options, covariates: covariates)
    var trained: RepurchasePropensity.Trained?
    if options.propensity {
      (trained, model.propensity) = RepurchasePropensity.fit(
        ledger: s.batch.ledger, histories: s.histories, model: model)
    }
    return IntervalFit(model: model, propensity: trained)
  }

  /// Every pair's predictions as of the statistics' as-of day.
  func columns(_ s: IntervalStatistics, fitted: IntervalFit) -> IntervalColumns {
    let knots = fitted.propensity.map {
      RepurchasePropensity.knots(ledger: s.batch.ledger, histories: s.histories, model: fitted.model, trained: $0)
    }
    return Self.score(
      histories: s.histories, categoryNames: s.batch.ledger.categories, model: fitted.model,
      covariates: IntervalCovariates.standard(table: s.batch.table), knots: knots)
  }

  /// Fits the per-category interval model on `ledger` as of `table.asOfDay`.
  ///
  /// Per category, in this order:
  /// 1. **One-off by share**: at least `oneOffMinimumExposedPairs` customers
  ///    bought it `oneOffExposureDays` or more before the as-of day and fewer
  ///    than `oneOffRepeatShare` of them bought it again ⇒ `.oneOff`.
  /// 2. **Fitted**: at least `minimumGapsForFit` observed gaps ⇒ censored
  ///    Weibull and log-normal AFT fits by maximum likelihood
  ///    (`IntervalRegression`), intercept only, each with a return
  ///    probability π unless `fitReturnProbability` is off; the family with
  ///    the larger log-likelihood is chosen (same parameter count). With `covariates`, the chosen family is
  ///    refitted with them and they are kept when AIC improves
  ///    (2·Δlog L > 2·columns) and they hold out (`covariatesHoldOut`). Then the empirical-Bayes variance components
  ///    (`IntervalShrinkage`). A fitted median gap above `oneOffMedianDays`
  ///    ⇒ `.oneOff`.
  /// 3. **Prior**: fewer gaps and a prior for the category name ⇒ `.prior`.
  /// 4. **Pooled**: the remaining categories together, when they have
  ///    enough gaps (`poolSmallCategories`) ⇒ `.pooled`.
  /// 5. Otherwise `.insufficientData` (no prediction).
  ///
  /// - Complexity: O(rows) to build the histories. The two intercept-only
  ///   fits work on one weighted observation per distinct (whole-day length,
  ///   censored or not), so they cost O(gaps + customers) once plus
  ///   O(distinct lengths) per Newton iteration. The covariate fit costs
  ///   O(n · p²) per iteration (n = gaps + customers in the category,
  ///   p = covariates + 2), warm-started, parallel over observations.
  ///   Shrinkage components O(gaps).
  public static func fit(
    ledger: Ledger, table: CustomerTable, options: IntervalOptions = IntervalOptions(),
    covariates: IntervalCovariates? = nil
  ) -> IntervalModel {
    let histories = PurchaseHistories(ledger: ledger, asOfDay: table.asOfDay)
    return fit(histories: histories, categoryNames: ledger.categories, options: options, covariates: covariates)
  }

  /// `fit` on histories already built.
  public static func fit(
    histories h: PurchaseHistories, categoryNames: [String], options: IntervalOptions = IntervalOptions(),
    covariates: IntervalCovariates? = nil
  ) -> IntervalModel {
    if let cov = covariates {
      precondition(cov.values.rows == h.customerCount, "one covariate row per customer")
    }
    let k = categoryNames.count
    let grouping = CategoryGrouping(histories: h, categoryCount: k, exposureDays: options.oneOffExposureDays)
    var models: [CategoryIntervalModel] = []
    models.reserveCapacity(k)
    var fitted: [Int] = []
    for cat in 0..<k {
      var m = unfittedModel(cat, name: categoryNames[cat], grouping: grouping)
      if grouping.exposed[cat] >= options.oneOffMinimumExposedPairs,
        let share = m.repeatShare, share < options.oneOffRepeatShare
      {
        m.basis = .oneOff
      } else if m.gapCount >= options.minimumGapsForFit {
        fitted.append(cat)  // below, all at once
      } else if let days = options.priors[m.name], days > 0, days.isFinite {
        m.basis = .prior
        m.family = .logNormal
        m.priorDays = days
        m.coefficients = [Double.log(days)]
        m.coefficientStandardErrors = [nil]
        m.logScale = Double.log(options.priorLogScale)
        m.medianGapDays = days
        m.meanGapDays = IntervalFamily.logNormal.meanDays(location: Double.log(days), scale: options.priorLogScale)
        m.shrinkageRatio = options.defaultShrinkageRatio
        m.shrinkageCenter = 0
      }
      models.append(m)
    }
    fitCategories(fitted, &models, grouping: grouping, histories: h, covariates: covariates, options: options)
    poolSmallCategories(&models, grouping: grouping, histories: h, options: options)
    return IntervalModel(
      asOfDay: h.asOfDay, engineVersion: Koi.version, options: options,
      covariateNames: covariates?.names ?? [], categories: models)
  }

  /// Category `cat`'s model before any basis is chosen: its counts, no
  /// parameters (basis `insufficientData`).
  static func unfittedModel(_ cat: Int, name: String, grouping: CategoryGrouping) -> CategoryIntervalModel {
    let pairs = grouping.pairs(of: cat).count
    return CategoryIntervalModel(
      name: name, basis: .insufficientData, family: nil, coefficients: [],
      coefficientStandardErrors: [], logScale: nil, logScaleStandardError: nil,
      returnProbability: nil, logitReturnProbability: nil, logitReturnProbabilityStandardError: nil,
      covariateNames: [], covariateMeans: [], covariateScales: [],
      weibullLogLikelihood: nil, logNormalLogLikelihood: nil, covariateLogLikelihood: nil,
      converged: nil, gapCount: grouping.gapCount[cat], censoredCount: pairs,
      pairCount: pairs, exposedPairCount: grouping.exposed[cat],
      repeatShare: grouping.exposed[cat] > 0
        ? Double(grouping.exposedRepeat[cat]) / Double(grouping.exposed[cat]) : nil,
      medianGapDays: nil, meanGapDays: nil, priorDays: nil,
      withinVariance: nil, betweenVariance: nil, shrinkageRatio: nil, shrinkageCenter: nil)
  }

  /// Observations (gaps and open intervals) from which a category's fit
  /// runs its loops on every core: two of `IntervalRegression.evaluate`'s
  /// chunks.
  static let parallelFitObservations = 2 * IntervalRegression.minimumChunk

  /// `fitCategory` for each of `categories` (indices into `models`). A
  /// category with at least `parallelFitObservations` observations is
  /// fitted on every core, one at a time; the smaller ones, whose fits run
  /// on one core, are fitted side by side, the largest first. On
  /// Complete Journey (304 categories, none that large) the fits took
  /// 0.45 s of one core with the other idle. A fit depends on its
  /// category's pairs alone, never on the threads, so neither does the
  /// model.
  static func fitCategories(
    _ categories: [Int], _ models: inout [CategoryIntervalModel], grouping: CategoryGrouping,
    histories h: PurchaseHistories, covariates: IntervalCovariates?, options: IntervalOptions
  ) {
    let observations = categories.map { models[$0].gapCount + grouping.pairs(of: $0).count }
    var small: [(observations: Int, category: Int)] = []
    for (cat, n) in zip(categories, observations) {
      if n >= parallelFitObservations {
        fitCategory(
          &models[cat], pairs: grouping.pairs(of: cat), histories: h, covariates: covariates, options: options)
      } else {
        small.append((n, cat))
      }
    }
    small.sort { ($0.observations, $1.category) > ($1.observations, $0.category) }
    let unfitted = small.map { models[$0.category] }
    let fits = Parallel.map(small.count) { i in
      var m = unfitted[i]
      fitCategory(
        &m, pairs: grouping.pairs(of: small[i].category), histories: h, covariates: covariates, options: options)
      return m
    }
    for (i, s) in small.enumerated() { models[s.category] = fits[i] }
  }

  /// Categories left with too few gaps and no prior share one distribution
  /// fitted to all their pairs together (basis `pooled`), when together they
  /// have `minimumGapsForFit` gaps and a median gap within
  /// `oneOffMedianDays`: an item bought by a few customers still gets dates
  /// and probabilities, from what such rare items do on average.
  static func poolSmallCategories(
    _ models: inout [CategoryIntervalModel], grouping: CategoryGrouping, histories h: PurchaseHistories,
    options: IntervalOptions
  ) {
    let small = models.indices.filter { models[$0].basis == .insufficientData }
    var pairs: [Int32] = []
    for k in small { pairs += grouping.pairs(of: k) }
    let gaps = small.reduce(0) { $0 + models[$1].gapCount }
    guard gaps >= options.minimumGapsForFit else { return }
    var pooled = models[small[0]]
    pooled.gapCount = gaps
    fitCategory(&pooled, pairs: ArraySlice(pairs), histories: h, covariates: nil, options: options)
    guard pooled.basis == .fitted else { return }
    for k in small {
      let own = models[k]
      models[k] = pooled
      models[k].basis = .pooled
      models[k].name = own.name
      models[k].gapCount = own.gapCount
      models[k].censoredCount = own.censoredCount
      models[k].pairCount = own.pairCount
      models[k].exposedPairCount = own.exposedPairCount
      models[k].repeatShare = own.repeatShare
    }
  }

  static func fitCategory(
    _ m: inout CategoryIntervalModel, pairs: ArraySlice<Int32>, histories h: PurchaseHistories,
    covariates: IntervalCovariates?, options: IntervalOptions
  ) {
    let counts = IntervalLengthCounts(pairs: pairs, histories: h)
    let base = counts?.observations ?? compressedObservations(pairs: pairs, histories: h)
    let cure = options.fitReturnProbability
    let weibull = IntervalRegression.fit(base, family: .weibull, cure: cure)
    let logNormal = IntervalRegression.fit(base, family: .logNormal, cure: cure)
    m.weibullLogLikelihood = weibull.logLikelihood.isFinite ? weibull.logLikelihood : nil
    m.logNormalLogLikelihood = logNormal.logLikelihood.isFinite ? logNormal.logLikelihood : nil
    // NaN compares false: a failed Weibull fit loses to the log-normal.
    var chosen =
      weibull.logLikelihood >= logNormal.logLikelihood || !logNormal.logLikelihood.isFinite
      ? weibull : logNormal
    var means: [Double] = [], scales: [Double] = []
    if let cov = covariates, !cov.names.isEmpty {
      (means, scales) = covariateMoments(pairs: pairs, histories: h, covariates: cov)
      let used = scales.filter { $0 > 0 }.count
      if used > 0 {
        let obs = observations(pairs: pairs, histories: h, covariates: cov, means: means, scales: scales)
        let warm = (chosen.coefficients + [Double](repeating: 0, count: cov.names.count), chosen.logScale)
        let withCov = IntervalRegression.fit(
          obs, family: chosen.family, start: warm, cure: cure, startLogitReturn: chosen.logitReturn ?? 2)
        m.covariateLogLikelihood = withCov.logLikelihood.isFinite ? withCov.logLikelihood : nil
        if withCov.logLikelihood.isFinite && 2 * (withCov.logLikelihood - chosen.logLikelihood) > 2 * Double(used),
          covariatesHoldOut(
            pairs: pairs, histories: h, covariates: cov, means: means, scales: scales, family: chosen.family,
            cure: cure, start: withCov, interceptOnly: chosen, lengthCounts: counts)
        {
          chosen = withCov
          m.covariateNames = cov.names
          m.covariateMeans = means
          m.covariateScales = scales
        }
      }
    }
    m.basis = .fitted
    m.family = chosen.family
    m.coefficients = chosen.coefficients
    m.logScale = chosen.logScale
    m.converged = chosen.converged
    let p = chosen.coefficients.count
    m.coefficientStandardErrors = (0..<p).map { chosen.standardErrors?[$0] }
    m.logScaleStandardError = chosen.standardErrors?[p]
    if let alpha = chosen.logitReturn {
      m.logitReturnProbability = alpha
      m.returnProbability = 1 / (1 + Double.exp(-alpha))
      m.logitReturnProbabilityStandardError = chosen.standardErrors?[p + 1]
    }
    let sigma = Double.exp(chosen.logScale)
    let mu = chosen.coefficients[0]
    let median = chosen.family.gapWithSurvival(0.5, location: mu, scale: sigma)
    m.medianGapDays = median.isFinite ? median : nil
    m.meanGapDays = chosen.family.meanDays(location: mu, scale: sigma)
    IntervalShrinkage.estimate(
      &m, pairs: pairs, histories: h, covariates: m.covariateNames.isEmpty ? nil : covariates, options: options)
    if !(median <= options.oneOffMedianDays) { m.basis = .oneOff }
  }

  /// Whether covariates that improved AIC also hold out of sample, and stay
  /// well-defined: both fits are redone on the pairs of four customers in
  /// five (customer index mod 5 ≠ 0) and compared by log-likelihood on the
  /// fifth; the covariate fit must also converge, keep π off its bound
  /// (logit < 11, π < 0.99998) unless the intercept-only fit is there too
  /// (nobody stops), and every coefficient's standard error below 1 log-day
  /// per standard deviation. Without this, covariates that only fit noise or
  /// drive π to 1 (seen with tier indicators on CDNOW) were kept.
  ///
  /// `lengthCounts`, the counts of `pairs` (nil when a length is too long
  /// to count in arrays), gives the intercept-only fit's observations as
  /// those counts less the held-out fifth's.
  ///
  /// - Complexity: two more fits on 80% of the category's observations.
  static func covariatesHoldOut(
    pairs: ArraySlice<Int32>, histories h: PurchaseHistories, covariates cov: IntervalCovariates,
    means: [Double], scales: [Double], family: IntervalFamily, cure: Bool, start full: IntervalRegressionFit,
    interceptOnly: IntervalRegressionFit, lengthCounts: IntervalLengthCounts?
  ) -> Bool {
    guard full.converged, (full.logitReturn ?? 0) < 11 || (interceptOnly.logitReturn ?? 0) >= 11,
      let se = full.standardErrors?.prefix(full.coefficients.count), se.allSatisfy({ $0.isFinite && $0 < 1 })
    else { return false }
    // Into arrays with their room made, read through a buffer: appended
    // to slices one by one, this split took 30 ms of one core at 10M rows.
    var trainPairs: [Int32] = [], testPairs: [Int32] = []
    trainPairs.reserveCapacity(pairs.count)
    testPairs.reserveCapacity(pairs.count / 4 + 16)
    h.pairCustomer.withUnsafeBufferPointer { customer in
      for p in pairs {
        if customer[Int(p)] % 5 != 0 { trainPairs.append(p) } else { testPairs.append(p) }
      }
    }
    let train = ArraySlice(trainPairs), test = ArraySlice(testPairs)
    guard !train.isEmpty, !test.isEmpty else { return false }
    let trainObs = observations(pairs: train, histories: h, covariates: cov, means: means, scales: scales)
    let testObs = observations(pairs: test, histories: h, covariates: cov, means: means, scales: scales)
    // The test pairs' counts cannot fail where all pairs' did not.
    let trainCounts = lengthCounts.map { $0.subtracting(IntervalLengthCounts(pairs: test, histories: h)!) }
    let trainBase = trainCounts?.observations ?? compressedObservations(pairs: train, histories: h)
    let base = IntervalRegression.fit(trainBase, family: family, cure: cure)
    let withCov = IntervalRegression.fit(
      trainObs, family: family, start: (full.coefficients, full.logScale), cure: cure,
      startLogitReturn: full.logitReturn ?? 2)
    let q = cov.names.count
    let baseTest = IntervalRegression.evaluate(
      testObs, family: family, beta: base.coefficients + [Double](repeating: 0, count: q), logScale: base.logScale,
      logitReturn: base.logitReturn, derivatives: false
    ).logLikelihood
    let covTest = IntervalRegression.evaluate(
      testObs, family: family, beta: withCov.coefficients, logScale: withCov.logScale,
      logitReturn: withCov.logitReturn, derivatives: false
    ).logLikelihood
    return covTest.isFinite && baseTest.isFinite && covTest > baseTest
  }

  /// Mean and standard deviation of each covariate over a category's
  /// observations (a pair counts once per gap plus once for its open
  /// interval); scale 0 for a constant column.
  static func covariateMoments(
    pairs: ArraySlice<Int32>, histories h: PurchaseHistories, covariates cov: IntervalCovariates
  ) -> ([Double], [Double]) {
    let q = cov.names.count
    var s = [Double](repeating: 0, count: q), ss = s, n = s
    for p in pairs {
      let c = Int(h.pairCustomer[Int(p)])
      let w = Double(h.occasions[Int(p)])
      for j in 0..<q {
        let v = cov.values.values[c * q + j]
        if v.isFinite { s[j] += w * v; ss[j] += w * v * v; n[j] += w }
      }
    }
    var means = s, scales = s
    for j in 0..<q {
      means[j] = n[j] > 0 ? s[j] / n[j] : 0
      let variance = n[j] > 1 ? max(0, ss[j] / n[j] - means[j] * means[j]) : 0
      let sd = variance.squareRoot()
      scales[j] = sd > 1e-9 * max(1, abs(means[j])) ? sd : 0
    }
    return (means, scales)
  }

  /// Standardized covariate row of customer `c` for a category's fit;
  /// dropped and non-finite entries become 0 (the mean).
  @inline(__always)
  static func standardized(_ cov: IntervalCovariates, customer c: Int, j: Int, means: [Double], scales: [Double])
    -> Double
  {
    standardized(cov.values.values[c * cov.names.count + j], mean: means[j], scale: scales[j])
  }

  /// A covariate value `v` standardized with the category's `mean` and
  /// `scale`: 0 (the mean) when the column is dropped (scale 0) or `v` is
  /// not finite.
  @inline(__always)
  static func standardized(_ v: Double, mean: Double, scale: Double) -> Double {
    scale > 0 && v.isFinite ? (v - mean) / scale : 0
  }

  /// Intercept-only observations of a category, one weighted observation
  /// per distinct (whole-day length, event flag), counted in a dictionary:
  /// the observations `IntervalLengthCounts.observations` gives, in the
  /// same order, for a category with a length beyond
  /// `IntervalLengthCounts.longestCounted` days, where the count arrays are
  /// refused (not reachable from a file, whose four-digit years span
  /// 3.65M days; a ledger built in code can). The likelihood is the same as
  /// with one observation per gap and open interval.
  ///
  /// - Complexity: O(n log n) for the n gaps and open intervals of the
  ///   category, serially.
  static func compressedObservations(pairs: ArraySlice<Int32>, histories h: PurchaseHistories) -> IntervalObservations {
    // Key 2·length for gaps, 2·length + 1 for open intervals: sorted, they
    // come by length, gaps first, in `IntervalLengthCounts`' order.
    var counts: [Int64: Int] = [:]
    for pp in pairs {
      let p = Int(pp)
      counts[Int64(h.openInterval(p)) * 2 + 1, default: 0] += 1
      for g in h.gapStart[p]..<h.gapStart[p + 1] { counts[Int64(h.gaps[g]) * 2, default: 0] += 1 }
    }
    var obs = IntervalObservations()
    for key in counts.keys.sorted() {
      obs.appendWeighted(length: Int32(key / 2), event: key % 2 == 0 ? 1 : 0, count: counts[key]!)  // key from counts
    }
    return obs
  }

  /// One observation per gap and per open interval of `pairs`, in pair
  /// order (a pair's gaps, then its open interval), with the pair
  /// customer's standardized covariate row.
  ///
  /// - Complexity: O((gaps + pairs) · covariates), parallel over pairs in
  ///   fixed chunks (each writes its own stretch of the columns).
  static func observations(
    pairs: ArraySlice<Int32>, histories h: PurchaseHistories, covariates: IntervalCovariates?,
    means: [Double], scales: [Double]
  ) -> IntervalObservations {
    let q = covariates?.names.count ?? 0
    let chunks = Parallel.chunkCount(for: pairs.count, minimumChunk: 16_384)
    // First observation of each chunk.
    var firstObservation = [Int](repeating: 0, count: chunks + 1)
    for c in 0..<chunks {
      var n = 0
      for i in Parallel.chunk(c, of: chunks, count: pairs.count) {
        let p = Int(pairs[pairs.startIndex + i])
        n += h.gapStart[p + 1] - h.gapStart[p] + 1
      }
      firstObservation[c + 1] = firstObservation[c] + n
    }
    let offsets = firstObservation
    let n = offsets[chunks]
    var obs = IntervalObservations()
    obs.covariateCount = q
    // Every element written once, by the chunks: no zeroing first, which
    // ran on one core (the kernel clearing the fresh pages too).
    obs.logDays = [Double](unsafeUninitializedCapacity: n) { logDays, logDaysCount in
      obs.event = [UInt8](unsafeUninitializedCapacity: n) { event, eventCount in
        obs.covariates = [Double](unsafeUninitializedCapacity: n * q) { x, covariateCount in
          Parallel.forEachChunk(count: pairs.count, chunkCount: chunks) { c, range in
            var o = offsets[c]
            var row = [Double](repeating: 0, count: q)
            for i in range {
              let p = Int(pairs[pairs.startIndex + i])
              if let cov = covariates {
                let customer = Int(h.pairCustomer[p])
                for j in 0..<q { row[j] = standardized(cov, customer: customer, j: j, means: means, scales: scales) }
              }
              for g in h.gapStart[p]..<h.gapStart[p + 1] {
                logDays[o] = DayLogarithm.log(h.gaps[g])
                event[o] = 1
                for j in 0..<q { x[o * q + j] = row[j] }
                o += 1
              }
              logDays[o] = DayLogarithm.log(h.openInterval(p))
              event[o] = 0
              for j in 0..<q { x[o * q + j] = row[j] }
              o += 1
            }
          }
          covariateCount = n * q
        }
        eventCount = n
      }
      logDaysCount = n
    }
    return obs
  }
}

/// Pairs grouped by category (counting sort) with the per-category counts
/// the one-off rule needs.
struct CategoryGrouping {
  var start: [Int]
  var order: [Int32]
  var gapCount: [Int]
  var exposed: [Int]
  var exposedRepeat: [Int]

  /// - Complexity: O(pairs + categories).
  init(histories h: PurchaseHistories, categoryCount k: Int, exposureDays: Int) {
    var count = [Int](repeating: 0, count: k + 1)
    gapCount = [Int](repeating: 0, count: k)
    exposed = [Int](repeating: 0, count: k)
    exposedRepeat = [Int](repeating: 0, count: k)
    let exposureLimit = Int(h.asOfDay) - exposureDays
    for p in 0..<h.pairCount {
      let c = Int(h.pairCategory[p])
      count[c + 1] += 1
      gapCount[c] += Int(h.occasions[p]) - 1
      if Int(h.firstDay[p]) <= exposureLimit {
        exposed[c] += 1
        if h.occasions[p] > 1 { exposedRepeat[c] += 1 }
      }
    }
    for c in 0..<k { count[c + 1] += count[c] }
    start = count
    var next = count
    order = [Int32](repeating: 0, count: h.pairCount)
    for p in 0..<h.pairCount {
      let c = Int(h.pairCategory[p])
      order[next[c]] = Int32(truncatingIfNeeded: p)
      next[c] += 1
    }
  }

  func pairs(of category: Int) -> ArraySlice<Int32> { order[start[category]..<start[category + 1]] }
}

/// How many gaps (`events[d]`) and open intervals (`censored[d]`) of each
/// whole-day length d a category's pairs have: what its intercept-only fits
/// are fitted on (`observations`). Counted in one pass over the pairs in
/// parallel chunks, each into arrays of its own that grow with the longest
/// length seen, then added up; the counts are integers, so the chunking and
/// `subtracting` are exact.
struct IntervalLengthCounts {
  var events: [Int32] = []
  var censored: [Int32] = []

  /// Lengths up to this many days are counted in arrays; `init` fails on a
  /// longer one (a date typo decades out), which a dictionary counts instead
  /// (`IntervalStage.compressedObservations`).
  static let longestCounted = 4_000_000

  private init() {}

  /// - Complexity: O(gaps + customers) in the category, parallel over the
  ///   pairs, plus O(longest length) per chunk.
  init?(pairs: ArraySlice<Int32>, histories h: PurchaseHistories) {
    let chunks = Parallel.chunkCount(for: pairs.count)
    let parts = Parallel.map(chunks) { c -> IntervalLengthCounts? in
      var part = IntervalLengthCounts()
      for i in Parallel.chunk(c, of: chunks, count: pairs.count) {
        let p = Int(pairs[pairs.startIndex + i])
        guard part.tally(Int(h.openInterval(p)), event: false) else { return nil }
        for g in h.gapStart[p]..<h.gapStart[p + 1] {
          guard part.tally(Int(h.gaps[g]), event: true) else { return nil }
        }
      }
      return part
    }
    var total = IntervalLengthCounts()
    for part in parts {
      guard let part else { return nil }
      total.add(part, sign: 1)
    }
    self = total
  }

  /// Counts one observation of `length` days; false when it is beyond
  /// `longestCounted`.
  private mutating func tally(_ length: Int, event: Bool) -> Bool {
    guard length <= Self.longestCounted else { return false }
    if length >= events.count {
      let size = max(length + 1, 2 * events.count, 1_024)
      events += repeatElement(0, count: size - events.count)
      censored += repeatElement(0, count: size - censored.count)
    }
    if event { events[length] &+= 1 } else { censored[length] &+= 1 }
    return true
  }

  /// Adds (`sign` 1) or takes away (−1) the counts of `other`.
  private mutating func add(_ other: IntervalLengthCounts, sign: Int32) {
    if other.events.count > events.count {
      events += repeatElement(0, count: other.events.count - events.count)
      censored += repeatElement(0, count: other.censored.count - censored.count)
    }
    for d in other.events.indices {
      events[d] &+= sign &* other.events[d]
      censored[d] &+= sign &* other.censored[d]
    }
  }

  /// The counts of the pairs left when those counted in `part` (some of
  /// this count's pairs) are taken away: the same counts as counting the
  /// rest directly.
  func subtracting(_ part: IntervalLengthCounts) -> IntervalLengthCounts {
    var rest = self
    rest.add(part, sign: -1)
    return rest
  }

  /// One weighted observation per length of 1 day or more with a count, by
  /// length, the gaps before the open intervals.
  var observations: IntervalObservations {
    var obs = IntervalObservations()
    for d in events.indices.dropFirst() {
      if events[d] > 0 { obs.appendWeighted(length: Int32(d), event: 1, count: Int(events[d])) }
      if censored[d] > 0 { obs.appendWeighted(length: Int32(d), event: 0, count: Int(censored[d])) }
    }
    return obs
  }
}
