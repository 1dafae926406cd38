import Foundation
import Testing

@testable import Koi

/// The intercept-only fits' observations counted in parallel chunks
/// (`IntervalLengthCounts`) against the two serial passes they replaced, and
/// the hold-out's training counts taken as all counts less the held-out
/// fifth's against counting the training pairs directly.
@Suite struct IntervalLengthCountsTests {
  /// The replaced construction: the longest length in a first pass over the
  /// pairs, the counts in a second, then one weighted observation per length
  /// with a count, gaps before open intervals.
  static func serialCompressedObservations(pairs: ArraySlice<Int32>, histories h: PurchaseHistories)
    -> IntervalObservations
  {
    var longest: Int32 = 1
    for pp in pairs {
      let p = Int(pp)
      longest = max(longest, h.openInterval(p))
      for g in h.gapStart[p]..<h.gapStart[p + 1] { longest = max(longest, h.gaps[g]) }
    }
    var events = [Int32](repeating: 0, count: Int(longest) + 1)
    var censored = events
    for pp in pairs {
      let p = Int(pp)
      censored[Int(h.openInterval(p))] &+= 1
      for g in h.gapStart[p]..<h.gapStart[p + 1] { events[Int(h.gaps[g])] &+= 1 }
    }
    var obs = IntervalObservations()
    for d in 1...Int(longest) {
      if events[d] > 0 { obs.appendWeighted(length: Int32(d), event: 1, count: Int(events[d])) }
      if censored[d] > 0 { obs.appendWeighted(length: Int32(d), event: 0, count: Int(censored[d])) }
    }
    return obs
  }

  static func expectEqual(_ a: IntervalObservations, _ b: IntervalObservations) {
    #expect(a.count == b.count)
    #expect(a.logDays.elementsEqual(b.logDays) { $0.bitPattern == $1.bitPattern })
    #expect(a.event == b.event)
    #expect(a.weight.elementsEqual(b.weight) { $0.bitPattern == $1.bitPattern })
    #expect(a.covariates.isEmpty && b.covariates.isEmpty && a.covariateCount == 0)
  }

  @Test func parallelCountsEqualTheSerialPassesAndSubtractionEqualsCounting() throws {
    // Enough pairs per category for several chunks of 16,384.
    let l = IntervalSpeedTests.syntheticLedger(customers: 100_000)
    let asOf: Int32 = 20_000
    let h = PurchaseHistories(ledger: l, asOfDay: asOf)
    let grouping = CategoryGrouping(histories: h, categoryCount: l.categories.count, exposureDays: 365)
    var chunked = 0
    for k in 0..<l.categories.count {
      let pairs = grouping.pairs(of: k)
      if pairs.count > 2 * 16_384 { chunked += 1 }
      let counts = try #require(IntervalLengthCounts(pairs: pairs, histories: h))
      let serial = Self.serialCompressedObservations(pairs: pairs, histories: h)
      #expect(serial.count > 0)
      Self.expectEqual(counts.observations, serial)
      // The dictionary used beyond `longestCounted` days gives the same.
      Self.expectEqual(IntervalStage.compressedObservations(pairs: pairs, histories: h), serial)
      // The hold-out's split (`covariatesHoldOut`).
      let train = ArraySlice(pairs.filter { h.pairCustomer[Int($0)] % 5 != 0 })
      let test = ArraySlice(pairs.filter { h.pairCustomer[Int($0)] % 5 == 0 })
      let testCounts = try #require(IntervalLengthCounts(pairs: test, histories: h))
      Self.expectEqual(
        counts.subtracting(testCounts).observations, Self.serialCompressedObservations(pairs: train, histories: h))
    }
    #expect(chunked > 0)
  }
}
