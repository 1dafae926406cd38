import Foundation
import RealModule
import Testing

@testable import Koi

@Suite struct IntervalCovariateTests {
  /// Two tiers in one category: tier 1 repeats on a 200-day median, tier 0 on
  /// 120. With the tier as a covariate the AFT regression recovers both.
  @Test func aTierCovariateIsKeptAndRecoversBothCycles() throws {
    let a = IntervalSimulator(
      categories: [.init(name: "botox", cycle: .logNormal(median: 120, sigma: 0.3), customers: 800)], seed: 1)
    let b = IntervalSimulator(
      categories: [.init(name: "botox", cycle: .logNormal(median: 200, sigma: 0.3), customers: 800)], seed: 2)
    var rows = a.rows()
    rows += b.rows().map { r in
      var r = r; r.customerID = "B" + r.customerID; return r
    }
    let l = Ledger(rows: rows)
    let t = CustomerTable(ledger: l, asOfDay: a.asOfDay)
    let x = l.customerIDs.map { $0.hasPrefix("B") ? 1.0 : 0.0 }
    let cov = IntervalCovariates(names: ["tier_premium"], values: Matrix(rows: x.count, columns: 1, values: x))
    let model = IntervalStage.fit(ledger: l, table: t, covariates: cov)
    let m = model.categories[0]
    #expect(m.covariateNames == ["tier_premium"])
    #expect(m.coefficients.count == 2)
    #expect(m.family == .logNormal)
    let se = try #require(m.coefficientStandardErrors[1])
    #expect(m.coefficients[1] / se > 10)
    // Location at x: β₀ + β₁ (x − mean)/scale; median = e^location for the log-normal.
    func median(_ v: Double) -> Double {
      Double.exp(m.coefficients[0] + m.coefficients[1] * (v - m.covariateMeans[0]) / m.covariateScales[0])
    }
    #expect(median(0).isApproximatelyEqual(to: 120, relativeTolerance: 0.05), "\(median(0))")
    #expect(median(1).isApproximatelyEqual(to: 200, relativeTolerance: 0.05), "\(median(1))")
    // Without the covariates at score time the model predicts at the means.
    let cols = IntervalStage.score(ledger: l, table: t, model: model, covariates: cov)
    let first = l.customerIDs.firstIndex { $0.hasPrefix("B") }!
    #expect(cols.location[cols.pairs(of: first).lowerBound] > Double.log(150))
  }

  @Test func aCovariateThatDoesNotHelpIsLeftOut() {
    let a = IntervalSimulator(
      categories: [.init(name: "filler", cycle: .weibull(shape: 3, scale: 150), customers: 600)], seed: 3)
    let l = Ledger(rows: a.rows())
    let t = CustomerTable(ledger: l, asOfDay: a.asOfDay)
    var g = SeededGenerator(seed: 9)
    let noise = (0..<l.customerCount).map { _ in g.normal() }
    let constant = [Double](repeating: 5, count: l.customerCount)
    var v: [Double] = []
    for i in 0..<l.customerCount { v.append(noise[i]); v.append(constant[i]) }
    let cov = IntervalCovariates(
      names: ["noise", "constant"], values: Matrix(rows: l.customerCount, columns: 2, values: v))
    let model = IntervalStage.fit(ledger: l, table: t, covariates: cov)
    let m = model.categories[0]
    #expect(m.covariateLogLikelihood != nil)
    #expect(m.covariateNames.isEmpty)
    #expect(m.coefficients.count == 1)
  }
}

/// Speed of fit + score on ~1M customers. Off by default (it needs a release
/// build): `KOI_INTERVAL_BENCH=1000000 swift test -c release --filter IntervalSpeed`.
@Suite struct IntervalSpeedTests {
  @Test(.enabled(if: ProcessInfo.processInfo.environment["KOI_INTERVAL_BENCH"] != nil))
  func fitAndScoreAMillionCustomers() {
    let customers = Int(ProcessInfo.processInfo.environment["KOI_INTERVAL_BENCH"] ?? "") ?? 1_000_000
    let clock = ContinuousClock()
    let t0 = clock.now
    let l = Self.syntheticLedger(customers: customers)
    let asOf: Int32 = 20_000
    let table = CustomerTable(ledger: l, asOfDay: asOf)
    let t1 = clock.now
    let h = PurchaseHistories(ledger: l, asOfDay: asOf)
    let t2 = clock.now
    let model = IntervalStage.fit(histories: h, categoryNames: l.categories, covariates: .standard(table: table))
    let t3 = clock.now
    let cols = IntervalStage.score(
      histories: h, categoryNames: l.categories, model: model, covariates: .standard(table: table))
    let t4 = clock.now
    let direct = IntervalStage.fit(ledger: l, table: table)
    let t5 = clock.now
    _ = IntervalStage.score(ledger: l, table: table, model: direct)
    let t6 = clock.now
    print(
      """
      interval bench: \(customers) customers, \(l.rowCount) rows, \(h.pairCount) pairs, \(h.gaps.count) gaps, \(Parallel.coreCount) cores
        generate ledger + table  \(t1 - t0)
        histories                \(t2 - t1)
        fit (2 covariates)       \(t3 - t2)
        score (2 covariates)     \(t4 - t3)
        fit(ledger:) intercept   \(t5 - t4)
        score(ledger:)           \(t6 - t5)
      """)
    for m in model.categories {
      print(
        "  \(m.name): \(m.basis) \(m.family.map { "\($0)" } ?? "-") median \(m.medianGapDays ?? .nan) covariates \(m.covariateNames) κ \(m.shrinkageRatio ?? .nan)"
      )
    }
    #expect(cols.pairCount == h.pairCount)
  }

