import Testing

@testable import Koi

/// The RFM report's figures summed in chunks on every core and merged
/// (`RFMReport.Partial`) are those of one pass over the customers in
/// order: counts, score sums, ranges, and exact sums to the bit.
@Suite struct RFMReportPartialTests {
  @Test func chunkedFiguresAreTheSerialOnes() {
    var g = SeededGenerator(seed: 11)
    let n = 70_000  // several chunks of 16,384
    let bins = 5
    // Amounts over many magnitudes, refunds and ties included, so the exact
    // sums differ from plain ones; a score of 0 lies outside every bin.
    let columns = RFMColumns(
      recencyDays: (0..<n).map { _ in Int32.random(in: 1...2000, using: &g) },
      frequency: (0..<n).map { _ in Int32.random(in: 1...80, using: &g) },
      monetary: (0..<n).map { _ in
        Double.random(in: -50...50, using: &g) * Double.pow(10, Double(Int.random(in: -3...9, using: &g)))
      },
      rScore: (0..<n).map { _ in UInt8.random(in: 0...5, using: &g) },
      fScore: (0..<n).map { _ in UInt8.random(in: 1...5, using: &g) },
      mScore: (0..<n).map { _ in UInt8.random(in: 1...5, using: &g) },
      segment: (0..<n).map { _ in RFMSegment.allCases.randomElement(using: &g)! })
    let p = RFMReport.Partial(columns: columns, bins: bins)

    var revenue = ExactSum()
    var segmentRevenue = [ExactSum](repeating: ExactSum(), count: RFMSegment.allCases.count)
    var recency = [(Int, Double, Double)](repeating: (0, .infinity, -.infinity), count: bins)
    for c in 0..<n {
      revenue.add(columns.monetary[c])
      segmentRevenue[columns.segment[c].ordinal].add(columns.monetary[c])
      let r = Int(columns.rScore[c])
      if r >= 1 {
        let d = Double(columns.recencyDays[c])
        recency[r - 1] = (recency[r - 1].0 + 1, min(recency[r - 1].1, d), max(recency[r - 1].2, d))
      }
    }
    #expect(p.customers == n)
    #expect(p.revenue.value.bitPattern == revenue.value.bitPattern)
    for s in RFMSegment.allCases {
      let members = (0..<n).filter { columns.segment[$0] == s }
      let f = p.segments[s.ordinal]
      #expect(f.customers == members.count)
      #expect(f.revenue.value.bitPattern == segmentRevenue[s.ordinal].value.bitPattern)
      #expect(f.recencyDays == members.reduce(0) { $0 + Int(columns.recencyDays[$1]) })
      #expect(f.mScore == members.reduce(0) { $0 + Int(columns.mScore[$1]) })
    }
    for b in 0..<bins {
      let r = p.recencyRanges[b]
      #expect(r.customers == recency[b].0 && r.min == recency[b].1 && r.max == recency[b].2)
    }
    #expect(p.frequencyRanges.map(\.customers).reduce(0, +) == n)
    #expect(p.netAmounts == ValueCounts(columns.monetary))
  }
}
