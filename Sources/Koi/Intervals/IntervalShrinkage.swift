import RealModule

/// Empirical-Bayes (normal–normal) shrinkage of a customer's own cycle toward
/// the category/AFT prediction, on the log-gap scale.
///
/// For customer i with n_i ≥ 1 observed gaps g_ij in the category and AFT
/// location μ_i, let the expected log gap be `m_i = μ_i + σ·E[W]` and the
/// customer's mean residual `r̄_i = (1/n_i) Σ_j log g_ij − m_i`. Model
/// ```
/// log g_ij = m_i + c + δ_i + ε_ij,   δ_i ~ N(0, τ²),   ε_ij ~ N(0, σ²_w)
/// ```
/// where c (`shrinkageCenter`) is the mean of r̄_i over customers: observed
/// gaps are biased short against the censoring-aware fit, and centering keeps
/// the population of customers on the AFT prediction. Moment estimates:
/// ```
/// σ²_w = Σ_i Σ_j (log g_ij − mean_j log g_ij)² / Σ_i (n_i − 1)
/// τ²   = max(0, Var_i(r̄_i) − σ²_w · mean_i(1/n_i))
/// κ    = σ²_w / τ²          (capped at 10⁶; `shrinkageRatio`)
/// ```
/// The posterior of δ_i has mean `w_i (r̄_i − c)` with
/// `w_i = n_i / (n_i + κ)` and variance `V_i = σ²_w / (n_i + κ)`.
///
/// The customer's predictive distribution keeps the category family with
/// ```
/// location  μ_i + w_i (r̄_i − c)
/// scale     s_i = σ · sqrt( (σ²_w + V_i) / (σ²_w + τ²) )
///               = σ · sqrt( (1 + 1/(κ + n_i)) / (1 + 1/κ) )
/// ```
/// so a first-time buyer (n_i = 0) gets exactly the category distribution
/// (s_i = σ) and the spread narrows with every observed gap, towards
/// σ·sqrt(κ/(κ + 1)) (the within-customer part). Prior categories use
/// κ = `defaultShrinkageRatio`, c = 0. The current open interval does not
/// enter the shrinkage (it enters the conditional probabilities).
enum IntervalShrinkage {
  static let maximumRatio = 1e6

  /// Estimates σ²_w, τ², κ and c for a fitted category.
  ///
  /// - Complexity: O(gaps in the category).
  static func estimate(
    _ m: inout CategoryIntervalModel, pairs: ArraySlice<Int32>, histories h: PurchaseHistories,
    covariates: IntervalCovariates?, options: IntervalOptions
  ) {
    guard let family = m.family, let eta = m.logScale else { return }
    let sigma = Double.exp(eta)
    var customers = 0.0, sumR = 0.0, sumR2 = 0.0, sumInvN = 0.0, ssw = 0.0, dfw = 0.0
    for pp in pairs {
      let p = Int(pp)
      let n = h.gapStart[p + 1] - h.gapStart[p]
      if n == 0 { continue }
      var s = 0.0, ss = 0.0
      for g in h.gapStart[p]..<h.gapStart[p + 1] {
        let y = DayLogarithm.log(h.gaps[g])
        s += y; ss += y * y
      }
      let mean = s / Double(n)
      ssw += max(0, ss - Double(n) * mean * mean)
      dfw += Double(n - 1)
      let mu = location(m, customer: Int(h.pairCustomer[p]), covariates: covariates)
      let r = mean - (mu + sigma * family.meanW)
      customers += 1; sumR += r; sumR2 += r * r; sumInvN += 1 / Double(n)
    }
    guard customers >= 2 else {
      m.shrinkageRatio = options.defaultShrinkageRatio
      m.shrinkageCenter = customers > 0 ? sumR / customers : 0
      return
    }
    let center = sumR / customers
    let varR = max(0, (sumR2 - customers * center * center) / (customers - 1))
    m.shrinkageCenter = center
    guard dfw >= 2 else {
      m.shrinkageRatio = options.defaultShrinkageRatio
      return
    }
    let within = ssw / dfw
    let between = max(0, varR - within * sumInvN / customers)
    m.withinVariance = within
    m.betweenVariance = between
    m.shrinkageRatio = between > 0 ? min(maximumRatio, within / between) : maximumRatio
  }

