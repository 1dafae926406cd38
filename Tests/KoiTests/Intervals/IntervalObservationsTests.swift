import Foundation
import Testing

@testable import Koi

/// The covariate fit's observations, built in parallel chunks, against the
/// plain serial construction they replaced.
@Suite struct IntervalObservationsTests {
  /// One observation per gap, then the open interval, per pair in order,
  /// each with the customer's standardized covariates (appended one by one).
  static func serialObservations(
    pairs: ArraySlice<Int32>, histories h: PurchaseHistories, covariates cov: IntervalCovariates?,
    means: [Double], scales: [Double]
  ) -> IntervalObservations {
    var obs = IntervalObservations()
    let q = cov?.names.count ?? 0
    obs.covariateCount = q
    for pp in pairs {
      let p = Int(pp)
      let row = (0..<q).map { j in
        cov.map { IntervalStage.standardized($0, customer: Int(h.pairCustomer[p]), j: j, means: means, scales: scales) }
          ?? 0
      }
      for g in h.gapStart[p]..<h.gapStart[p + 1] {
        obs.logDays.append(Double.log(Double(h.gaps[g])))
        obs.event.append(1)
        obs.covariates += row
      }
      obs.logDays.append(Double.log(Double(h.openInterval(p))))
      obs.event.append(0)
      obs.covariates += row
    }
    return obs
  }

  @Test(arguments: [true, false])
  func parallelObservationsEqualTheSerialOnesBitForBit(withCovariates: Bool) {
    // Enough pairs per category for several chunks of 16,384.
    let l = IntervalSpeedTests.syntheticLedger(customers: 100_000)
    let asOf: Int32 = 20_000
    let table = CustomerTable(ledger: l, asOfDay: asOf)
    let h = PurchaseHistories(ledger: l, asOfDay: asOf)
    let cov = withCovariates ? IntervalCovariates.standard(table: table) : nil
    let grouping = CategoryGrouping(histories: h, categoryCount: l.categories.count, exposureDays: 365)
    var chunked = 0
    for k in 0..<l.categories.count {
      let pairs = grouping.pairs(of: k)
      if pairs.count > 2 * 16_384 { chunked += 1 }
      let (means, scales) =
        cov.map { IntervalStage.covariateMoments(pairs: pairs, histories: h, covariates: $0) } ?? ([], [])
      let fast = IntervalStage.observations(pairs: pairs, histories: h, covariates: cov, means: means, scales: scales)
      let slow = Self.serialObservations(pairs: pairs, histories: h, covariates: cov, means: means, scales: scales)
      #expect(fast.covariateCount == slow.covariateCount)
      #expect(fast.logDays.elementsEqual(slow.logDays) { $0.bitPattern == $1.bitPattern })
      #expect(fast.event == slow.event)
      #expect(fast.covariates.elementsEqual(slow.covariates) { $0.bitPattern == $1.bitPattern })
      #expect(fast.weight.isEmpty)
    }
    #expect(chunked > 0)
  }

  @Test func parallelMapIsTheSerialMap() {
    for count in [0, 1, 2, 7, 100] {
      #expect(Parallel.map(count) { $0 * $0 + 1 } == (0..<count).map { $0 * $0 + 1 })
    }
  }
}