  /// Columns built directly: each customer buys in 1–3 of five categories
  /// (two Weibull, two log-normal cycles, one one-off), with a customer
  /// multiplier exp(0.3·N(0,1)) on their gaps, over 900 days.
  static func syntheticLedger(customers: Int) -> Ledger {
    let cycles: [IntervalSimulator.Cycle] = [
      .weibull(shape: 2.5, scale: 110), .logNormal(median: 180, sigma: 0.35),
      .weibull(shape: 2, scale: 35), .logNormal(median: 30, sigma: 0.5), .oneOff,
    ]
    let names = ["botox", "filler", "cleaning", "booster", "implant"]
    var customer: [Int32] = [], day: [Int32] = [], category: [Int32] = [], amount: [Double] = []
    var start = [0]
    let asOf: Int32 = 20_000
    for c in 0..<customers {
      var g = SeededGenerator(seed: 7, stream: UInt64(c))
      let k = 1 + Int(g.uniform() * 3)
      var days: [(Int32, Int32)] = []
      let mult = Double.exp(0.3 * g.normal())
      // k distinct categories: a random rotation of 0..<5, first k.
      let offset = Int32(g.uniform() * 5)
      for j in 0..<k {
        let cat = (offset + Int32(j)) % 5
        var d = asOf - 1 - Int32(g.uniform() * 900)
        days.append((d, cat))
        while true {
          let gap = cycles[Int(cat)].draw(&g) * mult
          if !gap.isFinite || Double(d) + gap.rounded() >= Double(asOf) { break }
          d += Int32(max(1, gap.rounded()))
          if d >= asOf { break }
          days.append((d, cat))
        }
      }
      days.sort { $0.0 < $1.0 }
      for (d, cat) in days {
        customer.append(Int32(c)); day.append(d); category.append(cat); amount.append(100)
      }
      start.append(customer.count)
    }
    let n = customer.count
    return Ledger(
      customerIDs: (0..<customers).map { "c\($0)" }, categories: names, channels: [], stores: [],
      customer: customer, day: day, category: category, amount: amount,
      listPrice: [Double](repeating: .nan, count: n), promo: [Int8](repeating: -1, count: n),
      channel: [Int32](repeating: -1, count: n), store: [Int32](repeating: -1, count: n),
      customerStart: start, columns: Ledger.OptionalColumns())
  }
}

@Suite struct IntervalCovariateBadInputTests {
  @Test func nonFiniteCovariatesAreReplacedByTheMean() {
    let a = IntervalSimulator(
      categories: [.init(name: "botox", cycle: .weibull(shape: 2, scale: 100), customers: 400)], seed: 4)
    let l = Ledger(rows: a.rows())
    let t = CustomerTable(ledger: l, asOfDay: a.asOfDay)
    var v = IntervalCovariates.standard(table: t).values
    v[0, 0] = .nan
    v[1, 1] = .infinity
    let cov = IntervalCovariates(names: ["log_tenure_days", "log_spend_per_purchase"], values: v)
    let model = IntervalStage.fit(ledger: l, table: t, covariates: cov)
    let m = model.categories[0]
    #expect(m.basis == .fitted)
    #expect(m.coefficients.allSatisfy { $0.isFinite })
    #expect(m.covariateMeans.allSatisfy { $0.isFinite } && m.covariateScales.allSatisfy { $0.isFinite })
    let cols = IntervalStage.score(ledger: l, table: t, model: model, covariates: cov)
    #expect(cols.probability90.allSatisfy { $0 >= 0 && $0 <= 1 })
    #expect(cols.location.allSatisfy { $0.isFinite })
  }
}
