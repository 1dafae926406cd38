import RealModule
import Testing

@testable import Koi

/// The tier stage's parallel loops against plain serial computations of
/// their definitions, bit for bit: the per-customer features, the scaling
/// and its matrix, the imputation medians and the nearest-centroid scoring.
@Suite struct TierParallelKernelTests {
  static let columns = Ledger.OptionalColumns(listPrice: true, promo: true, channel: true, store: true)
  /// Missing list prices, promotion flags and channels (`gaps`).
  static let ledger = TierShardPartsTests.generated(customers: 2500, seed: 21, columns: columns, gaps: true)
  static let table = CustomerTable(ledger: ledger, asOfDay: DayNumber.from(year: 2026, month: 1, day: 1))

  static func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

  /// `TierCustomerFeatures(ledger:medians:)` by its definition, one customer
  /// and one row at a time.
  @Test func customerFeaturesAreTheSerialDefinitions() {
    let l = Self.ledger
    let medians = TierFeatureTable.categoryMedianPrices(l)
    for given in [medians, []] {
      var discount: [Double] = [], promo: [Double] = [], premium: [Double] = [], breadth: [Double] = []
      var channel: [Double] = []
      for c in 0..<l.customerCount {
        var purchases = 0, listed = 0, promoKnown = 0, promoYes = 0, premiumCount = 0, depth = 0.0
        var categories = Set<Int32>(), tally: [Int32: Int] = [:]
        for i in l.rows(of: c) where isPurchase(l.amount[i]) {
          purchases += 1
          let lp = l.listPrice[i]
          if lp.isFinite && lp > 0 {
            listed += 1
            depth += min(1, max(-1, 1 - l.amount[i] / lp))
          }
          if l.promo[i] >= 0 { promoKnown += 1 }
          if l.promo[i] == 1 { promoYes += 1 }
          categories.insert(l.category[i])
          if !given.isEmpty && ((lp.isFinite && lp > 0) ? lp : l.amount[i]) > given[Int(l.category[i])] {
            premiumCount += 1
          }
          if l.channel[i] >= 0 { tally[l.channel[i], default: 0] += 1 }
        }
        discount.append(listed > 0 ? depth / Double(listed) : .nan)
        promo.append(promoKnown > 0 ? Double(promoYes) / Double(promoKnown) : .nan)
        premium.append(purchases > 0 ? Double(premiumCount) / Double(purchases) : 0)
        breadth.append(Double(categories.count))
        let known = tally.values.reduce(0, +)
        channel.append(known > 0 ? Double(tally.values.max() ?? 0) / Double(known) : .nan)
      }
      let got = TierCustomerFeatures(ledger: l, medians: given)
      #expect(Self.bits(got.discountDepth) == Self.bits(discount))
      #expect(Self.bits(got.promoShare) == Self.bits(promo))
      #expect(Self.bits(got.premiumShare) == Self.bits(premium))
      #expect(Self.bits(got.breadth) == Self.bits(breadth))
      #expect(Self.bits(got.channelShare) == Self.bits(channel))
      #expect(discount.contains { $0.isNaN } && promo.contains { $0.isNaN } && channel.contains { $0.isNaN })
      #expect(given.isEmpty || premium.contains { $0 > 0 })
    }
  }

  /// The imputation medians are each the median of the known values, and
  /// only computed where no saved one stands for them.
  @Test func knownMediansAreEachColumnsMedian() {
    let columns: [[Double]] = [[3, .nan, 1, 2], [.nan, .nan], [5, 1, .nan, 4, 2], [7]]
    let got = TierFeatureTable.knownMedians(columns, needed: [true, true, true, false])
    #expect(got == [2, nil, 3, nil])
  }

  /// 40,000 customers (several chunks of the parallel loops), every value
  /// kind: zeros, negatives (clamped by the log transform), large values.
  static func syntheticTable() -> TierFeatureTable {
    var g = SeededGenerator(seed: 9)
    let n = 40_000
    let features: [TierFeature] = [.discountDepth, .premiumShare, .breadth, .purchaseDays, .netSpend]
    let values = features.map { f in
      (0..<n).map { _ -> Double in
        switch f {
        case .breadth, .purchaseDays: return Double(Int.random(in: 0...40, using: &g))
        case .netSpend: return Bool.random(using: &g) ? 0 : Double.random(in: -5...1e7, using: &g)
        default: return Double.random(in: -1...1, using: &g)
        }
      }
    }
    return TierFeatureTable(features: features, values: values, dropped: [], imputed: [:])
  }

  @Test func scalingAndMatrixAreTheSerialDefinitions() {
    let table = Self.syntheticTable()
    let s = TierScaling(fitting: table)
    for (f, feature) in table.features.enumerated() {
      let t = table.values[f].map { feature.isLogTransformed ? Double.log(onePlus: max($0, 0)) : $0 }
      let mean = t.reduce(0, +) / Double(t.count)
      var ss = 0.0
      for v in t { ss += (v - mean) * (v - mean) }
      #expect(s.means[f].bitPattern == mean.bitPattern, "\(feature)")
      #expect(s.standardDeviations[f].bitPattern == (ss / Double(t.count)).squareRoot().bitPattern, "\(feature)")
    }
    let m = s.matrix(table)
    let n = table.customerCount
    var want: [Float] = []
    for f in table.features.indices {
      for i in 0..<n { want.append(Float(s.standardise(table.values[f][i], feature: f))) }
    }
    #expect(m.count == n && m.featureCount == table.features.count)
    #expect(m.values.map(\.bitPattern) == want.map(\.bitPattern))
  }

  /// Scoring against a fitted model, and against the same model with one
  /// feature the scoring data lacks (scored at 0), as the serial loop did.
  @Test func scoringIsTheSerialNearestCentroid() throws {
    let l = Self.ledger, table = Self.table
    let model = try TierStage.fit(ledger: l, table: table, options: TierOptions(seed: 3))
    var withoutPromo = Self.ledger
    withoutPromo.columns.promo = false
    for ledger in [l, withoutPromo] {
      let got = TierStage.score(ledger: ledger, table: table, model: model)
      let features = TierFeatureTable(
        ledger: ledger, table: table, requested: model.features, population: model.population)
      let d = model.features.count, k = model.centroids.count
      #expect(k > 1 && d > 1)
      var cluster: [Int32] = [], distance: [Double] = [], confidence: [Double] = []
      for i in 0..<table.count {
        let z = model.features.enumerated().map { f, feature in
          features.column(feature).map { Double(Float(model.scaling.standardise($0[i], feature: f))) } ?? 0
        }
        var d1 = Double.infinity, d2 = Double.infinity, best = 0
        for j in 0..<k {
          var s = 0.0
          for f in 0..<d { let df = z[f] - model.centroids[j][f]; s += df * df }
          if s < d1 { (d2, d1, best) = (d1, s, j) } else if s < d2 { d2 = s }
        }
        let r1 = d1.squareRoot(), r2 = d2.squareRoot()
        cluster.append(Int32(best))
        distance.append(r1)
        confidence.append(r2.isInfinite ? 1 : (r2 > 0 ? max(0, min(1, 1 - r1 / r2)) : 0))
      }
      #expect(got.cluster == cluster)
      #expect(Self.bits(got.distance) == Self.bits(distance))
      #expect(Self.bits(got.confidence) == Self.bits(confidence))
      #expect(Set(cluster).count > 1)
      #expect(got.notes.isEmpty == (ledger.columns.promo || !model.features.contains(.promoShare)))
    }
  }
}
