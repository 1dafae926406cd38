import Foundation
import Testing

@testable import Koi

/// The shortcuts of `PropensityFeatures` against the computations they
/// stand for, bit for bit: the gap tables, the aggregates of many windows
/// counted together and in chunks, and a row built from a history shared
/// between windows.
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

  /// One window's aggregates counted pair by pair, the window alone: the
  /// definition `CategoryAggregates.counted` must equal for every window
  /// it counts together with others.
  static func reference(
    histories h: PurchaseHistories, categoryCount k: Int, origin o: Int32, horizon: Int, dataStart: Int32
  ) -> PropensityFeatures.CategoryAggregates {
    let bins = PropensityFeatures.medianBins
    let hasYear = o - 365 >= dataStart
    var gaps = [Int](repeating: 0, count: k), exposed = gaps, bought = gaps, buyers = gaps
    var seasonWindow = gaps, seasonYear = gaps
    var histogram = [Int](repeating: 0, count: k * bins)
    for p in 0..<h.pairCount where h.firstDay[p] < o {
      let cat = Int(h.pairCategory[p])
      // The pair's purchase days before the origin.
      var days = [h.firstDay[p]]
      for g in h.gapStart[p]..<h.gapStart[p + 1] {
        guard days[days.count - 1] + h.gaps[g] < o else { break }
        days.append(days[days.count - 1] + h.gaps[g])
        histogram[cat * bins + PropensityFeatures.bin(h.gaps[g])] += 1
        gaps[cat] += 1
      }
      for d in days where hasYear && d >= o - 365 {
        seasonYear[cat] += 1
        if d < o - 365 + Int32(horizon) { seasonWindow[cat] += 1 }
      }
      buyers[cat] += 1
      if days[0] < o - Int32(horizon) {
        exposed[cat] += 1
        if days[days.count - 1] >= o - Int32(horizon) { bought[cat] += 1 }
      }
    }
    return PropensityFeatures.CategoryAggregates(
      medianGap: (0..<k).map { c in
        guard gaps[c] > 0 else { return .nan }
        var cumulative = 0
        for b in 0..<bins {
          cumulative += histogram[c * bins + b]
          if 2 * cumulative >= gaps[c] { return PropensityFeatures.binCenter(b) }
        }
        return PropensityFeatures.binCenter(bins - 1)
      },
      rate: (0..<k).map { exposed[$0] > 0 ? Double(bought[$0]) / Double(exposed[$0]) : .nan },
      buyers: buyers.map { Double.log(onePlus: Double($0)) },
      season: (0..<k).map {
        hasYear && seasonYear[$0] > 0 ? Double(seasonWindow[$0]) * 365 / Double(horizon) / Double(seasonYear[$0]) : .nan
      })
  }

  /// Windows counted together (sharing origins and bounds, some with a
  /// season and some without, more than fit one pass) equal each window
  /// counted alone by the definition, in one chunk and in many.
  @Test func aggregatesCountedTogetherEqualEachWindowAlone() {
    let (_, h, model) = Self.whole
    let k = model.categories.count
    let start = (0..<h.pairCount).map { h.firstDay[$0] }.min() ?? 0
    let asOf = h.asOfDay
    var windows: [(origin: Int32, horizon: Int)] = []
    for o in [asOf, asOf - 30, asOf - 90, asOf - 120, asOf - 400, start + 366, start + 10] {
      for horizon in [1, 30, 90, 400] { windows.append((o, horizon)) }
    }
    #expect(windows.count > PropensityFeatures.CategoryAggregates.Bounds.maximumWindows)
    for minimumChunk in [1 << 30, 500] {
      let together = PropensityFeatures.CategoryAggregates.counted(
        histories: h, categoryCount: k, windows: windows, dataStart: start, minimumChunk: minimumChunk)
      #expect(together.count == windows.count)
      for (w, window) in windows.enumerated() {
        let alone = Self.reference(
          histories: h, categoryCount: k, origin: window.origin, horizon: window.horizon, dataStart: start)
        let got = together[w]
        #expect(Self.same(got.medianGap, alone.medianGap), "medianGap \(window)")
        #expect(Self.same(got.rate, alone.rate), "rate \(window)")
        #expect(Self.same(got.buyers, alone.buyers), "buyers \(window)")
        #expect(Self.same(got.season, alone.season), "season \(window)")
      }
    }
    let atAsOf = Self.reference(histories: h, categoryCount: k, origin: asOf, horizon: 30, dataStart: start)
    #expect(atAsOf.medianGap.contains { $0.isFinite } && atAsOf.rate.contains { $0.isFinite })
    #expect(atAsOf.season.contains { $0.isFinite })
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

  /// Customer `c`'s aggregates at origin `o`, scanned from its first row:
  /// the definition the advanced aggregates must equal.
  static func customerReference(_ ledger: Ledger, _ c: Int, origin o: Int32) -> (
    first: Int32, last: Int32, days: Double, monetary: Double, last30: Double, last90: Double
  ) {
    var r = (first: Int32.max, last: Int32.min, days: 0.0, monetary: 0.0, last30: 0.0, last90: 0.0)
    var previous = Int32.min
    for i in ledger.rows(of: c) {
      let d = ledger.day[i]
      if d >= o { break }
      r.monetary += ledger.amount[i]
      guard isPurchase(ledger.amount[i]) else { continue }
      if r.first == Int32.max { r.first = d }
      r.last = d
      if d != previous {
        r.days += 1
        if d >= o - 30 { r.last30 += 1 }
        if d >= o - 90 { r.last90 += 1 }
        previous = d
      }
    }
    return r
  }

  /// Aggregates advanced through origins in ascending order (close
  /// together, further apart, repeated, in one chunk and in many) equal
  /// each origin's scan from every customer's first row, bit for bit.
  @Test func customersAdvancedThroughOriginsEqualEachOriginScannedAlone() {
    let (ledger, h, _) = Self.whole
    let asOf = h.asOfDay
    let origins = [asOf - 700, asOf - 210, asOf - 180, asOf - 150, asOf - 150, asOf - 120, asOf - 31, asOf, asOf + 400]
    for minimumChunk in [1 << 30, 300] {
      var customers = PropensityFeatures.Customers(customerCount: ledger.customerCount)
      var inWindows = 0.0, windowsDiffer = false
      for o in origins {
        customers.advance(to: o, ledger: ledger, minimumChunk: minimumChunk)
        #expect(customers.origin == o)
        for c in 0..<ledger.customerCount {
          let r = Self.customerReference(ledger, c, origin: o)
          #expect(customers.first[c] == r.first && customers.last[c] == r.last, "customer \(c) at \(o)")
          #expect(customers.days[c].bitPattern == r.days.bitPattern, "customer \(c) at \(o)")
          #expect(customers.monetary[c].bitPattern == r.monetary.bitPattern, "customer \(c) at \(o)")
          #expect(customers.last30[c].bitPattern == r.last30.bitPattern, "customer \(c) at \(o)")
          #expect(customers.last90[c].bitPattern == r.last90.bitPattern, "customer \(c) at \(o)")
          inWindows += customers.last30[c]
          windowsDiffer = windowsDiffer || customers.last30[c] < customers.last90[c]
        }
        let alone = PropensityFeatures.Customers(ledger: ledger, origin: o, minimumChunk: minimumChunk)
        #expect(alone.first == customers.first && alone.last == customers.last)
        #expect(Self.same(alone.monetary, customers.monetary) && Self.same(alone.last90, customers.last90))
      }
      #expect(inWindows > 100 && windowsDiffer)
      #expect(customers.days.contains { $0 > 1 })
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
