import Foundation
import Testing

@testable import Koi

/// Cross-check of the censored AFT fit against an independent reference:
/// `benchmarks/intervals/censored_reference.py` fits the same data with scipy
/// (the likelihood written out, BFGS, numerical Hessian) and with lifelines'
/// WeibullAFTFitter / LogNormalAFTFitter, checks they agree, and writes
/// `Fixtures/intervals/censored_reference.json`.
@Suite struct IntervalReferenceTests {
  struct Reference: Decodable {
    struct Fit: Decodable {
      var mu: Double
      var log_scale: Double
      var log_likelihood: Double
      var standard_errors: [Double]
    }
    var days: [Int]
    var event: [Int]
    var fits: [String: Fit]
  }

  @Test(arguments: IntervalFamily.allCases)
  func censoredFitMatchesScipyAndLifelines(family: IntervalFamily) throws {
    let url = try #require(Bundle.module.resourceURL)
      .appendingPathComponent("Fixtures/intervals/censored_reference.json")
    let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    var obs = IntervalObservations()
    for (d, e) in zip(ref.days, ref.event) {
      obs.logDays.append(Double.log(Double(d)))
      obs.event.append(UInt8(e))
    }
    let fit = IntervalRegression.fit(obs, family: family)
    let expected = try #require(ref.fits[family.rawValue])
    #expect(fit.converged)
    #expect(abs(fit.coefficients[0] - expected.mu) < 1e-6)
    #expect(abs(fit.logScale - expected.log_scale) < 1e-6)
    #expect(fit.logLikelihood.isApproximatelyEqual(to: expected.log_likelihood, relativeTolerance: 1e-9))
    let se = try #require(fit.standardErrors)
    #expect(se[0].isApproximatelyEqual(to: expected.standard_errors[0], relativeTolerance: 1e-4))
    #expect(se[1].isApproximatelyEqual(to: expected.standard_errors[1], relativeTolerance: 1e-4))
  }
}
