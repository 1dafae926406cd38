import Foundation
import Testing

@testable import Koi

/// A sharded tier fit (issue 15): each part of the customers gives its
/// price counts and per-customer features, the driver merges and gathers
/// them, and the result is bit for bit the single run's on the whole ledger.
@Suite struct TierShardPartsTests {
  /// A generated chain of `customers` customers. With `gaps`, every 7th row
  /// has no list price, every 5th no promotion flag and every 6th no channel,
  /// and the "consultation" treatment never has a list price.
  static func generated(customers: Int, seed: UInt64, columns: Ledger.OptionalColumns, gaps: Bool) -> Ledger {
    var options = GeneratorOptions()
    options.customers = customers
    options.seed = seed
    var raw: [TransactionGenerator.Row] = []
    for c in 0..<customers { _ = TransactionGenerator.simulate(customer: c, options: options, into: &raw) }
    var rows: [Ledger.Row] = []
    for (i, r) in raw.enumerated() {
      let item = TreatmentCategory.catalog[Int(r.category)].id
      let unlisted = gaps && (i % 7 == 3 || r.category == 0)
      rows.append(
        Ledger.Row(
          customerID: TransactionGenerator.customerID(Int(r.customer), zh: false), day: r.day, item: item,
          amount: r.amount, listPrice: columns.listPrice && !unlisted ? r.listPrice : .nan,
          promo: columns.promo && !(gaps && i % 5 == 1) ? (r.promo ? 1 : 0) : -1,
          channel: columns.channel && !(gaps && i % 6 == 2) ? TierBehaviour.channels[Int(r.channel)] : nil,
          store: columns.store ? "store_\(r.store)" : nil))
    }
    return Ledger(rows: rows, columns: columns)
  }

  /// The customers `customers` of `ledger` (in that order, each with all of
  /// its rows in order) with the same category, channel and store lists:
  /// what a shard holds.
  static func part(of ledger: Ledger, customers: [Int]) -> Ledger {
    var rows: [Int] = []
    var start = [0]
    var customer: [Int32] = []
    for (k, c) in customers.enumerated() {
      for i in ledger.rows(of: c) {
        rows.append(i)
        customer.append(Int32(k))
      }
      start.append(rows.count)
    }
    return Ledger(
      customerIDs: customers.map { ledger.customerIDs[$0] }, categories: ledger.categories,
      channels: ledger.channels, stores: ledger.stores, customer: customer, day: rows.map { ledger.day[$0] },
      category: rows.map { ledger.category[$0] }, amount: rows.map { ledger.amount[$0] },
      listPrice: rows.map { ledger.listPrice[$0] }, promo: rows.map { ledger.promo[$0] },
      channel: rows.map { ledger.channel[$0] }, store: rows.map { ledger.store[$0] }, customerStart: start,
      columns: ledger.columns)
  }

  /// `ledger` split into `count` parts by a hash of the customer index, so
  /// the parts interleave in the global order; returns the parts and the
  /// global order.
  static func split(_ ledger: Ledger, into count: Int) -> ([Ledger], CustomerOrder) {
    var members = [[Int]](repeating: [], count: count)
    for c in 0..<ledger.customerCount {
      members[Int((UInt64(c) &* 0x9E37_79B9_7F4A_7C15) >> 33) % count].append(c)
    }
    // A customer's global index orders it as its first line would.
    return (members.map { part(of: ledger, customers: $0) }, CustomerOrder(firstLines: members))
  }

  /// The driver's fit: merged price counts, per-part features placed in
  /// the global order, the rest on the whole population.
  static func shardedFeatures(
    _ parts: [Ledger], order: CustomerOrder, whole: Ledger, table: CustomerTable,
    requested: [TierFeature]
  ) -> TierFeatureTable {
    var medians: [Double] = []
    if requested.contains(.premiumShare) {
      // Merge in reverse, to show the order does not matter.
      var counts = TierPriceCounts(ledger: parts[parts.count - 1])
      for p in parts.dropLast().reversed() { counts.merge(TierPriceCounts(ledger: p)) }
      medians = counts.medians()
    }
    var customers = TierCustomerFeatures(customers: order.count)
    for (k, p) in parts.enumerated() {
      customers.place(TierCustomerFeatures(ledger: p, medians: medians), shard: k, order: order)
    }
    return TierFeatureTable(
      customers: customers, table: table, columns: whole.columns, categories: whole.categories, medians: medians,
      requested: requested)
  }

  static func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

