import Foundation
import Testing

@testable import Koi

/// A synthetic chain where the tier of every customer is known by construction.
enum TierFixture {
  static let truth: [PriceSensitivityTier] = [
    .savvyPriceSensitive, .savvyQualityFocused, .noviceCrowdFollower, .noviceDealSeeker,
  ]

  /// `perTier` customers per tier; returns the ledger, the table and the true tiers.
  static func make(
    perTier: Int, seed: UInt64, columns: Ledger.OptionalColumns = .init(listPrice: true, promo: true, channel: true)
  )
    -> (Ledger, CustomerTable, [PriceSensitivityTier])
  {
    var g = SeededGenerator(seed: seed)
    var rows: [Ledger.Row] = []
    let asOf: Int32 = 20_000
    let items = ["filler", "botox", "peel", "laser", "cleaning"]
    for c in 0..<(4 * perTier) {
      let tier = truth[c % 4]
      let id = "c\(c)"
      let savvy = tier == .savvyPriceSensitive || tier == .savvyQualityFocused
      let deal = tier == .savvyPriceSensitive || tier == .noviceDealSeeker
      let visits = savvy ? 8 + Int(g.uniform() * 6) : 1 + Int(g.uniform() * 2)
      let tenure = savvy ? 500 + Int(g.uniform() * 400) : 20 + Int(g.uniform() * 60)
      for v in 0..<visits {
        let day = asOf - Int32(tenure) + Int32(v * tenure / max(1, visits))
        let item = savvy ? items[(v + c) % 5] : items[c % 2]
        let list = tier == .savvyQualityFocused ? 300 + 40 * g.uniform() : 100 + 10 * g.uniform()
        let paid = deal ? list * (0.55 + 0.1 * g.uniform()) : list * (0.97 + 0.03 * g.uniform())
        let promo: Int8 = deal ? 1 : 0
        let channel = deal ? ["meituan", "dianping", "wechat"][v % 3] : "wechat"
        rows.append(
          .init(
            customerID: id, day: day, item: item, amount: paid,
            listPrice: columns.listPrice ? list : .nan, promo: columns.promo ? promo : -1,
            channel: columns.channel ? channel : nil))
      }
    }
    let ledger = Ledger(rows: rows, columns: columns)
    let table = CustomerTable(ledger: ledger, asOfDay: asOf)
    let truthByIndex = ledger.customerIDs.map { truth[Int($0.dropFirst())! % 4] }
    return (ledger, table, truthByIndex)
  }
}

@Suite struct TierStageTests {
  @Test func constructedTiersAreNamedCorrectly() throws {
    let (ledger, table, truth) = TierFixture.make(perTier: 60, seed: 1)
    let model = try TierStage.fit(ledger: ledger, table: table, options: TierOptions(seed: 3))
    #expect(model.features == TierFeature.defaultClustering)
    #expect(model.droppedFeatures.isEmpty)
    #expect(Set(model.clusterTiers).count == 4)
    let scores = TierStage.score(ledger: ledger, table: table, model: model)
    #expect(zip(scores.tier, truth).filter { $0.0 != $0.1 }.count == 0)
    // Scoring the fitting data reproduces the fit's cluster sizes.
    #expect((0..<4).map { j in scores.cluster.filter { $0 == Int32(j) }.count } == model.clusterSizes)
    #expect(scores.confidence.allSatisfy { $0 >= 0 && $0 <= 1 })
    #expect(scores.confidence.reduce(0, +) / Double(scores.count) > 0.5)
    let profiles = TierStage.profiles(table: table, model: model, columns: scores)
    #expect(profiles.map(\.size) == [60, 60, 60, 60])
    // Shares are rounded to 6 places: the four add up to 1 within 4 × 5e-7.
    #expect(abs(profiles.map(\.revenueShare).reduce(0, +) - 1) <= 2e-6)
    #expect(profiles.map(\.share) == [0.25, 0.25, 0.25, 0.25])
    // Quality-focused buy the dearest items: the largest revenue share.
    #expect(profiles.max(by: { $0.revenueShare < $1.revenueShare })?.tier == .savvyQualityFocused)
    #expect(profiles[0].axes!.savvy > 0 && profiles[0].axes!.priceSensitivity > 0)
    #expect(profiles[2].axes!.savvy < 0 && profiles[2].axes!.priceSensitivity < 0)
    // Centroids back in raw units: novices buy fewer treatments than the
    // savvy; the quality-focused barely discount. Tenure is not clustered on.
    let breadth = try #require(profiles[3].centroid["breadth"])
    #expect(try breadth < #require(profiles[0].centroid["breadth"]))
    #expect(try #require(profiles[1].centroid["discount_depth"]) < 0.1)
    #expect(profiles[3].centroid["tenure_days"] == nil)
  }

