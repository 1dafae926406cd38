import RealModule

/// Where a customer stands in a category's cycle on the as-of day. With
/// `e = asOfDay − lastPurchaseDay` (days elapsed) and P10/P90 the 10th/90th
/// percentiles of the customer's predictive gap distribution:
///
/// ```
/// lapsed        P(purchase within the horizon) < 0.5 (checked first)
/// not_yet_due   e <  P10
/// due           P10 ≤ e ≤ P90
/// overdue       e >  P90
/// one_off       the category rarely repeats (no prediction)
/// unknown       the category has too little data and no prior (no prediction)
/// ```
public enum IntervalStatus: String, Codable, Sendable, CaseIterable {
  case notYetDue = "not_yet_due"
  case due
  case overdue
  case lapsed
  case oneOff = "one_off"
  case unknown

  /// The status's position in `allCases` (a switch the compiler reduces to
  /// the enum's tag).
  var ordinal: Int {
    switch self {
    case .notYetDue: return 0
    case .due: return 1
    case .overdue: return 2
    case .lapsed: return 3
    case .oneOff: return 4
    case .unknown: return 5
    }
  }
}

/// Per (customer, category) predictions, struct of arrays over pairs.
///
/// Pairs of customer `c` are `pairStart[c] ..< pairStart[c + 1]`, ascending by
/// category, so a writer streams per customer. For pairs whose status is
/// `one_off` or `unknown` the day columns hold `IntervalColumns.noDay` and
/// the probability, location and scale columns hold NaN: write null.
public struct IntervalColumns: Sendable {
  static let noDay = Int32.min
  /// The three windows of the probability columns, days.
  static let horizons = [30, 60, 90]

  public let asOfDay: Int32
  public var pairStart: [Int]
  public var customer: [Int32]
  /// Index into `IntervalModel.categories`.
  public var category: [Int32]
  var lastPurchaseDay: [Int32]
  /// Observed gaps of the customer in the category.
  var gapCount: [Int32]
  /// Median day of the next purchase given that it comes within the
  /// horizon (`IntervalOptions.horizonDays`, H): `asOf + t` with
  /// F(t) = F(H)/2 on the pair's `NextPurchaseCurve`, so always in
  /// [asOf, asOf + H].
  var expectedNextDay: [Int32]
  /// Days by which the pair has bought again with probability 10/50/90%:
  /// `asOf + t` with F(t) = q; `noDay` when F(H) < q (not within the horizon).
  var p10Day: [Int32]
  var p50Day: [Int32]
  var p90Day: [Int32]
  /// Probability of a purchase within h = 30, 60, 90 days of the as-of day
  /// given none since the last one: F(h) on the pair's curve (the boosted
  /// propensity model's probabilities when it was used).
  var probability30: [Double]
  var probability60: [Double]
  var probability90: [Double]
  /// Probability that the customer buys in the category again at all, given
  /// the silence so far (`NextPurchaseCurve.returnProbability`).
  var returnProbability: [Double]
  public var status: [IntervalStatus]
  /// Predictive location (log-days) and scale of the customer's gap
  /// distribution (family: the category's), for other windows.
  public var location: [Double]
  var scale: [Double]

  public var pairCount: Int { customer.count }
  public func pairs(of c: Int) -> Range<Int> { pairStart[c]..<pairStart[c + 1] }

  /// The pairs' columns, every prediction "none" (no day, NaN, `unknown`)
  /// until `withPredictionOutput` writes it. The prediction columns are
  /// filled on every core, so their pages are first touched there, not on
  /// one core.
  init(
    asOfDay: Int32, pairStart: [Int], customer: [Int32], category: [Int32], lastPurchaseDay: [Int32],
    gapCount: [Int32]
  ) {
    self.asOfDay = asOfDay
    self.pairStart = pairStart
    self.customer = customer
    self.category = category
    self.lastPurchaseDay = lastPurchaseDay
    self.gapCount = gapCount
    let n = customer.count
    func days() -> [Int32] { Parallel.map(elements: n) { _ in IntervalColumns.noDay } }
    func numbers() -> [Double] { Parallel.map(elements: n) { _ in .nan } }
    (expectedNextDay, p10Day, p50Day, p90Day) = (days(), days(), days(), days())
    (probability30, probability60, probability90, returnProbability) = (numbers(), numbers(), numbers(), numbers())
    (location, scale) = (numbers(), numbers())
    status = Parallel.map(elements: n) { _ in .unknown }
  }