  /// AFT location μ(x) of customer `c` (log-days). Callers pass `covariates`
  /// only when its names are the category's `covariateNames`.
  static func location(_ m: CategoryIntervalModel, customer c: Int, covariates: IntervalCovariates?) -> Double {
    guard m.coefficients.count > 1, let cov = covariates else { return m.coefficients[0] }
    let q = cov.names.count, terms = m.coefficients.count - 1
    precondition(
      terms <= q && m.covariateMeans.count >= terms && m.covariateScales.count >= terms,
      "a mean and a scale for every covariate coefficient")
    return m.coefficients.withUnsafeBufferPointer { b in
      m.covariateMeans.withUnsafeBufferPointer { means in
        m.covariateScales.withUnsafeBufferPointer { scales in
          cov.values.values.withUnsafeBufferPointer { x in
            // Sized above and by `IntervalCovariates` (one row of q per customer).
            location(
              coefficients: b.baseAddress!, covariateCount: terms, means: means.baseAddress!,
              scales: scales.baseAddress!,
              row: x.baseAddress! + c * q)
          }
        }
      }
    }
  }

  /// `location` from the category's coefficients (intercept first), the
  /// covariate means and scales, and the customer's raw covariate row, all
  /// `covariateCount` long (coefficients one more): what scoring calls per
  /// pair on tables made once (`IntervalStage.ScoringCategories`).
  /// ```
  /// μ(x) = β₀ + Σ_j β_j · (x_j − mean_j) / scale_j    (0 for scale 0 or x_j not finite)
  /// ```
  @inline(__always)
  static func location(
    coefficients b: UnsafePointer<Double>, covariateCount q: Int, means: UnsafePointer<Double>,
    scales: UnsafePointer<Double>, row x: UnsafePointer<Double>
  ) -> Double {
    var mu = b[0]
    for j in 0..<q { mu += b[j + 1] * IntervalStage.standardized(x[j], mean: means[j], scale: scales[j]) }
    return mu
  }

  /// Predictive (location, scale) of a customer with the given sum of log
  /// gaps over `n` observed gaps, from the category's scalars and the
  /// customer's AFT location μ(x) (`location`).
  static func predictive(
    _ m: Parameters, family: IntervalFamily, location mu: Double, gapCount n: Int, sumLogGaps: Double
  ) -> (location: Double, scale: Double) {
    let sigma = Double.exp(m.logScale ?? 0)
    let kappa = m.shrinkageRatio ?? maximumRatio
    let scale = sigma * ((1 + 1 / (kappa + Double(n))) / (1 + 1 / kappa)).squareRoot()
    if n == 0 { return (mu, scale) }
    let r = sumLogGaps / Double(n) - (mu + sigma * family.meanW)
    let w = Double(n) / (Double(n) + kappa)
    return (mu + w * (r - (m.shrinkageCenter ?? 0)), scale)
  }

  /// What a category's predictions need besides its covariates, as
  /// scalars: a hot loop reads these without copying (and retaining) the
  /// arrays and strings of a `CategoryIntervalModel`.
  struct Parameters: Sendable {
    var predicts: Bool
    var family: IntervalFamily?
    var logScale: Double?
    /// `coefficients[0]`, the location without covariates (NaN without a fit).
    var intercept: Double
    var shrinkageRatio: Double?
    var shrinkageCenter: Double?
    var logitReturnProbability: Double?

    init(_ m: CategoryIntervalModel) {
      predicts = m.predicts
      family = m.family
      logScale = m.logScale
      intercept = m.coefficients.first ?? .nan
      shrinkageRatio = m.shrinkageRatio
      shrinkageCenter = m.shrinkageCenter
      logitReturnProbability = m.logitReturnProbability
    }
  }
}
