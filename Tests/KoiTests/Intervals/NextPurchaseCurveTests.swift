import Foundation
import RealModule
import Testing

@testable import Koi

@Suite struct NextPurchaseCurveTests {
  static let statistical = NextPurchaseCurve.Statistical(
    family: .logNormal, location: Double.log(60), scale: 0.5, elapsed: 20, logitReturn: 1.5)

  /// The bent curve passes through the boosted probabilities at the knots,
  /// keeps the statistical conditional survival beyond the last one, and
  /// `time` inverts `logSurvival` everywhere.
  @Test(arguments: [(0.10, 0.35), (0.55, 0.80), (0.02, 0.03)])
  func theCurvePassesThroughItsKnotsAndInvertsExactly(p30: Double, p90: Double) throws {
    let curve = NextPurchaseCurve(statistical: Self.statistical, knots: [(30, p30), (90, p90)])
    #expect(curve.probability(within: 30).isApproximatelyEqual(to: p30, relativeTolerance: 1e-12))
    #expect(curve.probability(within: 90).isApproximatelyEqual(to: p90, relativeTolerance: 1e-12))
    let s = Self.statistical
    for t in [120.0, 200, 365] {
      let beyond = curve.logSurvival(t) - curve.logSurvival(90)
      #expect(beyond.isApproximatelyEqual(to: s.logSurvival(t) - s.logSurvival(90), relativeTolerance: 1e-9))
    }
    var previous = 0.0
    for t in stride(from: 1.0, through: 365, by: 7) {
      let f = curve.probability(within: t)
      #expect(f >= previous)
      previous = f
      let back = try #require(curve.time(atLogSurvival: curve.logSurvival(t)))
      #expect(abs(back - t) < 1e-6 * t, "t \(t) back \(back)")
    }
    // Quantiles and the conditional median agree with the curve.
    let h = 365.0
    if let m = curve.medianGivenPurchase(within: h) {
      #expect(
        curve.probability(within: m).isApproximatelyEqual(to: curve.probability(within: h) / 2, relativeTolerance: 1e-9)
      )
    }
    #expect((curve.quantile(0.5, horizon: h) == nil) == (curve.probability(within: h) < 0.5))
    #expect(curve.returnProbability >= curve.probability(within: h))
  }

  @Test func withoutKnotsItIsTheIntervalModelsCurve() {
    let s = Self.statistical
    let curve = NextPurchaseCurve(statistical: s)
    let direct = IntervalFamily.logNormal.conditionalProbability(
      elapsed: 20, horizon: 30, location: Double.log(60), scale: 0.5, logitReturn: 1.5)
    #expect(curve.probability(within: 30).isApproximatelyEqual(to: direct, relativeTolerance: 1e-12))
    #expect(curve.returnProbability.isApproximatelyEqual(to: s.returnProbability, relativeTolerance: 1e-15))
  }

  @Test func knotsAloneGiveAConstantHazardPerSegmentAndNoReturnProbability() {
    let curve = NextPurchaseCurve(statistical: nil, knots: [(30, 0.2), (90, 0.5)])
    #expect(curve.probability(within: 15).isApproximatelyEqual(to: 1 - (0.8).squareRoot(), relativeTolerance: 1e-12))
    #expect(curve.probability(within: 90).isApproximatelyEqual(to: 0.5, relativeTolerance: 1e-12))
    #expect(curve.returnProbability.isNaN)
  }
}