  /// The three ledgers the sharded parts are checked on.
  static let cases: [(String, Ledger)] = [
    (
      "all columns",
      generated(
        customers: 1500, seed: 11, columns: .init(listPrice: true, promo: true, channel: true, store: true), gaps: false
      )
    ),
    (
      "gaps",
      generated(
        customers: 1500, seed: 12, columns: .init(listPrice: true, promo: true, channel: true, store: true), gaps: true)
    ),
    ("no optional columns", generated(customers: 800, seed: 13, columns: .init(), gaps: false)),
  ]

  @Test(arguments: 0..<3) func mergedPriceCountsGiveTheWholeLedgersMedians(_ which: Int) {
    let (name, whole) = Self.cases[which]
    let (parts, _) = Self.split(whole, into: 3)
    #expect(parts.allSatisfy { $0.customerCount > 0 }, "\(name)")
    var forward = TierPriceCounts(ledger: parts[0])
    for p in parts.dropFirst() { forward.merge(TierPriceCounts(ledger: p)) }
    var backward = TierPriceCounts(ledger: parts[2])
    for p in parts.dropLast().reversed() { backward.merge(TierPriceCounts(ledger: p)) }
    #expect(forward == backward, "\(name)")
    #expect(forward == TierPriceCounts(ledger: whole), "\(name)")
    let want = TierFeatureTable.categoryMedianPrices(whole)
    #expect(Self.bits(forward.medians()) == Self.bits(want), "\(name)")
    #expect(want.contains { $0.isFinite }, "\(name)")
  }

  @Test(arguments: 0..<3) func placedPartsGiveTheWholeLedgersFeatures(_ which: Int) {
    let (name, whole) = Self.cases[which]
    let table = CustomerTable(ledger: whole, asOfDay: DayNumber.from(year: 2026, month: 1, day: 1))
    let (parts, order) = Self.split(whole, into: 3)
    let withoutPremium = TierFeature.allCases.filter { $0 != .premiumShare }
    for requested in [TierFeature.allCases, TierFeature.defaultClustering, withoutPremium] {
      let want = TierFeatureTable(ledger: whole, table: table, requested: requested)
      let got = Self.shardedFeatures(parts, order: order, whole: whole, table: table, requested: requested)
      #expect(got == want, "\(name), \(requested.map(\.rawValue))")
      #expect(got.values.map(Self.bits) == want.values.map(Self.bits), "\(name)")
      #expect(got.population == want.population, "\(name)")
      if requested.contains(.premiumShare) {
        #expect(!got.population.categoryMedianPrices.isEmpty, "\(name)")
      } else {
        #expect(got.population.categoryMedianPrices.isEmpty, "\(name)")
      }
    }
  }

  @Test(arguments: 0..<3) func modelFittedOnGatheredFeaturesIsTheSingleRunsModel(_ which: Int) throws {
    let (name, whole) = Self.cases[which]
    let table = CustomerTable(ledger: whole, asOfDay: DayNumber.from(year: 2026, month: 1, day: 1))
    let (parts, order) = Self.split(whole, into: 3)
    for options in [TierOptions(seed: 5), TierOptions(k: 3, seed: 2, features: [.promoShare, .breadth, .netSpend])] {
      let want = try TierStage.fit(ledger: whole, table: table, options: options)
      let features = Self.shardedFeatures(
        parts, order: order, whole: whole, table: table, requested: options.features)
      let got = try TierStage.fit(features: features, customerCount: table.count, options: options)
      #expect(got == want, "\(name)")
      #expect(Self.bits(got.centroids.flatMap { $0 }) == Self.bits(want.centroids.flatMap { $0 }), "\(name)")
      // A warm start from the single run's model agrees too.
      let warmWant = try TierStage.fit(ledger: whole, table: table, options: options, warmStart: want)
      let warmGot = try TierStage.fit(
        features: features, customerCount: table.count, options: options, warmStart: want)
      #expect(warmGot == warmWant, "\(name)")
    }
  }

