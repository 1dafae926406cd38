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
    for (weighted, length) in [(false, obs.count), (true, obs.count), (false, prefix), (true, prefix)] {
      var obs = obs
      obs.logDays = Array(obs.logDays.prefix(length))
      obs.event = Array(obs.event.prefix(length))
      obs.covariates = Array(obs.covariates.prefix(2 * length))
      if weighted { obs.weight = (0..<obs.count).map { Double(1 + $0 % 3) } }
      let beta = [4.2, 0.15, -0.08]
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
}
