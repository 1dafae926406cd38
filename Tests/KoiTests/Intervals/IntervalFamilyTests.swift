import RealModule
import Testing

@testable import Koi

@Suite struct IntervalFamilyTests {
  @Test(arguments: IntervalFamily.allCases)
  func conditionalQuantitiesAgreeWithTheSurvivalFunction(family: IntervalFamily) {
    let mu = Double.log(120), sigma = 0.4
    func logS(_ t: Double) -> Double { family.logSurvivalW((Double.log(t) - mu) / sigma) }
    for e in [1.0, 60, 120, 400, 2_000] {
      let p = family.conditionalProbability(elapsed: e, horizon: 30, location: mu, scale: sigma)
      let direct = 1 - Double.exp(logS(e + 30) - logS(e))
      #expect(abs(p - direct) < 1e-12)
      #expect(p >= 0 && p <= 1)
      // The inverse of the survival function, also deep in the tail.
      let target = logS(e) + Double.log(0.5)
      let t = Double.exp(mu + sigma * family.inverseLogSurvivalW(target))
      #expect(t >= e)
      #expect(abs(logS(t) - target) < 1e-7)
    }
    let median = family.gapWithSurvival(0.5, location: mu, scale: sigma)
    #expect(abs(logS(median) - Double.log(0.5)) < 1e-12)
  }
}

@Suite struct IntervalRegressionDerivativeTests {
  /// The analytic gradient and negative Hessian of the censored likelihood,
  /// with and without a return probability, against central differences.
  @Test(arguments: IntervalFamily.allCases, [false, true])
  func analyticDerivativesMatchFiniteDifferences(family: IntervalFamily, cure: Bool) {
    var g = SeededGenerator(seed: 5)
    var obs = IntervalObservations()
    obs.covariateCount = 1
    for _ in 0..<300 {
      let x = g.normal()
      obs.logDays.append(4 + 0.3 * x + 0.5 * g.normal())
      obs.event.append(g.uniform() < 0.7 ? 1 : 0)
      obs.covariates.append(x)
    }
    let beta = [4.1, 0.2], eta = -0.6
    let alpha: Double? = cure ? 1.3 : nil
    let theta = beta + [eta] + (alpha.map { [$0] } ?? [])
    func ll(_ t: [Double]) -> Double {
      IntervalRegression.evaluate(
        obs, family: family, beta: [t[0], t[1]], logScale: t[2], logitReturn: cure ? t[3] : nil,
        derivatives: false
      ).logLikelihood
    }
    func grad(_ t: [Double]) -> [Double] {
      IntervalRegression.evaluate(
        obs, family: family, beta: [t[0], t[1]], logScale: t[2], logitReturn: cure ? t[3] : nil,
        derivatives: true
      ).gradient
    }
    let e = IntervalRegression.evaluate(
      obs, family: family, beta: beta, logScale: eta, logitReturn: alpha, derivatives: true)
    let h = 1e-5
    for j in 0..<theta.count {
      var up = theta, down = theta
      up[j] += h; down[j] -= h
      let numeric = (ll(up) - ll(down)) / (2 * h)
      #expect(abs(e.gradient[j] - numeric) < 1e-5 * max(1, abs(numeric)), "gradient \(j)")
      let gu = grad(up), gd = grad(down)
      for k in 0..<theta.count {
        let numericH = -(gu[k] - gd[k]) / (2 * h)
        #expect(abs(e.negativeHessian[j, k] - numericH) < 1e-4 * max(1, abs(numericH)), "hessian \(j),\(k)")
      }
    }
  }
}

@Suite struct IntervalFamilyDerivativeTests {
  /// The regression's terms take their derivatives from values they already
  /// computed (eᶻ, log S_W): the same numbers, bit for bit, as computing
  /// the derivatives from z alone.
  @Test(arguments: IntervalFamily.allCases)
  func derivativesFromTheTermsValuesEqualThoseFromZBitForBit(family: IntervalFamily) {
    let zs = Array(stride(from: -45.0, through: 45.0, by: 0.173)) + [0, -0.0, 29.999, 30, 30.001, 38]
    for z in zs {
      let (logF, e1, e2) = family.logDensityAndEventDerivatives(z)
      let (c1, c2) = family.censoredDerivatives(z, logSurvival: family.logSurvivalW(z))
      let expected: (event: (Double, Double, Double), censored: (Double, Double))
      switch family {
      case .weibull:
        let e = Double.exp(z)
        expected = ((z - e, 1 - e, -e), (-e, -e))
      case .logNormal:
        let m = millsRatio(z)
        expected = ((-0.5 * z * z - IntervalFamily.halfLogTwoPi, -z, -1), (-m, -m * (m - z)))
      }
      #expect(logF.bitPattern == family.logDensityW(z).bitPattern, "z = \(z)")
      #expect(logF.bitPattern == expected.event.0.bitPattern, "z = \(z)")
      #expect(e1.bitPattern == expected.event.1.bitPattern, "z = \(z)")
      #expect(e2.bitPattern == expected.event.2.bitPattern, "z = \(z)")
      #expect(c1.bitPattern == expected.censored.0.bitPattern, "z = \(z)")
      #expect(c2.bitPattern == expected.censored.1.bitPattern, "z = \(z)")
    }
  }

  @Test func millsRatioFromTheTailEqualsMillsRatioBitForBit() {
    for z in stride(from: -40.0, through: 60.0, by: 0.29) {
      #expect(millsRatio(z, logUpperTail: logNormalUpperTail(z)).bitPattern == millsRatio(z).bitPattern)
      #expect(
        millsRatio(z).bitPattern
          == Double.exp(-0.5 * z * z - IntervalFamily.halfLogTwoPi - logNormalUpperTail(z)).bitPattern)
    }
  }
}
