import Testing

@testable import Koi

/// `TierCategoryPrices` (two parallel passes into flat storage) against the
/// row-by-row collection it replaced: the same prices in the same order,
/// and the same median `Double`s, bit for bit.
@Suite struct TierCategoryPricesTests {
  /// Per category, the list prices (finite, > 0) and the finite amounts of
  /// the purchases, appended row by row: the reference.
  static func appended(_ ledger: Ledger) -> (listed: [[Double]], paid: [[Double]]) {
    var listed = [[Double]](repeating: [], count: ledger.categories.count)
    var paid = listed
    for i in 0..<ledger.rowCount where isPurchase(ledger.amount[i]) {
      let j = Int(ledger.category[i])
      let lp = ledger.listPrice[i]
      if lp.isFinite && lp > 0 { listed[j].append(lp) }
      if ledger.amount[i].isFinite { paid[j].append(ledger.amount[i]) }
    }
    return (listed, paid)
  }

  /// The reference medians: of the list prices, else the amounts paid, else `+∞`.
  static func appendedMedians(_ ledger: Ledger) -> [Double] {
    let (listed, paid) = appended(ledger)
    return zip(listed, paid).map { l, p in
      if !l.isEmpty { return TierFeatureTable.median(l) }
      if !p.isEmpty { return TierFeatureTable.median(p) }
      return .infinity
    }
  }

  /// A ledger of one customer with `rows` random rows over `categories`
  /// categories: refunds, zero amounts, unknown, zero, negative and infinite
  /// list prices, an infinite amount, prices from a short list (many ties)
  /// or continuous, and categories that never have a list price or never a
  /// purchase.
  static func random(rows: Int, categories: Int, seed: UInt64) -> Ledger {
    var g = SeededGenerator(seed: seed)
    let tiedPrices: [Double] = [9.9, 19.9, 120, 370, 460, 0.1, 1e-300, 5e307]
    func price() -> Double {
      Bool.random(using: &g) ? tiedPrices.randomElement(using: &g)! : Double.random(in: 0.01...1_000, using: &g)
    }
    var category: [Int32] = [], amount: [Double] = [], list: [Double] = []
    for _ in 0..<rows {
      // The last category is never drawn; category 0 never has a list price.
      let j = Int.random(in: 0..<max(1, categories - 1), using: &g)
      category.append(Int32(j))
      switch Int.random(in: 0..<20, using: &g) {
      case 0: amount.append(-price())
      case 1: amount.append(0)
      case 2: amount.append(.infinity)
      default: amount.append(price())
      }
      switch Int.random(in: 0..<10, using: &g) {
      case 0: list.append(.nan)
      case 1: list.append(0)
      case 2: list.append(-price())
      case 3: list.append(.infinity)
      default: list.append(j == 0 ? .nan : price())
      }
    }
    return Ledger(
      customerIDs: ["c"], categories: (0..<categories).map { "t\($0)" }, channels: [], stores: [],
      customer: [Int32](repeating: 0, count: rows), day: [Int32](repeating: 0, count: rows), category: category,
      amount: amount, listPrice: list, promo: [Int8](repeating: -1, count: rows),
      channel: [Int32](repeating: -1, count: rows), store: [Int32](repeating: -1, count: rows),
      customerStart: [0, rows], columns: .init(listPrice: true))
  }

  static func bits(_ v: some Sequence<Double>) -> [UInt64] { v.map(\.bitPattern) }

  /// Row counts below one chunk, at a few chunks and at many (the chunk
  /// size is at least 65,536 rows), category counts from 1 to many.
  static let cases: [(rows: Int, categories: Int)] = [
    (0, 0), (0, 3), (1, 1), (7, 2), (1_000, 1), (5_000, 40), (200_000, 9), (300_000, 3), (150_000, 5_000),
  ]

  @Test(arguments: cases.indices) func sameRangesAsAppendingRowByRow(_ which: Int) {
    let (rows, categories) = Self.cases[which]
    let ledger = Self.random(rows: rows, categories: categories, seed: UInt64(which) + 1)
    let (listed, paid) = Self.appended(ledger)
    for allPaid in [true, false] {
      let prices = TierCategoryPrices(ledger: ledger, allPaid: allPaid)
      #expect(prices.categoryCount == categories)
      for j in 0..<categories {
        #expect(Self.bits(prices.listed(j)) == Self.bits(listed[j]), "rows \(rows), category \(j)")
        let wantPaid = allPaid || listed[j].isEmpty ? paid[j] : []
        #expect(Self.bits(prices.paid(j)) == Self.bits(wantPaid), "rows \(rows), category \(j), all \(allPaid)")
      }
    }
    if rows > 1_000 {
      #expect(listed[0].isEmpty && !paid[0].isEmpty, "category 0 is decided by its amounts paid")
      #expect(paid[categories - 1].isEmpty, "the last category has no purchase")
    }
  }

  @Test(arguments: cases.indices) func mediansAreTheAppendedPricesMedians(_ which: Int) {
    let (rows, categories) = Self.cases[which]
    let ledger = Self.random(rows: rows, categories: categories, seed: UInt64(which) + 100)
    let want = Self.appendedMedians(ledger)
    #expect(Self.bits(TierFeatureTable.categoryMedianPrices(ledger)) == Self.bits(want), "rows \(rows)")
    #expect(Self.bits(TierCategoryPrices(ledger: ledger, allPaid: true).medians()) == Self.bits(want))
    #expect(Self.bits(TierPriceCounts(ledger: ledger).medians()) == Self.bits(want), "rows \(rows)")
    if rows > 1_000 {
      #expect(want.contains { $0.isFinite } && want.last == .infinity)
    }
  }
}
