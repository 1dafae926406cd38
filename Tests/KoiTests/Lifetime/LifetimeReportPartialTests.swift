import Testing

@testable import Koi

/// The lifetime report's figures over all customers: with RFM segments they
/// are the segments' figures merged (each customer is in one segment), and
/// they equal the figures summed customer by customer, count for count and
/// bit for bit (exact sums: the correctly rounded sum of the same values).
@Suite struct LifetimeReportPartialTests {
  @Test func allCustomersAreTheSegmentsMerged() throws {
    let summary = try CDNOWData.summary()
    let options = LifetimeOptions(horizonDays: 39 * 7, annualDiscountRate: 0.1, margin: 0.3)
    let columns = LifetimeStage.score(summary, model: LifetimeStage.fit(summary, options: options), options: options)
    let n = columns.clv.count
    var g = SeededGenerator(seed: 7)
    let segments = (0..<n).map { _ in RFMSegment.allCases.randomElement(using: &g)! }
    let with = LifetimeReport.Partial(columns: columns, segments: segments)
    let without = LifetimeReport.Partial(columns: columns, segments: nil)
    var plain = LifetimeReport.Partial.GroupFigures()
    for c in 0..<n { plain.add(columns, c) }
    for p in [with, without] {
      #expect(p.all.customers == n && p.all.customersWithPAlive == plain.customersWithPAlive)
      #expect(p.all.pAlive.value.bitPattern == plain.pAlive.value.bitPattern)
      #expect(p.all.expectedPurchases.value.bitPattern == plain.expectedPurchases.value.bitPattern)
      #expect(p.all.clv.value.bitPattern == plain.clv.value.bitPattern)
      #expect(p.clv.value.bitPattern == plain.clv.value.bitPattern)
      #expect(p.customersScored == (0..<n).filter { columns.clv[$0] != nil }.count)
    }
    #expect(with.bySegment?.map(\.customers) == RFMSegment.allCases.map { s in segments.filter { $0 == s }.count })
  }
}
