/// The behavioural features the price-sensitivity tiers cluster on, in their
/// fixed order (the column order of every feature matrix, model and profile).
///
/// "Purchase" is a row with `isPurchase(amount)`. Per customer:
///
/// | feature          | formula                                                              | unit       | transform |
/// |------------------|----------------------------------------------------------------------|------------|-----------|
/// | `discount_depth` | mean over purchases with list price known and > 0 of `clamp(1 − paid/list, −1, 1)` | fraction | none |
/// | `promo_share`    | purchases with promo = 1 / purchases with promo known               | fraction   | none      |
/// | `premium_share`  | purchases whose price is above its category's median price / purchases | fraction | none      |
/// | `breadth`        | distinct categories purchased                                        | categories | log1p     |
/// | `tenure_days`    | asOfDay − firstPurchaseDay                                           | days       | log1p     |
/// | `purchase_days`  | distinct purchase days (`CustomerTable.purchaseDays`)                | days       | log1p     |
/// | `net_spend`      | `max(0, CustomerTable.netAmount)` (refunds netted)                   | currency   | log1p     |
/// | `channel_share`  | purchases through the customer's most-used channel / purchases with channel known | fraction | none |
///
/// Premium price: a purchase's price is its list price when known and > 0,
/// else the amount paid; a category's median price is the median of the list
/// prices of its purchases when it has any, else the median amount paid
/// (the median of an even count is the mean of the middle two).
///
/// Missing values: a customer with no purchase that has a known list price
/// (or promo flag, or channel) gets the population median of that feature
/// over customers who have one; the count is reported as imputed.
public enum TierFeature: String, Sendable, Codable, CaseIterable, Equatable {
  case discountDepth = "discount_depth"
  case promoShare = "promo_share"
  case premiumShare = "premium_share"
  case breadth = "breadth"
  case tenureDays = "tenure_days"
  case purchaseDays = "purchase_days"
  case netSpend = "net_spend"
  case channelShare = "channel_share"

  /// The features the tiers cluster on by default: how a customer buys, not
  /// when they arrived. Tenure and channel share are left out because on
  /// generated data with known tiers they pull the clusters towards old
  /// versus new customers: with all eight features 46% of the sample's
  /// customers got their true tier (adjusted Rand index 0.31); with these
  /// six, 72% (0.41). Both remain available through `TierOptions.features`.
  public static let defaultClustering: [TierFeature] = [
    .discountDepth, .promoShare, .premiumShare, .breadth, .purchaseDays, .netSpend,
  ]

  /// Whether the feature is modelled on the `log1p` scale (skewed counts and amounts).
  var isLogTransformed: Bool {
    switch self {
    case .breadth, .tenureDays, .purchaseDays, .netSpend: return true
    case .discountDepth, .promoShare, .premiumShare, .channelShare: return false
    }
  }

  /// Unit of the raw (untransformed) value, for profiles and documentation.
  var unit: String {
    switch self {
    case .discountDepth, .promoShare, .premiumShare, .channelShare: return "fraction"
    case .breadth: return "categories"
    case .tenureDays, .purchaseDays: return "days"
    case .netSpend: return "currency"
    }
  }
}

/// A feature left out of the tier model, and why.
struct DroppedTierFeature: Sendable, Codable, Equatable {
  public let feature: TierFeature
  public let reason: String
  public init(feature: TierFeature, reason: String) {
    self.feature = feature
    self.reason = reason
  }
}

/// Raw (untransformed, unscaled) tier features per customer.
public struct TierFeatureTable: Sendable, Equatable {
  /// Features present, in `TierFeature.allCases` order.
  public let features: [TierFeature]
  /// `values[f][c]`: raw value of `features[f]` for customer `c`; always finite.
  public let values: [[Double]]
  /// Features that could not be computed from this ledger.
  let dropped: [DroppedTierFeature]
  /// Customers whose value was imputed with the population median, by feature.
  let imputed: [TierFeature: Int]
  /// The population figures the features were computed with: the category
  /// median prices and the imputation medians (given, or computed here).
  var population = TierPopulation()

