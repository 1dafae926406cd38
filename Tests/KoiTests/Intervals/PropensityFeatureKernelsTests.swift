import Foundation
import Testing

@testable import Koi

/// The shortcuts of `PropensityFeatures` against the computations they
/// stand for, bit for bit: the gap tables, the aggregates counted in
/// chunks, and a row built from a history shared between windows.
@Suite struct PropensityFeatureKernelsTests {
  static var whole: (ledger: Ledger, histories: PurchaseHistories, model: IntervalModel) {
    PropensityShardPartsTests.whole
  }

  @Test func gapTablesHoldTheFunctionsValues() {
    for gap in Int32(1)..<PropensityFeatures.tabulatedGaps {
      #expect(PropensityFeatures.bin(gap) == PropensityFeatures.computedBin(gap))
      #expect(PropensityFeatures.logGap(gap).bitPattern == Double.log(Double(gap)).bitPattern)
    }
    for gap in [PropensityFeatures.tabulatedGaps, 5000, 1 << 20, Int32.max] {
      #expect(PropensityFeatures.bin(gap) == PropensityFeatures.computedBin(gap))
      #expect(PropensityFeatures.logGap(gap).bitPattern == Double.log(Double(gap)).bitPattern)
    }
    #expect(PropensityFeatures.bin(Int32(1) << 30) == PropensityFeatures.medianBins - 1)
  }

  /// Bit for bit, NaN equal to NaN.
  static func same(_ a: [Double], _ b: [Double]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
  }

  @Test func categoryAggregatesCountedInChunksEqualOneChunk() {
    let (_, h, model) = Self.whole
    #expect(h.pairCount > 4 * 500)
    let start = (0..<h.pairCount).map { h.firstDay[$0] }.min() ?? 0
    for origin in [h.asOfDay, h.asOfDay - 120, h.asOfDay - 400] {
      for horizon in RepurchasePropensity.windows {
        let one = PropensityFeatures.CategoryAggregates(
          histories: h, categoryCount: model.categories.count, origin: origin, horizon: horizon, dataStart: start)
        let chunked = PropensityFeatures.CategoryAggregates(
          histories: h, categoryCount: model.categories.count, origin: origin, horizon: horizon, dataStart: start,
          minimumChunk: 500)
        #expect(Self.same(one.medianGap, chunked.medianGap))
        #expect(Self.same(one.rate, chunked.rate))
        #expect(Self.same(one.buyers, chunked.buyers))
        #expect(Self.same(one.season, chunked.season))
        #expect(one.medianGap.contains { $0.isFinite } && one.rate.contains { $0.isFinite })
      }
    }
  }

  @Test func customersAggregatedInChunksEqualOneChunk() {
    let ledger = Self.whole.ledger
    #expect(ledger.customerCount > 4 * 300)
    for origin in [Self.whole.histories.asOfDay, Self.whole.histories.asOfDay - 200] {
      let one = PropensityFeatures.Customers(ledger: ledger, origin: origin, minimumChunk: 1 << 30)
      let chunked = PropensityFeatures.Customers(ledger: ledger, origin: origin, minimumChunk: 300)
      #expect(one.first == chunked.first && one.last == chunked.last)
      #expect(Self.same(one.days, chunked.days) && Self.same(one.monetary, chunked.monetary))
      #expect(Self.same(one.last30, chunked.last30) && Self.same(one.last90, chunked.last90))
      #expect(one.days.contains { $0 > 1 })
    }
  }

  @Test func aRowFromAnotherWindowsHistoryEqualsItsOwnRow() {
    let (ledger, h, model) = Self.whole
    let origin = h.asOfDay - 60
    let start = (0..<h.pairCount).map { h.firstDay[$0] }.min() ?? 0
    let customers = PropensityFeatures.Customers(ledger: ledger, origin: origin)
    let features = RepurchasePropensity.windows.map {
      PropensityFeatures(
        histories: h, customers: customers, model: model, origin: origin, horizon: $0, dataStart: start)
    }
    let q = PropensityFeatures.count
    var own = [Double](repeating: 0, count: q), shared = own
    var scratch: [Int32] = []
    var rows = 0
    for p in 0..<h.pairCount {
      let history = features[0].history(pair: p, scratch: &scratch)
      for f in features {
        let next = own.withUnsafeMutableBufferPointer { f.row(pair: p, into: $0, scratch: &scratch) }
        #expect(next == history?.next)
        guard let history else { continue }
        shared.withUnsafeMutableBufferPointer { f.row(pair: p, history: history, into: $0) }
        #expect(Self.same(own, shared), "pair \(p)")
        rows += 1
      }
    }
    #expect(rows > 1000)
  }
}
