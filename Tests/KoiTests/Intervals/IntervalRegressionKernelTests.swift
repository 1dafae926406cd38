import Foundation
import Testing

@testable import Koi

/// The two-covariate kernel of `IntervalRegression.evaluate` against its
/// general loop: the same log-likelihood, gradient and negative Hessian,
/// bit for bit.
@Suite struct IntervalRegressionKernelTests {
  /// The literal is the computed constant it replaced.
  @Test func halfLogTwoPiIsTheComputedConstant() {
    #expect(IntervalFamily.halfLogTwoPi.bitPattern == (0.5 * Double.log(2 * Double.pi)).bitPattern)
  }

  @Test(arguments: [IntervalFamily.weibull, .logNormal], [false, true])
  func twoCovariateKernelEqualsTheGeneralLoopBitForBit(family: IntervalFamily, cure: Bool) {
    let l = IntervalSpeedTests.syntheticLedger(customers: 40_000)
    let asOf: Int32 = 20_000
    let h = PurchaseHistories(ledger: l, asOfDay: asOf)
    let cov = IntervalCovariates.standard(table: CustomerTable(ledger: l, asOfDay: asOf))
    #expect(cov.names.count == 2)
    let grouping = CategoryGrouping(histories: h, categoryCount: l.categories.count, exposureDays: 365)
    let pairs = grouping.pairs(of: 0)
    let (means, scales) = IntervalStage.covariateMoments(pairs: pairs, histories: h, covariates: cov)
    let obs = IntervalStage.observations(pairs: pairs, histories: h, covariates: cov, means: means, scales: scales)
    #expect(obs.count > 2 * 32_768)  // several chunks
    // Every observation; then a prefix of one chunk, three whole blocks of
    // `termBlock` and part of a fourth.
    let prefix = 3 * IntervalRegression.termBlock + 37
    // Covariate coefficients 0 (a covariate fit's start) engage the kernel's
    // `CensoredTermCache`.
    let betas: [[Double]] = [[4.2, 0.15, -0.08], [4.2, 0, 0]]
    let cases: [(Bool, Int, [Double])] = [(false, obs.count), (true, obs.count), (false, prefix), (true, prefix)]
      .flatMap { weighted, length in betas.map { (weighted, length, $0) } }
    for (weighted, length, beta) in cases {
      var obs = obs
      obs.logDays = Array(obs.logDays.prefix(length))
      obs.event = Array(obs.event.prefix(length))
      obs.covariates = Array(obs.covariates.prefix(2 * length))
      if weighted { obs.weight = (0..<obs.count).map { Double(1 + $0 % 3) } }
      let alpha: Double? = cure ? 1.3 : nil
      let fast = IntervalRegression.evaluate(
        obs, family: family, beta: beta, logScale: -0.4, logitReturn: alpha, derivatives: true)
      let slow = IntervalRegression.evaluate(
        obs, family: family, beta: beta, logScale: -0.4, logitReturn: alpha, derivatives: true,
        twoCovariateKernel: false)
      #expect(fast.logLikelihood.bitPattern == slow.logLikelihood.bitPattern)
      #expect(fast.gradient.elementsEqual(slow.gradient) { $0.bitPattern == $1.bitPattern })
      let dim = fast.gradient.count
      #expect(dim == (cure ? 5 : 4))
      for j in 0..<dim {
        for k in 0..<dim {
          #expect(fast.negativeHessian[j, k].bitPattern == slow.negativeHessian[j, k].bitPattern)
        }
      }
    }
  }

  /// A remembered term is returned only for the same bits of z and
  /// `log t`; anything else is computed (and then remembered).
  @Test func censoredTermCacheComputesOnlyWhatItHasNotSeen() {
    var cache = CensoredTermCache()
    var computed = 0
    func term(_ z: Double, _ y: Double) -> IntervalRegression.Term {
      cache.term(z: z, logDays: y) {
        computed += 1
        return (z, y, z * y, 0, 0, 0)
      }
    }
    let y = Double.log(30.0), z = 0.25
    #expect(term(z, y) == (z, y, z * y, 0, 0, 0))
    #expect(term(z, y) == (z, y, z * y, 0, 0, 0))
    #expect(computed == 1)
    // Another z with the same log t, then another log t.
    #expect(term(z.nextUp, y).logLikelihood == z.nextUp)
    #expect(computed == 2)
    #expect(term(z, y).logLikelihood == z)
    #expect(computed == 3)
    #expect(term(z, Double.log(31.0)).u1 == Double.log(31.0))
    #expect(computed == 4)
    // Every day length up to 4,000 seen twice: at most one computation per
    // length and per slot collision, never more than two each.
    computed = 0
    for _ in 0..<2 { for d in 1...4_000 { _ = term(0.5, Double.log(Double(d))) } }
    #expect(computed >= 4_000 && computed < 8_000)
  }
}
