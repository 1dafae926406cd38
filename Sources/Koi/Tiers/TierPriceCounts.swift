/// The exact, mergeable summary behind the category median prices of
/// `premium_share` (see `TierFeature`): per category, how often each list
/// price (finite, > 0) and each amount paid (finite) occurs among its
/// purchases.
///
/// The counts of customer-disjoint parts of a ledger whose parts share the
/// category list (a sharded fit) add up to the counts of the whole, in any
/// order, so `medians()` of the merged counts is
/// `TierFeatureTable.categoryMedianPrices` of the whole ledger bit for bit.
///
/// ```
/// part ledger ──► TierPriceCounts ─┐
/// part ledger ──► TierPriceCounts ─┼─ merge ──► medians() ──► TierCustomerFeatures of each part
/// part ledger ──► TierPriceCounts ─┘
/// ```
struct TierPriceCounts: Sendable, Equatable, Codable {
  /// `listed[j]`: the list prices of category `j`'s purchases that are known
  /// and > 0.
  private(set) var listed: [ValueCounts]
  /// `paid[j]`: the finite amounts paid for category `j`'s purchases.
  private(set) var paid: [ValueCounts]

  /// The number of categories (`ledger.categories.count` of the parts).
  var categoryCount: Int { listed.count }

  /// Counts the purchase prices of `ledger`, by its category index.
  ///
  /// - Complexity: O(rows) to collect, O(rows) radix sorts per category.
  init(ledger: Ledger) {
    let prices = TierCategoryPrices(ledger: ledger, allPaid: true)
    // Purchases pay > 0 and list prices are > 0: no NaN, no -0.0 to order.
    self.listed = Parallel.map(prices.categoryCount) { ValueCounts(prices.listed($0)) }
    self.paid = Parallel.map(prices.categoryCount) { ValueCounts(prices.paid($0)) }
  }

  /// Adds the counts of `other`, a customer-disjoint part of the same
  /// population.
  ///
  /// - Precondition: the same category list (the same number of categories,
  ///   indexed alike).
  /// - Complexity: O(distinct prices of both).
  mutating func merge(_ other: TierPriceCounts) {
    precondition(categoryCount == other.categoryCount, "price counts merge only over the same categories")
    for j in 0..<categoryCount {
      listed[j].merge(other.listed[j])
      paid[j].merge(other.paid[j])
    }
  }

  /// The median price per category: of the list prices when the category
  /// has any, else of the amounts paid; `+∞` for a category with no
  /// purchase, so nothing in it counts as premium. The same `Double`s as
  /// `Selection.median` of the prices (the mean of the middle two for an
  /// even count).
  ///
  /// - Complexity: O(distinct prices).
  func medians() -> [Double] {
    zip(listed, paid).map { l, p in
      if l.total > 0 { return Self.median(l) }
      if p.total > 0 { return Self.median(p) }
      return .infinity
    }
  }

  /// The median of a non-empty multiset, as `Selection.median` computes it:
  /// for `m` values, the one of rank `m / 2` (from 0) when `m` is odd, else
  /// `(value of rank m/2 − 1 + value of rank m/2) / 2`.
  ///
  /// - Complexity: O(distinct values).
  static func median(_ v: ValueCounts) -> Double {
    let m = v.total
    precondition(m > 0, "median of nothing")
    let h = m / 2
    // Find j with values[j] of rank h: below = count of values ≤ values[j].
    var j = 0
    var below = v.counts[0]
    while below <= h {
      j += 1
      below += v.counts[j]
    }
    let upper = v.values[j]
    if m % 2 == 1 { return upper }
    // Rank h − 1 is values[j] too unless values[j] starts exactly at rank h.
    let lower = below - v.counts[j] <= h - 1 ? upper : v.values[j - 1]
    return (lower + upper) / 2
  }
}
