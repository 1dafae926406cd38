import Testing

@testable import Koi

/// `ValueCounts` against sorting and grouping, on every path: whole
/// numbers in a short range (counted by value), and what falls back to the
/// radix sort (fractions, long ranges, ±∞, -0.0).
@Suite struct ValueCountsTests {
  /// Ascending distinct values with their counts, by a comparison sort.
  static func reference(_ values: [Double]) -> (values: [Double], counts: [Int]) {
    var v: [Double] = [], c: [Int] = []
    for x in values.sorted() {
      if let last = v.last, last == x { c[c.count - 1] += 1 } else { v.append(x); c.append(1) }
    }
    return (v, c)
  }

  @Test func everyPathGivesTheSortedCounts() {
    var g = SeededGenerator(seed: 5)
    let cases: [[Double]] = [
      (0..<5_000).map { _ in Double(Int.random(in: 0..<400, using: &g)) },  // recencies
      (0..<5_000).map { _ in Double(Int.random(in: -3_000...3_000, using: &g)) },  // refunds
      (0..<300).map { _ in Double(Int.random(in: 0..<1_000_000, using: &g)) },  // range too long for the count
      [4_503_599_627_370_495, -4_503_599_627_370_495, 0],  // near 2^52: too long a range
      [1, 2, 2.5, 3],  // a fraction
      [7, .infinity, 7, -.infinity],
      [3, 0.0, -0.0, 3],
      [42],
      [],
    ]
    for values in cases {
      let counts = ValueCounts(values)
      let expected = Self.reference(values)
      #expect(counts.values == expected.values && counts.counts == expected.counts)
      #expect(counts.values.map(\.bitPattern) == expected.values.map(\.bitPattern))
    }
  }
}