  /// Calls `body` with the prediction columns as pointers, for a loop on
  /// every core to write each pair's prediction in place.
  mutating func withPredictionOutput<R>(_ body: (IntervalPredictionOutput) -> R) -> R {
    expectedNextDay.withUnsafeMutableBufferPointer { expected in
      p10Day.withUnsafeMutableBufferPointer { p10 in
        p50Day.withUnsafeMutableBufferPointer { p50 in
          p90Day.withUnsafeMutableBufferPointer { p90 in
            probability30.withUnsafeMutableBufferPointer { q30 in
              probability60.withUnsafeMutableBufferPointer { q60 in
                probability90.withUnsafeMutableBufferPointer { q90 in
                  returnProbability.withUnsafeMutableBufferPointer { returning in
                    status.withUnsafeMutableBufferPointer { status in
                      location.withUnsafeMutableBufferPointer { location in
                        scale.withUnsafeMutableBufferPointer { scale in
                          body(
                            IntervalPredictionOutput(
                              expectedNextDay: expected, p10Day: p10, p50Day: p50, p90Day: p90, probability30: q30,
                              probability60: q60, probability90: q90, returnProbability: returning, status: status,
                              location: location, scale: scale))
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
}

/// The prediction columns of an `IntervalColumns`, written one pair at a
/// time (`store`), each pair by one thread.
struct IntervalPredictionOutput {
  let expectedNextDay, p10Day, p50Day, p90Day: UnsafeMutableBufferPointer<Int32>
  let probability30, probability60, probability90, returnProbability: UnsafeMutableBufferPointer<Double>
  let status: UnsafeMutableBufferPointer<IntervalStatus>
  let location, scale: UnsafeMutableBufferPointer<Double>

  @inline(__always)
  func store(_ r: IntervalPrediction, at p: Int) {
    expectedNextDay[p] = r.expectedNextDay
    p10Day[p] = r.p10Day
    p50Day[p] = r.p50Day
    p90Day[p] = r.p90Day
    probability30[p] = r.probability30
    probability60[p] = r.probability60
    probability90[p] = r.probability90
    returnProbability[p] = r.returnProbability
    status[p] = r.status
    location[p] = r.location
    scale[p] = r.scale
  }
}

/// One pair's prediction, as `predict` returns it and `IntervalPredictionOutput.store` writes it.
struct IntervalPrediction {
  var expectedNextDay = IntervalColumns.noDay
  var p10Day = IntervalColumns.noDay
  var p50Day = IntervalColumns.noDay
  var p90Day = IntervalColumns.noDay
  var probability30 = Double.nan
  var probability60 = Double.nan
  var probability90 = Double.nan
  var returnProbability = Double.nan
  var status = IntervalStatus.unknown
  var location = Double.nan
  var scale = Double.nan
}

extension IntervalStage {
  /// Scores every (customer, category) pair of `ledger` as of `table.asOfDay`
  /// with `model` (categories matched by name; a category the model does not
  /// know is `unknown`). Pass the same `covariates` as to `fit`; without them
  /// a covariate model predicts at the covariate means.
  ///
  /// - Complexity: O(rows) for the histories plus O(pairs) evaluations of
  ///   log/exp/erfc, parallel over customers in fixed chunks.
  public static func score(
    ledger: Ledger, table: CustomerTable, model: IntervalModel, covariates: IntervalCovariates? = nil
  ) -> IntervalColumns {
    let h = PurchaseHistories(ledger: ledger, asOfDay: table.asOfDay)
    return score(histories: h, categoryNames: ledger.categories, model: model, covariates: covariates)
  }

  /// `score` on histories already built.
  ///
  /// `knots`, when given, holds per pair (pair-major) the propensity model's
  /// P(purchase within each of `RepurchasePropensity.windows`), NaN where it
  /// has none; the pair's curve is bent through them (`NextPurchaseCurve`).
  public static func score(
    histories h: PurchaseHistories, categoryNames: [String], model: IntervalModel,
    covariates: IntervalCovariates? = nil, knots: [Double]? = nil
  ) -> IntervalColumns {
    if let cov = covariates {
      precondition(cov.values.rows == h.customerCount, "one covariate row per customer")
    }
    var byName: [String: Int] = [:]
    for (i, c) in model.categories.enumerated() { byName[c.name] = i }
    let map = categoryNames.map { Int32(byName[$0] ?? -1) }
    let scoring = ScoringCategories(model: model, covariates: covariates)
    let n = h.pairCount
    let w = RepurchasePropensity.windows.count
    let horizonDays = model.options.horizonDays
    var columns = IntervalColumns(
      asOfDay: h.asOfDay, pairStart: h.pairStart, customer: h.pairCustomer,
      category: Parallel.map(elements: n) { map[Int(h.pairCategory[$0])] }, lastPurchaseDay: h.lastDay,
      gapCount: Parallel.map(elements: n) { h.occasions[$0] - 1 })
    // Each pair's prediction written in place, in chunks of pairs (not of
    // customers: Complete Journey's 2,469 households with 304 treatments
    // made one chunk of customers, scored on one core). The pair loop reads
    // categories, covariates and knots through pointers to scalars: copies
    // of a `CategoryIntervalModel`, of the covariates or of a knot slice
    // retained and released their arrays once per pair.
    scoring.categories.withUnsafeBufferPointer { categories in
      scoring.terms.withUnsafeBufferPointer { terms in
        (covariates?.values.values ?? []).withUnsafeBufferPointer { covariateRows in
          (knots ?? []).withUnsafeBufferPointer { allKnots in
            columns.withPredictionOutput { out in
              Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n, minimumChunk: 4096)) { _, range in
                for p in range {
                  let k = Int(map[Int(h.pairCategory[p])])
                  guard k >= 0 else { continue }
                  let own = knots == nil ? nil : UnsafeBufferPointer(rebasing: allKnots[(w * p)..<(w * p + w)])
                  let m = categories[k]
                  let row = predict(
                    pair: p, histories: h, category: m,
                    location: m.location(customer: Int(h.pairCustomer[p]), terms: terms, covariateRows: covariateRows),
                    horizonDays: horizonDays, knots: own.flatMap { $0.allSatisfy(\.isFinite) ? $0 : nil })
                  out.store(row, at: p)
                }
              }
            }
          }
        }
      }
    }
    return columns
  }

  /// A category as the pair loop reads it: scalars, and where its
  /// covariate coefficients, means and scales sit in `ScoringCategories.terms`.
  struct ScoringCategory {
    var basis: IntervalBasis
    var parameters: IntervalShrinkage.Parameters
    /// Offset of the coefficients (intercept first, `covariateCount + 1`),
    /// then the means and the scales (`covariateCount` each) in `terms`;
    /// nil when the covariates do not apply (the location is the intercept).
    var termOffset: Int?
    var covariateCount: Int
    /// Length of a customer's row in the covariate matrix.
    var rowLength: Int

    /// The AFT location μ(x) of customer `c` (`IntervalShrinkage.location`,
    /// the same arithmetic on the same numbers).
    @inline(__always)
    func location(customer c: Int, terms: UnsafeBufferPointer<Double>, covariateRows: UnsafeBufferPointer<Double>)
      -> Double
    {
      guard let o = termOffset, let t = terms.baseAddress, let x = covariateRows.baseAddress else {
        return parameters.intercept
      }
      let q = covariateCount
      return IntervalShrinkage.location(
        coefficients: t + o, covariateCount: q, means: t + o + q + 1, scales: t + o + 2 * q + 1,
        row: x + c * rowLength)
    }
  }

  /// Every category of a model as `ScoringCategory`, made once per scoring.
  struct ScoringCategories {
    var categories: [ScoringCategory] = []
    var terms: [Double] = []

    /// Covariates apply to a category only when they are the ones it was
    /// fitted with.
    init(model: IntervalModel, covariates: IntervalCovariates?) {
      for m in model.categories {
        let applies =
          m.coefficients.count > 1 && !m.covariateNames.isEmpty
          && covariates.map { $0.names == m.covariateNames } == true
        let q = applies ? m.coefficients.count - 1 : 0
        let rowLength = covariates?.names.count ?? 0
        var offset: Int?
        if applies {
          precondition(
            q <= rowLength && m.covariateMeans.count >= q && m.covariateScales.count >= q,
            "a covariate, a mean and a scale for every coefficient")
          offset = terms.count
          terms += m.coefficients
          terms += m.covariateMeans.prefix(q)
          terms += m.covariateScales.prefix(q)
        }
        categories.append(
          ScoringCategory(
            basis: m.basis, parameters: IntervalShrinkage.Parameters(m), termOffset: offset, covariateCount: q,
            rowLength: rowLength))
      }
    }
  }

  /// log(1 − q) for the 10/50/90% days.
  static let quantileLogSurvival = (Double.log(onePlus: -0.1), Double.log(onePlus: -0.5), Double.log(onePlus: -0.9))
  static let weibullQuantiles = (IntervalFamily.weibull.quantileW(0.1), IntervalFamily.weibull.quantileW(0.9))
  static let logNormalQuantiles = (IntervalFamily.logNormal.quantileW(0.1), IntervalFamily.logNormal.quantileW(0.9))

  /// One pair's prediction from its statistical curve, bent through
  /// `knots` (P(purchase within 30 and 90 days) from the propensity model)
  /// when given.
  static func predict(
    pair p: Int, histories h: PurchaseHistories, category m: ScoringCategory, location: Double, horizonDays: Int,
    knots: UnsafeBufferPointer<Double>? = nil
  ) -> IntervalPrediction {
    var out = IntervalPrediction()
    switch m.basis {
    case .oneOff: out.status = .oneOff; return out
    case .insufficientData where knots == nil: return out
    case .fitted, .prior, .pooled, .insufficientData: break
    }
    let last = h.lastDay[p]
    let e = Double(h.asOfDay - last)
    var statistical: NextPurchaseCurve.Statistical?
    // The pair's gap distribution, for its P10 and P90 gaps (the status).
    var gap: (family: IntervalFamily, location: Double, scale: Double)?
    if let family = m.parameters.family {
      var sumLog = 0.0
      for g in h.gapStart[p]..<h.gapStart[p + 1] { sumLog += DayLogarithm.log(h.gaps[g]) }
      let n = h.gapStart[p + 1] - h.gapStart[p]
      let (mu, s) = IntervalShrinkage.predictive(
        m.parameters, family: family, location: location, gapCount: n, sumLogGaps: sumLog)
      statistical = .init(
        family: family, location: mu, scale: s, elapsed: max(1, e), logitReturn: m.parameters.logitReturnProbability)
      gap = (family, mu, s)
      out.location = mu
      out.scale = s
    }
    var curve = NextPurchaseCurve(statistical: statistical)
    if let knots {
      for (i, probability) in knots.enumerated() {
        curve.addKnot(days: Double(RepurchasePropensity.windows[i]), probability: probability)
      }
    }
    guard curve.isDefined else { return out }
    let horizon = Double(horizonDays)
    func day(_ t: Double?) -> Int32 {
      guard let t else { return IntervalColumns.noDay }
      let d = h.asOfDay + Int32(min(horizon, t).rounded())
      return DayNumber.fourDigitYears.contains(d) ? d : IntervalColumns.noDay
    }
    // Each value once: F(horizon) and log(1 − q) are the numbers the
    // curve's methods would compute again.
    let withinHorizon = curve.probability(within: horizon)
    out.expectedNextDay = day(curve.medianGivenPurchase(within: horizon, probabilityWithin: withinHorizon))
    out.p10Day = day(curve.quantile(logSurvival: quantileLogSurvival.0, horizon: horizon))
    out.p50Day = day(curve.quantile(logSurvival: quantileLogSurvival.1, horizon: horizon))
    out.p90Day = day(curve.quantile(logSurvival: quantileLogSurvival.2, horizon: horizon))
    out.probability30 = curve.probability(within: 30)
    out.probability60 = curve.probability(within: 60)
    out.probability90 = curve.probability(within: 90)
    out.returnProbability = curve.returnProbability
    if withinHorizon < 0.5 {
      out.status = .lapsed
    } else if let (family, mu, s) = gap {
      // P10 and P90 only for the pairs whose status reads them (not lapsed).
      let (w10, w90) = family == .weibull ? weibullQuantiles : logNormalQuantiles
      let g10 = Double.exp(mu + s * w10), g90 = Double.exp(mu + s * w90)
      out.status = e < g10 ? .notYetDue : (e > g90 ? .overdue : .due)
    } else {
      out.status = .due
    }
    return out
  }
}

extension IntervalColumns {
  /// Probability that pair `p` buys within `days` days of the as-of day,
  /// given no purchase since the last one (see `probability30`), for any
  /// window; `nil` for pairs without a prediction.
  ///
  /// - Complexity: O(1).
  public func probability(pair p: Int, withinDays days: Int, model: IntervalModel) -> Double? {
    let k = Int(category[p])
    guard k >= 0, status[p] != .oneOff, status[p] != .unknown else { return nil }
    let m = model.categories[k]
    var statistical: NextPurchaseCurve.Statistical?
    if let family = m.family, location[p].isFinite {
      statistical = .init(
        family: family, location: location[p], scale: scale[p],
        elapsed: Double(max(1, asOfDay - lastPurchaseDay[p])), logitReturn: m.logitReturnProbability)
    }
    // The three probability columns are the curve's knots (see `NextPurchaseCurve`).
    let knots = [(30.0, probability30[p]), (60.0, probability60[p]), (90.0, probability90[p])]
    return NextPurchaseCurve(statistical: statistical, knots: knots.map { (days: $0.0, probability: $0.1) })
      .probability(within: Double(days))
  }
}
