import RealModule

/// Settings of the repurchase-interval stage. Every threshold here is part of
/// the model's documented behaviour and is echoed in `IntervalModel.options`.
public struct IntervalOptions: Codable, Sendable, Equatable {
  /// A category is fitted from data only with at least this many observed
  /// gaps (default 30); below it the category uses its prior if it has one,
  /// and otherwise gets no prediction (`IntervalBasis.insufficientData`).
  var minimumGapsForFit: Int
  /// Optional priors, category name → typical gap in days (the median), e.g.
  /// `["filler": 180]`. A prior is a log-normal with that median and log-scale
  /// `priorLogScale`.
  public var priors: [String: Double]
  /// σ of a prior's log-normal (default 0.4: P10–P90 ≈ 0.6×–1.67× the median).
  var priorLogScale: Double
  /// Shrinkage ratio κ = σ²_within/τ²_between used for prior categories and
  /// when the variance components cannot be estimated (default 2: two own
  /// gaps weigh as much as the prior).
  var defaultShrinkageRatio: Double
  /// One-off rule, share part: a category is one-off when, among pairs whose
  /// first purchase in it is at least `oneOffExposureDays` before the as-of
  /// day (and there are at least `oneOffMinimumExposedPairs` of them), the
  /// share with a repeat purchase is below this (default 0.05).
  var oneOffRepeatShare: Double
  /// Exposure for the one-off share rule, days (default 365).
  var oneOffExposureDays: Int
  /// Minimum exposed pairs before the share rule applies (default 20).
  var oneOffMinimumExposedPairs: Int
  /// One-off rule, cycle part: a fitted category whose median gap exceeds this
  /// many days is one-off (default 1095, three years).
  var oneOffMedianDays: Double
  /// Fit a return probability π per category (default true): each interval
  /// ends in a purchase with probability π, or never (the customer stopped).
  /// Without it, stopped customers' open intervals read as very long gaps
  /// and stretch the cycle. See `IntervalRegression`.
  var fitReturnProbability: Bool
  /// How far ahead predictions look, days (default 365): next-purchase
  /// dates lie in [as-of, as-of + horizon]; a pair less likely than not to
  /// buy within it is `lapsed`. `koi score --horizon-days` sets it together
  /// with the lifetime horizon.
  public var horizonDays: Int
  /// Train the repurchase propensity model (`RepurchasePropensity`) and bend
  /// each pair's curve through its probabilities (default true).
  public var propensity: Bool

  public init(
    minimumGapsForFit: Int = 30, priors: [String: Double] = [:], priorLogScale: Double = 0.4,
    defaultShrinkageRatio: Double = 2, oneOffRepeatShare: Double = 0.05,
    oneOffExposureDays: Int = 365, oneOffMinimumExposedPairs: Int = 20, oneOffMedianDays: Double = 1095,
    fitReturnProbability: Bool = true, horizonDays: Int = 365, propensity: Bool = true
  ) {
    self.minimumGapsForFit = minimumGapsForFit
    self.priors = priors
    self.priorLogScale = priorLogScale
    self.defaultShrinkageRatio = defaultShrinkageRatio
    self.oneOffRepeatShare = oneOffRepeatShare
    self.oneOffExposureDays = oneOffExposureDays
    self.oneOffMinimumExposedPairs = oneOffMinimumExposedPairs
    self.oneOffMedianDays = oneOffMedianDays
    self.fitReturnProbability = fitReturnProbability
    self.horizonDays = horizonDays
    self.propensity = propensity
  }

  /// Decodes models written before `horizon_days` and `propensity` existed
  /// with their defaults (a previous run's model.json is read for warm starts).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = IntervalOptions()
    minimumGapsForFit = try c.decode(Int.self, forKey: .minimumGapsForFit)
    priors = try c.decode([String: Double].self, forKey: .priors)
    priorLogScale = try c.decode(Double.self, forKey: .priorLogScale)
    defaultShrinkageRatio = try c.decode(Double.self, forKey: .defaultShrinkageRatio)
    oneOffRepeatShare = try c.decode(Double.self, forKey: .oneOffRepeatShare)
    oneOffExposureDays = try c.decode(Int.self, forKey: .oneOffExposureDays)
    oneOffMinimumExposedPairs = try c.decode(Int.self, forKey: .oneOffMinimumExposedPairs)
    oneOffMedianDays = try c.decode(Double.self, forKey: .oneOffMedianDays)
    fitReturnProbability = try c.decode(Bool.self, forKey: .fitReturnProbability)
    horizonDays = try c.decodeIfPresent(Int.self, forKey: .horizonDays) ?? d.horizonDays
    propensity = try c.decodeIfPresent(Bool.self, forKey: .propensity) ?? d.propensity
  }
}

/// Optional per-customer covariates for the AFT regression: one row per
/// customer index, one column per name (e.g. log tenure, log price level,
/// tier one-hot with one tier left out). Non-finite values are replaced by the
/// category's mean of that column. Within each category the columns are
/// standardized (mean 0, sd 1 over that category's observations); a column
/// that is constant there is dropped for that category.
public struct IntervalCovariates: Sendable {
  public var names: [String]
  /// `customerCount × names.count`.
  public var values: Matrix

  public init(names: [String], values: Matrix) {
    precondition(values.columns == names.count, "one covariate name per column")
    self.names = names
    self.values = values
  }