  public var customerCount: Int { values.first?.count ?? 0 }

  public func column(_ f: TierFeature) -> [Double]? {
    features.firstIndex(of: f).map { values[$0] }
  }
}

extension TierFeatureTable {
  /// Computes the tier features of every customer of `table` from `ledger`.
  ///
  /// Only `requested` features are computed (all by default); a requested
  /// feature whose input column is absent, or has no known value at all, is
  /// dropped with a reason instead.
  ///
  /// With `population` (a fitted model's), the category median prices and
  /// the imputation medians are taken from it instead of from `ledger`, so
  /// any subset of the fitting customers gets the features the whole
  /// population gave them; an imputable feature with a saved median is
  /// then never dropped for lack of known values.
  ///
  /// - Complexity: O(rows + Σ_category m log m) for the category medians,
  ///   O(rows) for the per-customer pass (parallel over customers).
  public init(
    ledger: Ledger, table: CustomerTable, requested: [TierFeature] = TierFeature.allCases,
    population given: TierPopulation? = nil
  ) {
    precondition(table.count == ledger.customerCount, "customer table and ledger disagree on the number of customers")
    let medians: [Double]
    if !requested.contains(.premiumShare) {
      medians = []
    } else if let given {
      medians = ledger.categories.map { given.categoryMedianPrices[$0] ?? .infinity }
    } else {
      medians = Self.categoryMedianPrices(ledger)
    }
    self.init(
      customers: TierCustomerFeatures(ledger: ledger, medians: medians), table: table, columns: ledger.columns,
      categories: ledger.categories, medians: medians, requested: requested, population: given)
  }

  /// The features from the per-customer values of the whole population
  /// (`customers`, e.g. `TierCustomerFeatures.gathered` from the parts of a
  /// sharded fit): the drops for absent columns, the imputation and the
  /// population figures, as `init(ledger:table:requested:population:)`.
  ///
  /// `columns` are the input's optional columns (`Ledger.columns`),
  /// `categories` its category names (`Ledger.categories`) and `medians`
  /// the category median prices `customers` were computed with: empty when
  /// `requested` has no `premium_share`; else with `population`,
  /// `categories.map { population.categoryMedianPrices[$0] ?? .infinity }`,
  /// without, `TierFeatureTable.categoryMedianPrices` of the whole ledger
  /// (the merged `TierPriceCounts.medians()` of its parts). With
  /// `population`, its imputation medians are used.
  ///
  /// - Precondition: `customers` and `table` have the same customers, in the
  ///   same order; `medians` is empty or has one price per category.
  /// - Complexity: O(customers) plus the imputation medians.
  init(
    customers: TierCustomerFeatures, table: CustomerTable, columns: Ledger.OptionalColumns, categories: [String],
    medians: [Double], requested: [TierFeature] = TierFeature.allCases, population given: TierPopulation? = nil
  ) {
    precondition(table.count == customers.count, "customer table and tier features disagree on the customers")
    precondition(medians.isEmpty || medians.count == categories.count, "one median price per category, or none")
    var dropped: [DroppedTierFeature] = []
    var present = Set(requested)

    func drop(_ f: TierFeature, _ reason: String) {
      if present.remove(f) != nil { dropped.append(DroppedTierFeature(feature: f, reason: reason)) }
    }
    if !columns.listPrice { drop(.discountDepth, "the input has no list price column") }
    if !columns.promo { drop(.promoShare, "the input has no promotion column") }
    if !columns.channel { drop(.channelShare, "the input has no channel column") }

    var population = TierPopulation()
    for (name, m) in zip(categories, medians) where m.isFinite { population.categoryMedianPrices[name] = m }

    var discount = customers.discountDepth
    var promo = customers.promoShare
    var channel = customers.channelShare
    let imputable: [TierFeature] = [.discountDepth, .promoShare, .channelShare]
    let knownMedians = Self.knownMedians(
      [discount, promo, channel],
      needed: imputable.map { present.contains($0) && given?.imputationMedians[$0.rawValue] == nil })
    var imputed: [TierFeature: Int] = [:]
    func impute(_ q: Int, _ v: inout [Double], what: String) {
      let f = imputable[q]
      guard present.contains(f) else { return }
      guard let m = given?.imputationMedians[f.rawValue] ?? knownMedians[q] else {
        drop(f, "no purchase has a known \(what)")
        return
      }
      population.imputationMedians[f.rawValue] = m
      var count = 0
      for i in v.indices where v[i].isNaN { v[i] = m; count += 1 }
      if count > 0 { imputed[f] = count }
    }
    impute(0, &discount, what: "list price")
    impute(1, &promo, what: "promotion flag")
    impute(2, &channel, what: "channel")

    var features: [TierFeature] = []
    var values: [[Double]] = []
    for f in TierFeature.allCases where present.contains(f) {
      features.append(f)
      switch f {
      case .discountDepth: values.append(discount)
      case .promoShare: values.append(promo)
      case .premiumShare: values.append(customers.premiumShare)
      case .breadth: values.append(customers.breadth)
      case .tenureDays: values.append(table.firstPurchaseDay.map { Double(table.asOfDay) - Double($0) })
      case .purchaseDays: values.append(table.purchaseDays.map { Double($0) })
      case .netSpend: values.append(table.netAmount.map { $0.isFinite ? max(0, $0) : 0 })
      case .channelShare: values.append(channel)
      }
    }
    self.init(features: features, values: values, dropped: dropped, imputed: imputed, population: population)
  }

