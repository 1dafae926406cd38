import Foundation
import Testing

@testable import Koi

@Suite("Lifetime: edge cases never produce NaN, infinity or a crash")
struct LifetimeEdgeCaseTests {
  static let bg = BGNBDParameters(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)

  static func allFiniteOrNil(_ c: LifetimeColumns) -> Bool {
    [c.probabilityAlive, c.expectedPurchases, c.probabilityNoPurchase, c.expectedSpend, c.clv]
      .allSatisfy { $0.allSatisfy { $0 == nil || $0!.isFinite } }
  }

  static func inUnitInterval(_ v: some Collection<Double?>) -> Bool {
    v.allSatisfy { $0 == nil || ($0! >= 0 && $0! <= 1) }
  }

  @Test(
    "per-customer formulas at the extremes",
    arguments: [
      (0.0, 0.0, 0.0),  // bought today
      (0.0, 0.0, 500.0),
      (1.0, 10.0, 10.0),  // t_x = T
      (10_000.0, 364.0, 365.0),  // very large x
      (10_000.0, 10.0, 5000.0),  // very large x, long gone
      (3.0, 1e-9, 1e6),
    ])
  func formulas(x: Double, tx: Double, t: Double) {
    let p = Self.bg
    for h in [0.0, 1.0, 39.0, 1e4] {
      let alive = BGNBD.probabilityAlive(p, x: x, tx: tx, t: t)
      let e = BGNBD.expectedPurchases(p, x: x, tx: tx, t: t, horizon: h)
      let none = BGNBD.probabilityNoPurchase(p, x: x, tx: tx, t: t, horizon: h)
      #expect(alive.isFinite && alive >= 0 && alive <= 1)
      #expect(e.isFinite && e >= 0)
      #expect(none.isFinite && none >= 0 && none <= 1)
      let reg = RegularTimingParameters(k: 3, r: 2, alpha: 20, a: 0.8, b: 3)
      let ra = RegularTimingMBG.probabilityAlive(reg, x: x, tx: tx, t: t)
      let re = RegularTimingMBG.expectedPurchases(reg, x: x, tx: tx, t: t, horizon: h)
      let rn = RegularTimingMBG.probabilityNoPurchase(reg, x: x, tx: tx, t: t, horizon: h)
      #expect(ra.isFinite && ra >= 0 && ra <= 1)
      #expect(re.isFinite && re >= 0)
      #expect(rn.isFinite && rn >= 0 && rn <= 1)
    }
  }