  /// `log(1 + tenure days)` and `log(1 + gross spend per purchase)` from the
  /// customer table: what the interval fit is offered by `koi score` and
  /// `koi backtest` alike. (Tier indicators were offered once; on CDNOW they
  /// drove the return probability to its bound and dates decades out.)
  public static func standard(table: CustomerTable) -> IntervalCovariates {
    let names = ["log_tenure_days", "log_spend_per_purchase"]
    let p = names.count
    // Two `log1p` a customer, on every core (on one, 28 ms of a 10M-row
    // run's fit and again of its scoring).
    let v = Parallel.map(elements: table.count * p) { i in
      let c = i / p
      return i % p == 0
        ? Double.log(onePlus: Double(table.asOfDay - table.firstPurchaseDay[c]))
        : Double.log(onePlus: table.grossAmount[c] / Double(max(1, table.purchaseCount[c])))
    }
    return IntervalCovariates(names: names, values: Matrix(rows: table.count, columns: p, values: v))
  }
}

/// How a category's interval distribution was obtained.
public enum IntervalBasis: String, Codable, Sendable {
  /// Maximum likelihood on this run's data.
  case fitted
  /// Too few gaps; the configured prior is used.
  case prior
  /// Too few gaps of its own and no prior: the distribution fitted to all
  /// such categories together.
  case pooled
  /// Rarely repeats: no interval prediction.
  case oneOff = "one_off"
  /// Too few gaps and no prior: no interval prediction.
  case insufficientData = "insufficient_data"
}

/// The interval distribution of one treatment category.
///
/// The gap T (days) of a customer with covariates x follows `family` with
/// ```
/// location μ(x) = β₀ + Σ_j β_j · (x_j − mean_j) / scale_j   (scale_j > 0)
/// log-scale  η  = log σ
/// ```
/// (see `IntervalFamily`). `coefficients` has the intercept first; with no
/// covariates used it has one entry.
public struct CategoryIntervalModel: Codable, Sendable, Equatable {
  public var name: String
  public var basis: IntervalBasis
  /// The chosen family: the one with the larger maximized log-likelihood
  /// (intercept-only fits, same parameter count). Log-normal for priors.
  var family: IntervalFamily?
  var coefficients: [Double]
  var coefficientStandardErrors: [Double?]
  var logScale: Double?
  var logScaleStandardError: Double?
  /// Return probability π: the chance that an interval ends in a purchase
  /// at all (`nil`: not fitted, π = 1), its logit α and α's standard error.
  var returnProbability: Double?
  var logitReturnProbability: Double?
  var logitReturnProbabilityStandardError: Double?
  /// Covariates entered the chosen family's fit (AIC improved); else empty.
  var covariateNames: [String]
  var covariateMeans: [Double]
  /// 0 marks a column dropped for this category (constant there).
  var covariateScales: [Double]
  /// Maximized log-likelihoods of the intercept-only fits (days, exact density).
  var weibullLogLikelihood: Double?
  var logNormalLogLikelihood: Double?
  /// Log-likelihood of the chosen fit with covariates, when they were tried.
  var covariateLogLikelihood: Double?
  var converged: Bool?
  /// Observed gaps (events) and open intervals (right-censored) in the fit.
  var gapCount: Int
  var censoredCount: Int
  /// Customers with a purchase in the category.
  public var pairCount: Int
  var exposedPairCount: Int
  /// Share of exposed pairs with a repeat purchase (`nil` with none exposed).
  var repeatShare: Double?
  /// Median and mean gap in days at the covariate means (of returning
  /// customers when a return probability is fitted).
  var medianGapDays: Double?
  public var meanGapDays: Double?
  /// The prior's typical days when `basis == .prior`.
  public var priorDays: Double?
  /// Empirical-Bayes components on the log-gap scale (see `IntervalShrinkage`).
  var withinVariance: Double?
  var betweenVariance: Double?
  var shrinkageRatio: Double?
  var shrinkageCenter: Double?

  /// Raw values are the camelCase forms that the snake-case key
  /// strategies of `JSONEncoder.koi` and `JSONDecoder.koi` turn into the
  /// file's keys and back.
  enum CodingKeys: String, CodingKey {
    case name, basis, family, coefficients, coefficientStandardErrors, logScale, logScaleStandardError,
      returnProbability, logitReturnProbability, logitReturnProbabilityStandardError, covariateNames, covariateMeans,
      covariateScales, weibullLogLikelihood, logNormalLogLikelihood, covariateLogLikelihood, converged, repeatShare,
      medianGapDays, meanGapDays, priorDays, withinVariance, betweenVariance, shrinkageRatio, shrinkageCenter
    case gapCount = "nGaps"
    case censoredCount = "nCensored"
    case pairCount = "nCustomers"
    case exposedPairCount = "nExposedCustomers"
  }

  /// Whether pairs of this category get interval predictions.
  public var predicts: Bool { basis == .fitted || basis == .prior || basis == .pooled }
}

/// Everything the interval stage learned in one run.
public struct IntervalModel: Codable, Sendable, Equatable {
  public var asOfDay: Int32
  var engineVersion: String
  public var options: IntervalOptions
  /// Names of the covariate columns offered to the fit (maybe empty).
  var covariateNames: [String]
  /// One entry per ledger category, in ledger category order.
  public var categories: [CategoryIntervalModel]
  /// How the 30/60/90-day probabilities were obtained (nil: the interval
  /// model's own, propensity model off).
  public var propensity: PropensityReport?
  /// The trained propensity trees, per window (`koi score --model` scores
  /// with them); nil when the propensity model was off or not trained.
  var propensityTrees: RepurchasePropensity.Trained?

  /// Index of the category named `name`, if the model knows it.
  public func categoryIndex(named name: String) -> Int? {
    categories.firstIndex { $0.name == name }
  }
}