  /// Per column of `columns` that is `needed`, the median of its known
  /// (non-NaN) values, nil when none is known; nil for the others. The
  /// columns are independent selections, computed concurrently.
  ///
  /// The known values are gathered on the calling thread into one array
  /// and selected in place: memory allocated on a worker thread would stay
  /// in that thread's malloc arena, out of reach of the later stages (the
  /// command-line tool keeps freed memory, `Allocator`).
  ///
  /// - Complexity: O(values) expected.
  static func knownMedians(_ columns: [[Double]], needed: [Bool]) -> [Double?] {
    var known: [Double] = []
    known.reserveCapacity(zip(columns, needed).reduce(0) { $0 + ($1.1 ? $1.0.count : 0) })
    var start = [0]
    for (column, needed) in zip(columns, needed) {
      if needed { known += column.lazy.filter { !$0.isNaN } }
      start.append(known.count)
    }
    return known.withUnsafeMutableBufferPointer { known in
      Parallel.map(columns.count) { q in
        // A non-empty range of the array: its base address exists.
        start[q + 1] > start[q] ? Selection.median(known.baseAddress! + start[q], count: start[q + 1] - start[q]) : nil
      }
    }
  }

  /// Median price per category (see `TierFeature`); `+∞` for a category with
  /// no purchase, so nothing in it counts as premium.
  ///
  /// - Complexity: O(rows) to collect the prices, parallel over rows; O(prices)
  ///   expected to select, parallel over categories.
  static func categoryMedianPrices(_ ledger: Ledger) -> [Double] {
    TierCategoryPrices(ledger: ledger, allPaid: false).medians()
  }
}

/// The figures of the whole fitting population that tier features depend
/// on, saved in model.json (`tiers.population`) so that scoring any subset
/// of the customers (a shard, `koi score --model`) computes each customer's
/// features exactly as the fitting run did:
///
/// ```
/// category_median_prices[t]  median premium price of treatment t (see TierFeature);
///                            absent: t had no purchase, nothing in it is premium
/// imputation_medians[f]      median of feature f over customers with a known value
/// ```
public struct TierPopulation: Sendable, Codable, Equatable {
  /// By treatment name.
  var categoryMedianPrices: [String: Double] = [:]
  /// By feature name (`discount_depth`, `promo_share`, `channel_share`).
  var imputationMedians: [String: Double] = [:]
}
