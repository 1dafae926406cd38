import RealModule
import Testing

@testable import Koi

@Suite("Special functions")
struct SpecialFunctionsTests {
  @Test("trigamma: known values and the derivative of digamma")
  func trigamma() {
    #expect(LifetimeMath.trigamma(1).isApproximatelyEqual(to: Double.pi * Double.pi / 6, relativeTolerance: 1e-13))
    #expect(LifetimeMath.trigamma(0.5).isApproximatelyEqual(to: Double.pi * Double.pi / 2, relativeTolerance: 1e-13))
    #expect(LifetimeMath.trigamma(10).isApproximatelyEqual(to: 0.10516633568168575, relativeTolerance: 1e-13))
    for x in [1e-3, 0.07, 0.9, 3.3, 6, 17.5, 400, 1e6] {
      let h = 1e-5 * x
      let numeric = (LifetimeMath.digamma(x + h) - LifetimeMath.digamma(x - h)) / (2 * h)
      #expect(LifetimeMath.trigamma(x).isApproximatelyEqual(to: numeric, relativeTolerance: 1e-6), "x = \(x)")
    }
  }
}