  @Test func modelRoundTripsThroughJSONWithSnakeCaseKeys() throws {
    let (ledger, table, _) = TierFixture.make(perTier: 10, seed: 2)
    let model = try TierStage.fit(ledger: ledger, table: table)
    let data = try JSONEncoder.koi.encode(model)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"cluster_tiers\""))
    #expect(text.contains("\"standard_deviations\""))
    #expect(text.contains("savvy_quality_focused"))
    #expect(try JSONDecoder.koi.decode(TierModel.self, from: data) == model)
  }

  @Test func warmStartKeepsTierIdentities() throws {
    let (l1, t1, _) = TierFixture.make(perTier: 40, seed: 4)
    let first = try TierStage.fit(ledger: l1, table: t1, options: TierOptions(seed: 1))
    // Next run: new customers from the same population, another seed.
    let (l2, t2, truth2) = TierFixture.make(perTier: 50, seed: 5)
    let second = try TierStage.fit(ledger: l2, table: t2, options: TierOptions(seed: 99), warmStart: first)
    #expect(second.warmStarted)
    #expect(second.clusterTiers == first.clusterTiers)
    let s = TierStage.score(ledger: l2, table: t2, model: second)
    #expect(zip(s.tier, truth2).filter { $0.0 != $0.1 }.count == 0)
    // Cluster j of the new model is cluster j of the old one.
    for j in 0..<4 {
      let shift = zip(first.centroids[j], second.centroids[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
      #expect(shift < 0.5)
    }
  }

  @Test func warmStartWithOtherFeaturesFallsBackToColdStart() throws {
    let (l1, t1, _) = TierFixture.make(perTier: 20, seed: 6)
    let all = TierOptions(features: TierFeature.allCases)
    let first = try TierStage.fit(ledger: l1, table: t1, options: all)
    let (l2, t2, _) = TierFixture.make(perTier: 20, seed: 7, columns: .init(listPrice: true, promo: true))
    let second = try TierStage.fit(ledger: l2, table: t2, options: all, warmStart: first)
    #expect(!second.warmStarted)
    #expect(second.notes.contains { $0.contains("cold start") })
    #expect(second.droppedFeatures.map(\.feature) == [.channelShare])
  }

  @Test func missingColumnsDropFeaturesWithReasons() throws {
    let (ledger, table, _) = TierFixture.make(perTier: 20, seed: 8, columns: .init())
    let model = try TierStage.fit(ledger: ledger, table: table, options: TierOptions(features: TierFeature.allCases))
    #expect(model.features == [.premiumShare, .breadth, .tenureDays, .purchaseDays, .netSpend])
    #expect(model.droppedFeatures.map(\.feature) == [.discountDepth, .promoShare, .channelShare])
    #expect(model.droppedFeatures.allSatisfy { $0.reason.contains("no") })
    let s = TierStage.score(ledger: ledger, table: table, model: model)
    #expect(s.tier.allSatisfy { $0 != nil })
  }

  @Test func unknownListPricesAreImputedWithTheMedian() {
    let l = Ledger(
      rows: [
        .init(customerID: "a", day: 1, item: "x", amount: 80, listPrice: 100),
        .init(customerID: "b", day: 1, item: "x", amount: 50, listPrice: 100),
        .init(customerID: "c", day: 1, item: "x", amount: 90, listPrice: 100),
        .init(customerID: "d", day: 1, item: "x", amount: 70),
      ], columns: .init(listPrice: true))
    let f = TierFeatureTable(ledger: l, table: CustomerTable(ledger: l, asOfDay: 10))
    let depth = f.column(.discountDepth)!
    #expect(abs(depth[0] - 0.2) < 1e-12 && abs(depth[1] - 0.5) < 1e-12 && abs(depth[2] - 0.1) < 1e-12)
    #expect(abs(depth[3] - 0.2) < 1e-12)
    #expect(f.imputed[.discountDepth] == 1)
    #expect(f.column(.tenureDays)! == [9, 9, 9, 9])
    // Category median list price 100: nobody's price (100, or 70 paid) is above it.
    #expect(f.column(.premiumShare)! == [0, 0, 0, 0])
  }

  @Test func degenerateInputsNeverCrash() throws {
    // Fewer customers than k.
    let few = Ledger(rows: [
      .init(customerID: "a", day: 1, item: "x", amount: 10),
      .init(customerID: "b", day: 2, item: "y", amount: 20),
    ])
    let fewTable = CustomerTable(ledger: few, asOfDay: 5)
    let m1 = try TierStage.fit(ledger: few, table: fewTable)
    #expect(m1.k == 2)
    #expect(m1.notes.contains { $0.contains("fewer than k") })
    #expect(TierStage.score(ledger: few, table: fewTable, model: m1).tier.allSatisfy { $0 != nil })

    // One customer.
    let one = Ledger(rows: [.init(customerID: "a", day: 1, item: "x", amount: 10)])
    let oneTable = CustomerTable(ledger: one, asOfDay: 5)
    let m2 = try TierStage.fit(ledger: one, table: oneTable)
    #expect(m2.k == 1)
    #expect(TierStage.score(ledger: one, table: oneTable, model: m2).confidence == [1])

    // All customers identical.
    let same = Ledger(rows: (0..<10).map { .init(customerID: "c\($0)", day: 1, item: "x", amount: 10) })
    let sameTable = CustomerTable(ledger: same, asOfDay: 5)
    let m3 = try TierStage.fit(ledger: same, table: sameTable)
    #expect(m3.k == 1)
    #expect(m3.notes.contains { $0.contains("identical") })

    // Only two distinct customer profiles for k = 4.
    let two = Ledger(
      rows: (0..<10).map { .init(customerID: "c\($0)", day: 1, item: "x", amount: $0 % 2 == 0 ? 10 : 500) })
    let twoTable = CustomerTable(ledger: two, asOfDay: 5)
    let m4 = try TierStage.fit(ledger: two, table: twoTable)
    #expect(m4.notes.contains { $0.contains("clusters have customers") })
    let s4 = TierStage.score(ledger: two, table: twoTable, model: m4)
    #expect(s4.tier.allSatisfy { $0 != nil })

    // No customers at all.
    let none = Ledger(rows: [])
    let m5 = try TierStage.fit(ledger: none, table: CustomerTable(ledger: none, asOfDay: 5))
    #expect(m5.k == 0)

    // Bad options are an error, not a trap.
    #expect(throws: TierError.self) { try TierStage.fit(ledger: few, table: fewTable, options: TierOptions(k: 1)) }
  }

  @Test func tierNamingForOtherK() {
    let axes = [
      TierAxes(savvy: 1, priceSensitivity: 0.2), TierAxes(savvy: -0.5, priceSensitivity: -1),
      TierAxes(savvy: 0.1, priceSensitivity: -2),
    ]
    #expect(
      PriceSensitivityTier.assign(axes: axes) == [.savvyPriceSensitive, .noviceCrowdFollower, .savvyQualityFocused])
    // k = 4 uses the best permutation even where a greedy choice would clash.
    let four = [
      TierAxes(savvy: 2, priceSensitivity: 0.1), TierAxes(savvy: 1, priceSensitivity: 0.2),
      TierAxes(savvy: -1, priceSensitivity: -1), TierAxes(savvy: -1, priceSensitivity: 1),
    ]
    #expect(
      PriceSensitivityTier.assign(axes: four) == [
        .savvyQualityFocused, .savvyPriceSensitive, .noviceCrowdFollower, .noviceDealSeeker,
      ])
  }
}

