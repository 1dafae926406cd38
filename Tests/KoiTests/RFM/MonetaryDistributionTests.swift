import Foundation
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

/// model.json's `monetary_distribution`, written directly, is the text
/// `JSONEncoder.koiCompact` writes: whole and fractional amounts, negative
/// ones, ±0, magnitudes from 1e-300 to 1e300 (exponent forms) and the
/// doubles around 2^53.
@Suite struct MonetaryDistributionTextTests {
  @Test func theTextIsTheEncodersText() throws {
    var g = SeededGenerator(seed: 42)
    var values: Set<Double> = [
      0, 1, -1, 11.77, 1e15, 1e16, 1e17, 1e-5, 1e-4, 2.5e-7, 9_007_199_254_740_992, 9_007_199_254_740_994, 1e300,
    ]
    values.insert(-0.0)
    for _ in 0..<20_000 {
      values.insert(Double(Int.random(in: -1_000_000...1_000_000, using: &g)) / 100)
      let exponent = Double(Int.random(in: -300...300, using: &g))
      values.insert(Double.random(in: -10...10, using: &g) * pow(10, exponent))
    }
    let sorted = values.filter { $0 != 0 || $0.sign == .plus }.sorted()
    let d = MonetaryDistribution(values: sorted, counts: sorted.map { _ in Int.random(in: 1...100_000, using: &g) })
    #expect(try d.storedText() == d.encodedStoredText())
    for small in [
      MonetaryDistribution(values: [], counts: []), MonetaryDistribution(values: [-0.0, 1], counts: [2, 3]),
    ] {
      #expect(try small.storedText() == small.encodedStoredText())
    }
  }
}