  @Test("the 2F1 series agrees with the quadrature it falls back to")
  func seriesAgreesWithQuadrature() {
    let p = Self.bg
    for (x, t, h) in [(0.0, 38.86, 39.0), (2.0, 38.86, 39.0), (7.0, 10.0, 200.0), (40.0, 50.0, 5.0)] {
      let series = BGNBD.expectedPurchasesIfAlive(p, x: x, t: t, horizon: h)
      let quad = BGNBD.poissonDropoutExpectation(shape: p.r + x, rate: p.alpha + t, a: p.a, b: p.b + x, horizon: h)
      #expect(
        series.isApproximatelyEqual(to: quad, relativeTolerance: 1e-7), "x=\(x) t=\(t) h=\(h): \(series) vs \(quad)")
    }
    // a + b ≤ 1 with x = 0 has no convergent series (c ≤ 0): quadrature answers.
    let q = BGNBDParameters(r: 0.5, alpha: 3, a: 0.3, b: 0.4)
    let e = BGNBD.expectedPurchasesIfAlive(q, x: 0, t: 10, horizon: 20)
    #expect(e.isFinite && e > 0)
    // a = 1 exactly is the removable singularity.
    let one = BGNBDParameters(r: 0.5, alpha: 3, a: 1, b: 2)
    let e1 = BGNBD.expectedPurchasesIfAlive(one, x: 1, t: 10, horizon: 20)
    let eNear = BGNBD.expectedPurchasesIfAlive(
      BGNBDParameters(r: 0.5, alpha: 3, a: 1.001, b: 2), x: 1, t: 10, horizon: 20)
    #expect(e1.isApproximatelyEqual(to: eNear, relativeTolerance: 1e-2))
  }

  @Test("MBG/CNBD-k with k = 1 is the MBG/NBD: the Poisson-timing expectation is exact")
  func mbgExpectation() throws {
    let reg = RegularTimingParameters(k: 1, r: 0.5, alpha: 5, a: 0.8, b: 2.5)
    let x = 3.0, t = 40.0, h = 30.0
    let post = RegularTimingMBG.posterior(reg, x: x, tx: 20, t: t)
    let direct = BGNBD.poissonDropoutExpectation(
      shape: reg.r + x, rate: reg.alpha + t, a: reg.a, b: reg.b + x + 1, horizon: h)
    let e = RegularTimingMBG.expectedPurchasesIfAlive(reg, weights: post.weights, x: x, t: t, horizon: h)
    #expect(e.isApproximatelyEqual(to: direct, relativeTolerance: 1e-7))
    // The negative-binomial stage series used for k > 1 reduces to the same closed form at k = 1.
    let series = try #require(RegularTimingMBG.stageSeries(reg, stage: 0, x: x, t: t, horizon: h))
    #expect(series.isApproximatelyEqual(to: direct, relativeTolerance: 1e-9))
  }

  @Test("everyone with x = 0: no purchase model, null columns, a diagnostic")
  func nobodyRepeats() {
    let s = LifetimeSummary(
      frequency: [0, 0, 0], recency: [0, 0, 0], age: [5, 10, 0], monetaryValue: [0, 0, 0],
      logIntervalSum: [0, 0, 0])
    let model = LifetimeStage.fit(s)
    #expect(model.chosen == .none)
    #expect(model.diagnostics.contains { $0.contains("repeat purchase") })
    #expect(model.gammaGamma?.diagnostics.converged == false)
    let c = LifetimeStage.score(s, model: model)
    #expect(c.probabilityAlive.allSatisfy { $0 == nil })
    #expect(c.clv.allSatisfy { $0 == nil })
    #expect(c.expectedSpend.allSatisfy { $0 == nil })
  }

  @Test(
    "a single customer, all customers identical, T = 0: finite or null, with diagnostics",
    arguments: [
      LifetimeSummary(frequency: [3], recency: [20], age: [30], monetaryValue: [50], logIntervalSum: [5]),
      LifetimeSummary(
        frequency: [Int32](repeating: 2, count: 50), recency: [Double](repeating: 10, count: 50),
        age: [Double](repeating: 20, count: 50), monetaryValue: [Double](repeating: 30, count: 50),
        logIntervalSum: [Double](repeating: 3, count: 50)),
      LifetimeSummary(
        frequency: [0, 1, 4, 0], recency: [0, 3, 9, 0], age: [0, 3, 12, 0], monetaryValue: [0, 20, 35, 0],
        logIntervalSum: [0, 1.1, 2, 0]),
      LifetimeSummary(
        frequency: [10_000, 1, 0, 2], recency: [364, 50, 0, 100], age: [365, 300, 200, 100],
        monetaryValue: [12, 80, 0, 40], logIntervalSum: [-1000, 3.9, 0, 7]),
    ])
  func degenerate(summary: LifetimeSummary) throws {
    let model = LifetimeStage.fit(summary, options: LifetimeOptions(maximumErlangK: 3))
    let c = LifetimeStage.score(summary, model: model)
    #expect(Self.allFiniteOrNil(c))
    #expect(Self.inUnitInterval(c.probabilityAlive))
    #expect(Self.inUnitInterval(c.probabilityNoPurchase))
    #expect(c.expectedPurchases.allSatisfy { $0 == nil || $0! >= 0 })
    // model.json must encode (no NaN or infinity).
    _ = try JSONEncoder().encode(model)
    if model.chosen == .none || model.bgnbd?.standardErrors == nil {
      #expect(!model.diagnostics.isEmpty)
    }
  }

  @Test("invalid summary rows are left out and scored null")
  func invalidRows() {
    let s = LifetimeSummary(
      frequency: [2, -1, 1, 3, 0], recency: [5, 0, 9, .nan, 0], age: [10, 10, 5, 20, 7],
      monetaryValue: [10, 0, 10, 10, 0])
    let model = LifetimeStage.fit(s, options: LifetimeOptions(maximumErlangK: 0))
    #expect(model.invalidCustomers == 3)
    let c = LifetimeStage.score(s, model: model, options: LifetimeOptions(maximumErlangK: 0))
    #expect(c.probabilityAlive[1] == nil && c.probabilityAlive[2] == nil && c.probabilityAlive[3] == nil)
    #expect(Self.allFiniteOrNil(c))
  }

  @Test("Gamma-Gamma with q ≤ 1 reports the infinite mean instead of negative spend")
  func infiniteMeanSpend() {
    let g = GammaGammaParameters(p: 0.5, q: 0.8, gamma: 10)
    #expect(GammaGamma.expectedSpend(g, x: 0, monetaryValue: 0) == nil)
    // p·x + q − 1 = 0.3 > 0: the customer's conditional mean exists.
    #expect(GammaGamma.expectedSpend(g, x: 1, monetaryValue: 20) != nil)
    // p·x + q − 1 ≤ 0: it does not.
    #expect(GammaGamma.expectedSpend(GammaGammaParameters(p: 0.1, q: 0.5, gamma: 10), x: 2, monetaryValue: 20) == nil)
    #expect(GammaGamma.expectedSpend(g, x: 3, monetaryValue: 20)! > 0)
    // Heavy-tailed spends: fit must not yield NaN and must say so if q ≤ 1.
    var gen = SeededGenerator(seed: 7)
    var x = [Int32](), m = [Double]()
    for _ in 0..<400 {
      let n = Int32(1 + gen.poisson(mean: 2))
      x.append(n)
      let u = max(1e-12, gen.uniform())
      m.append(10 / (u * u))  // Pareto-like, no finite mean
    }
    let s = LifetimeSummary(
      frequency: x, recency: x.map { Double($0) }, age: x.map { Double($0) + 5 }, monetaryValue: m)
    let fit = GammaGamma.fit(s)
    #expect(fit.parameters.p.isFinite && fit.parameters.q.isFinite && fit.parameters.gamma.isFinite)
    if fit.parameters.q <= 1 {
      #expect(fit.populationMeanSpend == nil)
      #expect(fit.diagnostics.message?.contains("no finite mean") == true)
    }
  }
}
