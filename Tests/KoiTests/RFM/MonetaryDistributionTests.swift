import Testing

@testable import Koi

/// `MonetaryDistribution.percentile` (a table of the values, else a binary
/// search) against counting the customers below, for populations of 0 to
/// 4,097 distinct values and queries below, at (found in the table),
/// between and above the values, ±0 and NaN.
@Suite struct MonetaryDistributionTests {
  @Test(arguments: [0, 1, 63, 64, 65, 128, 1_000, 4_097])
  func percentileCountsTheCustomersBelow(distinct: Int) {
    var g = SeededGenerator(seed: UInt64(distinct) + 1)
    // -100, -97.5, … (0 among them from 41 values on), and -0.0 at 1_000.
    let values = (0..<distinct).map { distinct == 1_000 && $0 == 40 ? -0.0 : Double($0) * 2.5 - 100 }
    let counts = values.map { _ in Int.random(in: 1...3, using: &g) }
    let total = counts.reduce(0, +)
    let d = MonetaryDistribution(values: values, counts: counts)
    var queries = values + values.map { $0 + 1 } + [-.infinity, -1e9, 1e9, .infinity, .nan, 0, -0.0]
    queries += (0..<200).map { _ in Double.random(in: -200...Double(distinct) * 2.5, using: &g) }
    for v in queries {
      let below = zip(values, counts).filter { $0.0 < v }.map(\.1).reduce(0, +)
      #expect(d.percentile(v) == (total > 0 ? Double(below) / Double(total) : 0), "v \(v)")
    }
  }
}