@Suite struct TierScalingTests {
  @Test func standardiseAndOriginalAreInverse() throws {
    let table = TierFeatureTable(
      features: [.netSpend, .promoShare, .breadth],
      values: [[0, 100, 1000, 50], [0.1, 0.5, 0.9, 0.5], [2, 2, 2, 2]],
      dropped: [], imputed: [:])
    let s = TierScaling(fitting: table)
    #expect(s.constantFeatures == [.breadth])
    #expect(s.logTransformed == [true, false, true])
    for f in 0..<2 {
      for v in table.values[f] {
        #expect(abs(s.original(s.standardise(v, feature: f), feature: f) - v) < 1e-9 * max(1, v))
      }
    }
    #expect(s.standardise(7, feature: 2) == 0)
    // Standardised columns have mean 0 and sd 1.
    let m = s.matrix(table)
    let col = (0..<4).map { Double(m[point: $0, feature: 0]) }
    #expect(abs(col.reduce(0, +)) < 1e-6)
    #expect(abs(col.map { $0 * $0 }.reduce(0, +) / 4 - 1) < 1e-6)
    let back = try JSONDecoder().decode(TierScaling.self, from: JSONEncoder().encode(s))
    #expect(back == s)
  }
}

extension TierFeatureTable {
  /// `Selection.median` of a copy of a non-empty array (the mean of the
  /// middle two for an even count): the tests' reference for the medians
  /// the stage selects in place.
  static func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    var v = values
    return v.withUnsafeMutableBufferPointer { Selection.median($0.baseAddress!, count: $0.count) }
  }
}

@Suite struct MedianTests {
  @Test func quickselectMatchesSorting() {
    var g = SeededGenerator(seed: 3)
    for n in [1, 2, 3, 4, 5, 10, 11, 100, 101, 1000] {
      for duplicates in [false, true] {
        let v = (0..<n).map { _ in duplicates ? Double(Int(g.uniform() * 5)) : g.normal() }
        let s = v.sorted()
        let want = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        #expect(TierFeatureTable.median(v) == want, "n = \(n)")
      }
    }
  }
}