  /// Hand-made prices: even and odd counts split over the parts, a
  /// category with paid amounts only, one with refunds only.
  @Test func evenCountsUnlistedAndEmptyCategories() {
    let columns = Ledger.OptionalColumns(listPrice: true, promo: true, channel: true)
    var rows: [Ledger.Row] = []
    // "even": list prices 10, 20, 30, 40 ⇒ median 25 (paid amounts ignored).
    for (c, lp) in [10.0, 40, 20, 30].enumerated() {
      rows.append(.init(customerID: "c\(c)", day: 100, item: "even", amount: lp - 1, listPrice: lp, promo: 1))
    }
    // "unlisted": no list price, paid 5, 7, 9, 11, 13, 2 ⇒ (7 + 9) / 2 = 8.
    for (c, a) in [5.0, 7, 9, 11, 13, 2].enumerated() {
      rows.append(.init(customerID: "c\(c + 2)", day: 101, item: "unlisted", amount: a, channel: "web"))
    }
    // "odd": list prices 0.1, 0.2, 0.7 ⇒ 0.2; a zero list price is unknown.
    for (c, lp) in [0.7, 0.1, 0.2, 0].enumerated() {
      rows.append(.init(customerID: "c\(c + 5)", day: 102, item: "odd", amount: 0.05, listPrice: lp, promo: 0))
    }
    // "refunded": refunds only ⇒ no median, nothing premium.
    rows.append(.init(customerID: "c1", day: 103, item: "refunded", amount: -4, listPrice: 5, channel: "shop"))
    rows.append(.init(customerID: "c3", day: 103, item: "refunded", amount: -3, channel: "shop"))
    let whole = Ledger(rows: rows, columns: columns)
    let table = CustomerTable(ledger: whole, asOfDay: 200)
    let (parts, order) = Self.split(whole, into: 3)
    #expect(parts.filter { $0.customerCount > 0 }.count >= 2)

    var counts = TierPriceCounts(ledger: parts[0])
    for p in parts.dropFirst() { counts.merge(TierPriceCounts(ledger: p)) }
    let medians = counts.medians()
    let want = TierFeatureTable.categoryMedianPrices(whole)
    #expect(Self.bits(medians) == Self.bits(want))
    let byName = Dictionary(uniqueKeysWithValues: zip(whole.categories, medians))
    #expect(byName["even"] == 25)
    #expect(byName["unlisted"] == 8)
    #expect(byName["odd"] == 0.2)
    #expect(byName["refunded"] == .infinity)

    for requested in [TierFeature.allCases, [.premiumShare, .breadth], [.promoShare, .channelShare]] {
      let single = TierFeatureTable(ledger: whole, table: table, requested: requested)
      let sharded = Self.shardedFeatures(parts, order: order, whole: whole, table: table, requested: requested)
      #expect(sharded == single, "\(requested.map(\.rawValue))")
      #expect(sharded.values.map(Self.bits) == single.values.map(Self.bits))
    }
  }

  /// `TierPriceCounts.median` is `Selection.median`'s `Double` on
  /// multisets with many ties, odd and even counts, huge and tiny values.
  @Test func countedMedianIsTheSelectedMedian() {
    var g = SeededGenerator(seed: 21)
    for n in [1, 2, 3, 4, 5, 6, 9, 10, 64, 65, 1000, 1001] {
      for spread in [1.0, 3, 1e6] {
        for scale in [1.0, 1e-300, 1.7e308] {
          let v = (0..<n).map { _ in (1 + Double(Int(g.uniform() * spread))) * scale * (0.5 + g.uniform()) }
          let counted = TierPriceCounts.median(ValueCounts(v))
          #expect(counted.bitPattern == TierFeatureTable.median(v).bitPattern, "n = \(n), spread \(spread)")
        }
      }
    }
  }

  @Test func placingFollowsTheOrder() {
    let a = TierCustomerFeatures(
      discountDepth: [0.1, .nan], promoShare: [1, 0], premiumShare: [0, 0.5], breadth: [1, 2],
      channelShare: [.nan, 1])
    let b = TierCustomerFeatures(
      discountDepth: [0.3], promoShare: [.nan], premiumShare: [1], breadth: [3], channelShare: [0.25])
    // Whole order: b's customer, then a's second, then a's first.
    let order = CustomerOrder(firstLines: [[2, 1], [0]])
    var g = TierCustomerFeatures(customers: 3)
    g.place(a, shard: 0, order: order)
    g.place(b, shard: 1, order: order)
    #expect(g.count == 3)
    #expect(Self.bits(g.discountDepth) == Self.bits([0.3, .nan, 0.1]))
    #expect(Self.bits(g.promoShare) == Self.bits([.nan, 0, 1]))
    #expect(g.premiumShare == [1, 0.5, 0])
    #expect(g.breadth == [3, 2, 1])
    #expect(Self.bits(g.channelShare) == Self.bits([0.25, 1, .nan]))
  }
}
