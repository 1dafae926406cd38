import Testing

@testable import Koi

@Suite struct StandardNormalTests {
  @Test func normalQuantileAndUpperTailAreAccurate() {
    // Φ⁻¹ at known points.
    #expect(abs(standardNormalQuantile(0.975) - 1.959963984540054) < 1e-12)
    #expect(abs(standardNormalQuantile(0.1) + 1.2815515655446004) < 1e-12)
    #expect(abs(standardNormalQuantile(1e-10) + 6.361340902404056) < 1e-9)
    // log Φ(−z) continuous across the switch to the asymptotic series.
    let below = logNormalUpperTail(29.999_999), above = logNormalUpperTail(30.000_001)
    #expect(abs(below - above) < 1e-4)
    #expect(logNormalUpperTail(-40) == 0)
    // Inverse of the tail, in and beyond the quantile's range.
    for target in [-0.01, -2.0, -50.0, -500.0] {
      #expect(abs(logNormalUpperTail(logNormalUpperTailInverse(target)) - target) < 1e-9 * max(1, abs(target)))
    }
  }
}
