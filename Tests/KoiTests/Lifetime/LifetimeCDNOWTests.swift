import Foundation
import Testing

@testable import Koi

@Suite("Lifetime: CDNOW reference figures")
struct LifetimeCDNOWTests {
  @Test("the two CDNOW files hold the same 2,357 customers")
  func sameCustomers() throws {
    let a = try CDNOWData.rows("cdnow_customers_summary.csv")
    let b = try CDNOWData.rows("cdnow_customers_summary_with_transactions.csv")
    #expect(a.count == 2357)
    #expect(b.count == 2357)
    #expect(zip(a, b).allSatisfy { $0[0] == $1[0] && $0[1] == $1[1] && $0[2] == $1[2] })
  }

  @Test("BG/NBD reproduces Fader, Hardie & Lee (2005)")
  func bgnbd() throws {
    let fit = BGNBD.fit(try CDNOWData.summary())
    let p = fit.parameters
    #expect(fit.diagnostics.converged)
    #expect(abs(p.r - 0.243) < 0.0005)
    #expect(abs(p.alpha - 4.414) < 0.0005)
    #expect(abs(p.a - 0.793) < 0.0005)
    #expect(abs(p.b - 2.426) < 0.0005)
    #expect(abs(fit.logLikelihood - -9582.4) < 0.05)
    // lifetimes 0.11.3 on the same data: r 0.2425929, α 4.4135323, a 0.7928860, b 2.4257524.
    #expect(p.r.isApproximatelyEqual(to: 0.2425929, relativeTolerance: 1e-5))
    #expect(p.alpha.isApproximatelyEqual(to: 4.4135323, relativeTolerance: 1e-5))
    #expect(p.a.isApproximatelyEqual(to: 0.7928860, relativeTolerance: 1e-5))
    #expect(p.b.isApproximatelyEqual(to: 2.4257524, relativeTolerance: 1e-5))
    let se = try #require(fit.standardErrors)
    // lifetimes' standard errors: 0.012557, 0.378221, 0.185719, 0.705345.
    #expect(se.r.isApproximatelyEqual(to: 0.012557, relativeTolerance: 2e-3))
    #expect(se.alpha.isApproximatelyEqual(to: 0.378221, relativeTolerance: 2e-3))
    #expect(se.a.isApproximatelyEqual(to: 0.185719, relativeTolerance: 2e-3))
    #expect(se.b.isApproximatelyEqual(to: 0.705345, relativeTolerance: 2e-3))

    // FHL 2005: x = 2, t_x = 30.43, T = 38.86 → 1.226 purchases in 39 weeks.
    let e = BGNBD.expectedPurchases(p, x: 2, tx: 30.43, t: 38.86, horizon: 39)
    #expect(abs(e - 1.226) < 0.0005)
    #expect(e.isApproximatelyEqual(to: 1.2259104, relativeTolerance: 1e-5))
    #expect(
      BGNBD.probabilityAlive(p, x: 2, tx: 30.43, t: 38.86).isApproximatelyEqual(to: 0.7266091, relativeTolerance: 1e-5))
    #expect(
      BGNBD.expectedPurchases(p, x: 0, tx: 0, t: 38.86, horizon: 39).isApproximatelyEqual(
        to: 0.1947809, relativeTolerance: 1e-5))
    #expect(
      BGNBD.expectedPurchases(p, x: 50, tx: 30, t: 38.86, horizon: 10).isApproximatelyEqual(
        to: 0.0069576, relativeTolerance: 1e-4))
  }

  @Test("Gamma-Gamma reproduces Fader & Hardie's CDNOW spend model")
  func gammaGamma() throws {
    let summary = try CDNOWData.summary()
    let fit = GammaGamma.fit(summary)
    let g = fit.parameters
    #expect(fit.diagnostics.converged)
    #expect(fit.customersUsed == 946)
    #expect(abs(g.p - 6.25) < 0.005)
    #expect(abs(g.q - 3.74) < 0.005)
    #expect(abs(g.gamma - 15.44) < 0.01)
    // lifetimes 0.11.3: p 6.2488025, q 3.7445885, γ 15.4477481.
    #expect(g.p.isApproximatelyEqual(to: 6.2488025, relativeTolerance: 1e-5))
    #expect(g.q.isApproximatelyEqual(to: 3.7445885, relativeTolerance: 1e-5))
    #expect(g.gamma.isApproximatelyEqual(to: 15.4477481, relativeTolerance: 1e-5))
    // lifetimes conditional_expected_average_profit for the first three customers.
    let expected = [24.6586162, 18.9114799, 35.1710022]
    for i in 0..<3 {
      let v = try #require(
        GammaGamma.expectedSpend(g, x: summary.frequency[i], monetaryValue: summary.monetaryValue[i]))
      #expect(v.isApproximatelyEqual(to: expected[i], relativeTolerance: 1e-5))
    }
  }
}

extension LifetimeCDNOWTests {
  @Test("MBG/NBD (k = 1) matches lifetimes' ModifiedBetaGeoFitter on CDNOW")
  func mbgnbd() throws {
    let summary = try CDNOWData.summary()
    let fit = try #require(
      RegularTimingMBG.fit(
        CompressedRecency(summary), logIntervalTotal: 0, repeatTotal: 0,
        maximumK: 1, maximumIterations: 200))
    let p = fit.parameters
    #expect(fit.diagnostics.converged)
    #expect(p.k == 1)
    // lifetimes 0.11.3 ModifiedBetaGeoFitter: r 0.5248377, α 6.1829885, a 0.8913563, b 1.6140000.
    #expect(p.r.isApproximatelyEqual(to: 0.5248377, relativeTolerance: 1e-4))
    #expect(p.alpha.isApproximatelyEqual(to: 6.1829885, relativeTolerance: 1e-4))
    #expect(p.a.isApproximatelyEqual(to: 0.8913563, relativeTolerance: 1e-4))
    #expect(p.b.isApproximatelyEqual(to: 1.6140000, relativeTolerance: 1e-4))
    // Its conditional predictions for x = 2, t_x = 30.43, T = 38.86 and x = 0, T = 38.86 (39 weeks).
    let reference = RegularTimingParameters(
      k: 1, r: 0.5248377255677019, alpha: 6.182988479134203, a: 0.8913562809310627, b: 1.614000025671838)
    #expect(
      RegularTimingMBG.probabilityAlive(reference, x: 2, tx: 30.43, t: 38.86).isApproximatelyEqual(
        to: 0.70612626, relativeTolerance: 1e-6))
    #expect(
      RegularTimingMBG.probabilityAlive(reference, x: 0, tx: 0, t: 38.86).isApproximatelyEqual(
        to: 0.38971644, relativeTolerance: 1e-6))
    #expect(
      RegularTimingMBG.expectedPurchases(reference, x: 2, tx: 30.43, t: 38.86, horizon: 39).isApproximatelyEqual(
        to: 1.2626707787, relativeTolerance: 1e-6))
    #expect(
      RegularTimingMBG.expectedPurchases(reference, x: 0, tx: 0, t: 38.86, horizon: 39).isApproximatelyEqual(
        to: 0.1539536444, relativeTolerance: 1e-6))
  }
}
