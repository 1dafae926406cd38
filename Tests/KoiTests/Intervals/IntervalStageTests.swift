import Foundation
import RealModule
import Testing

@testable import Koi

@Suite struct IntervalHistoriesTests {
  @Test func sameDayDuplicatesCollapseRefundsAreNotOccasionsAndTheOpenIntervalIsCensored() {
    let l = Ledger(rows: [
      .init(customerID: "a", day: 10, item: "botox", amount: 100),
      .init(customerID: "a", day: 10, item: "botox", amount: 50),  // same day: one occasion
      .init(customerID: "a", day: 12, item: "filler", amount: 300),
      .init(customerID: "a", day: 40, item: "botox", amount: -100),  // refund: not an occasion
      .init(customerID: "a", day: 70, item: "botox", amount: 100),
      .init(customerID: "a", day: 100, item: "botox", amount: 0),  // complimentary: not an occasion
      .init(customerID: "b", day: 5, item: "filler", amount: 200),
    ])
    let h = PurchaseHistories(ledger: l, asOfDay: 200)
    #expect(h.pairStart == [0, 2, 3])
    #expect(h.pairCategory == [0, 1, 1])  // botox = 0, filler = 1
    #expect(h.occasions == [2, 1, 1])
    #expect(h.gapStart == [0, 1, 1, 1])
    #expect(h.gaps == [60])
    #expect(h.firstDay == [10, 12, 5])
    #expect(h.lastDay == [70, 12, 5])
    #expect(h.openInterval(0) == 130)
    #expect(h.openInterval(2) == 195)
  }

  @Test func aLongInterleavedRunIsSortedByCategoryThenDay() {
    // 120 rows over three categories in day order: the full-sort path.
    let rows = (0..<120).map { i in
      Ledger.Row(customerID: "a", day: Int32(10 * i), item: ["x", "y", "z"][i % 3], amount: 1)
    }
    let h = PurchaseHistories(ledger: Ledger(rows: rows), asOfDay: 2_000)
    #expect(h.pairCategory == [0, 1, 2])
    #expect(h.occasions == [40, 40, 40])
    #expect(h.gaps.allSatisfy { $0 == 30 })
    #expect(h.firstDay == [0, 10, 20] && h.lastDay == [1170, 1180, 1190])
  }

  /// A few customers with thousands of rows each are cut into chunks for
  /// their rows (`Parallel.chunkCount(customers:rows:)`); the histories are
  /// those of a plain computation per customer: each treatment's distinct
  /// purchase days, treatments ascending.
  @Test func fewCustomersWithManyRowsGiveThePlainHistories() {
    let l = Ledger(
      rows: CustomerChunkingTests.manyRows(customers: 30, rowsEach: 4_000...6_000, items: 40, days: 2_000, seed: 11))
    #expect(Parallel.chunkCount(customers: l.customerCount, rows: l.day.count) > 1)
    let h = PurchaseHistories(ledger: l, asOfDay: 2_000)
    var customer: [Int32] = [], category: [Int32] = [], first: [Int32] = [], last: [Int32] = []
    var occasions: [Int32] = [], gaps: [Int32] = []
    for c in 0..<l.customerCount {
      var days: [Int32: Set<Int32>] = [:]
      for r in l.rows(of: c) where isPurchase(l.amount[r]) { days[l.category[r], default: []].insert(l.day[r]) }
      for k in days.keys.sorted() {
        let d = days[k]!.sorted()
        customer.append(Int32(c)); category.append(k); first.append(d[0]); last.append(d[d.count - 1])
        occasions.append(Int32(d.count))
        gaps += zip(d.dropFirst(), d).map { $0 - $1 }
      }
    }
    #expect(h.pairCustomer == customer)
    #expect(h.pairCategory == category)
    #expect(h.firstDay == first)
    #expect(h.lastDay == last)
    #expect(h.occasions == occasions)
    #expect(h.gaps == gaps)
  }

  @Test func daysFarInThePastAndInterleavedCategoriesAreHandled() {
    let l = Ledger(rows: [
      .init(customerID: "a", day: -20_000, item: "y", amount: 1),
      .init(customerID: "a", day: -19_000, item: "x", amount: 1),
      .init(customerID: "a", day: -18_000, item: "y", amount: 1),
      .init(customerID: "a", day: 5, item: "x", amount: 1),
    ])
    let h = PurchaseHistories(ledger: l, asOfDay: 6)
    #expect(h.pairCategory == [0, 1])
    #expect(h.gaps == [2_000, 19_005])
    #expect(h.lastDay == [-18_000, 5])
  }
}

@Suite struct IntervalFitTests {
  static let simulator = IntervalSimulator(categories: [
    .init(name: "botox", cycle: .weibull(shape: 3, scale: 120), customers: 1500),
    .init(name: "filler", cycle: .logNormal(median: 180, sigma: 0.3), customers: 1500),
    .init(name: "implant", cycle: .oneOff, customers: 300),
  ])
  static let ledger = Ledger(rows: simulator.rows())
  static let table = CustomerTable(ledger: ledger, asOfDay: simulator.asOfDay)
  static let model = IntervalStage.fit(ledger: ledger, table: table)

  @Test func recoversEachCategoryMedianAndMeanWithinFivePercentAndPicksTheFamily() throws {
    for cat in Self.simulator.categories {
      let i = try #require(Self.model.categoryIndex(named: cat.name))
      let m = Self.model.categories[i]
      switch cat.cycle {
      case .oneOff:
        #expect(m.basis == .oneOff)
      case .weibull, .logNormal:
        #expect(m.basis == .fitted)
        #expect(m.converged == true)
        let median = try #require(m.medianGapDays)
        let mean = try #require(m.meanGapDays)
        #expect(
          median.isApproximatelyEqual(to: cat.cycle.median, relativeTolerance: 0.05),
          "\(cat.name) median \(median) vs \(cat.cycle.median)")
        #expect(
          mean.isApproximatelyEqual(to: cat.cycle.mean, relativeTolerance: 0.05),
          "\(cat.name) mean \(mean) vs \(cat.cycle.mean)")
        if case .weibull = cat.cycle { #expect(m.family == .weibull) } else { #expect(m.family == .logNormal) }
        #expect(m.gapCount > 2000)
        #expect(m.censoredCount == cat.customers)
        #expect(m.coefficientStandardErrors.allSatisfy { $0 != nil && $0! > 0 })
        #expect(m.logScaleStandardError != nil)
        if ProcessInfo.processInfo.environment["KOI_INTERVAL_REPORT"] != nil {
          print(
            "recovery \(cat.name): family \(m.family!) median \(median) (true \(cat.cycle.median)) mean \(mean) (true \(cat.cycle.mean)) gaps \(m.gapCount) ll W \(m.weibullLogLikelihood!) LN \(m.logNormalLogLikelihood!)"
          )
        }
      }
    }
  }

  /// Customers who stop (20 % after each purchase) leave open intervals that
  /// never close: with the return probability the cycle is still recovered,
  /// without it the censored fit reads them as long gaps.
  @Test func recoversTheCycleAndReturnProbabilityUnderChurn() throws {
    var sim = IntervalSimulator(categories: [
      .init(name: "filler", cycle: .logNormal(median: 180, sigma: 0.3), customers: 3000)
    ])
    sim.churn = 0.2
    sim.spanDays = 1500
    let l = Ledger(rows: sim.rows())
    let t = CustomerTable(ledger: l, asOfDay: sim.asOfDay)
    let m = IntervalStage.fit(ledger: l, table: t).categories[0]
    let median = try #require(m.medianGapDays)
    #expect(median.isApproximatelyEqual(to: 180, relativeTolerance: 0.05), "median \(median)")
    let pi = try #require(m.returnProbability)
    #expect(abs(pi - 0.8) < 0.03, "π \(pi)")
    #expect(m.logitReturnProbabilityStandardError != nil)
    let plain = IntervalStage.fit(ledger: l, table: t, options: IntervalOptions(fitReturnProbability: false))
      .categories[0]
    #expect(try #require(plain.medianGapDays) > 1.2 * 180)
    #expect(plain.returnProbability == nil)
    if ProcessInfo.processInfo.environment["KOI_INTERVAL_REPORT"] != nil {
      print(
        "churn recovery: median \(median) π \(pi) ± \(m.logitReturnProbabilityStandardError!) (logit) family \(m.family!); without π: median \(plain.medianGapDays!) family \(plain.family!)"
      )
    }
  }

  @Test func modelRoundTripsThroughJSONWithSnakeCaseKeys() throws {
    let data = try JSONEncoder.koi.encode(Self.model)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"n_gaps\""))
    #expect(text.contains("\"weibull_log_likelihood\""))
    #expect(text.contains("\"one_off\""))
    let back = try JSONDecoder.koi.decode(IntervalModel.self, from: data)
    #expect(back == Self.model)
  }

  @Test func scoresEveryPairWithOrderedPercentilesAndValidProbabilities() {
    let cols = IntervalStage.score(ledger: Self.ledger, table: Self.table, model: Self.model)
    #expect(cols.pairCount == Self.ledger.customerCount)
    for p in 0..<cols.pairCount {
      if cols.status[p] == .oneOff {
        #expect(cols.p50Day[p] == IntervalColumns.noDay)
        #expect(cols.probability30[p].isNaN)
        continue
      }
      // Every date lies in [as-of, as-of + horizon]; the quantiles are ordered.
      let horizon = Int32(Self.model.options.horizonDays)
      let dates = [cols.expectedNextDay[p], cols.p10Day[p], cols.p50Day[p], cols.p90Day[p]]
      for d in dates where d != IntervalColumns.noDay {
        #expect(d >= cols.asOfDay && d <= cols.asOfDay + horizon)
      }
      #expect(cols.expectedNextDay[p] != IntervalColumns.noDay)
      let present = dates.dropFirst().filter { $0 != IntervalColumns.noDay }
      #expect(present == present.sorted())
      #expect(
        0 <= cols.probability30[p] && cols.probability30[p] <= cols.probability60[p]
          && cols.probability60[p] <= cols.probability90[p] && cols.probability90[p] <= 1)
      // Lapsed exactly when the median is not reached within the horizon.
      let s = cols.status[p]
      #expect((s == .lapsed) == (cols.p50Day[p] == IntervalColumns.noDay))
      guard s != .lapsed, let family = Self.model.categories[Int(cols.category[p])].family else { continue }
      let e = Double(cols.asOfDay - cols.lastPurchaseDay[p])
      let g10 = Double.exp(cols.location[p] + cols.scale[p] * family.quantileW(0.1))
      let g90 = Double.exp(cols.location[p] + cols.scale[p] * family.quantileW(0.9))
      if e < g10 { #expect(s == .notYetDue) }
      if e > g90 { #expect(s == .overdue) }
      if e >= g10 && e <= g90 { #expect(s == .due) }
    }
  }

  @Test func dueListIsSortedByProbabilityWithDeterministicTies() throws {
    let cols = IntervalStage.score(ledger: Self.ledger, table: Self.table, model: Self.model)
    let botox = try #require(Self.model.categoryIndex(named: "botox"))
    let list = IntervalDueList.make(columns: cols, model: Self.model, category: botox, dueWithinDays: 30, limit: 200)
    #expect(list.count == 200)
    for (a, b) in zip(list, list.dropFirst()) {
      #expect(a.probability > b.probability || (a.probability == b.probability && a.customer < b.customer))
    }
    // An arbitrary window is computed from the stored predictive parameters.
    let w45 = IntervalDueList.make(columns: cols, model: Self.model, category: botox, dueWithinDays: 45)
    let p = w45[0].pair
    #expect(w45[0].probability >= cols.probability30[p] && w45[0].probability <= cols.probability60[p])
    let implant = try #require(Self.model.categoryIndex(named: "implant"))
    #expect(IntervalDueList.make(columns: cols, model: Self.model, category: implant, dueWithinDays: 30).isEmpty)
  }
}

@Suite struct IntervalShrinkageTests {
  @Test func tightHistoryPredictsNarrowerThanOneGapAndAFirstTimerGetsTheCategory() throws {
    var sim = IntervalSimulator(categories: [
      .init(name: "filler", cycle: .logNormal(median: 180, sigma: 0.25), customers: 1200)
    ])
    sim.heterogeneity = 0.3
    var rows = sim.rows()
    let asOf = sim.asOfDay
    for k in 0..<6 {
      rows.append(.init(customerID: "tight", day: asOf - 30 - Int32(180 * k), item: "filler", amount: 1))
    }
    for k in 0..<2 {
      rows.append(.init(customerID: "one-gap", day: asOf - 30 - Int32(180 * k), item: "filler", amount: 1))
    }
    rows.append(.init(customerID: "first", day: asOf - 30, item: "filler", amount: 1))
    let l = Ledger(rows: rows)
    let t = CustomerTable(ledger: l, asOfDay: asOf)
    let model = IntervalStage.fit(ledger: l, table: t)
    let m = model.categories[0]
    #expect(m.basis == .fitted)
    let ratio = try #require(m.shrinkageRatio)
    #expect(ratio > 0.2 && ratio < 5, "σ²w/τ² = \(0.25 * 0.25)/\(0.3 * 0.3) ≈ 0.7 expected, got \(ratio)")
    let cols = IntervalStage.score(ledger: l, table: t, model: model)
    func pair(_ id: String) -> Int { cols.pairs(of: l.customerIDs.firstIndex(of: id)!).lowerBound }
    let tight = pair("tight"), single = pair("one-gap"), first = pair("first")
    let spread = { (p: Int) in cols.p90Day[p] - cols.p10Day[p] }
    #expect(spread(tight) < spread(single))
    #expect(spread(single) < spread(first))
    // The tight customer's median is pulled close to their own 180 days.
    let tightMedian = Double(cols.p50Day[tight] - cols.lastPurchaseDay[tight])
    #expect(abs(tightMedian - 180) < abs(try #require(m.medianGapDays) - 180) + 1)
    // A first-time buyer's predictive distribution is the category's.
    let firstMedian = Double(cols.p50Day[first] - cols.lastPurchaseDay[first])
    #expect(abs(firstMedian - (try #require(m.medianGapDays))) <= 1)
    #expect(cols.scale[first].isApproximatelyEqual(to: Double.exp(m.logScale!), relativeTolerance: 1e-12))
  }

  @Test func aSparseCategoryUsesItsPriorAndAFirstTimerGetsThePriorMedian() throws {
    let rows: [Ledger.Row] = [
      .init(customerID: "a", day: 900, item: "peel", amount: 1),
      .init(customerID: "a", day: 930, item: "peel", amount: 1),
      .init(customerID: "b", day: 990, item: "peel", amount: 1),
      .init(customerID: "c", day: 990, item: "laser", amount: 1),
    ]
    let l = Ledger(rows: rows)
    let t = CustomerTable(ledger: l, asOfDay: 1000)
    let model = IntervalStage.fit(ledger: l, table: t, options: IntervalOptions(priors: ["peel": 28]))
    let peel = model.categories[model.categoryIndex(named: "peel")!]
    let laser = model.categories[model.categoryIndex(named: "laser")!]
    #expect(peel.basis == .prior && peel.priorDays == 28 && peel.family == .logNormal)
    #expect(laser.basis == .insufficientData)
    let cols = IntervalStage.score(ledger: l, table: t, model: model)
    // A first-timer gets the prior's median gap (the log-normal's e^location).
    let b = cols.pairs(of: 1).lowerBound
    #expect(Double.exp(cols.location[b]).isApproximatelyEqual(to: 28, relativeTolerance: 1e-9))
    #expect(cols.status[b] == .notYetDue)
    let c = cols.pairs(of: 2).lowerBound
    #expect(cols.status[c] == .unknown)
    // Customer a's own 30-day gap pulls the prediction from 28 towards 30.
    let a = cols.pairs(of: 0).lowerBound
    let aMedian = Double.exp(cols.location[a])
    #expect(aMedian > 28 && aMedian < 30)
  }
}

@Suite struct IntervalBadInputTests {
  @Test func singlePurchasesOneCustomerCategoriesAndZeroGapCategoriesDoNotBreakTheStage() throws {
    var rows: [Ledger.Row] = [
      .init(customerID: "solo", day: -25_000, item: "surgery", amount: 5000),  // 1901, one customer, one purchase
      .init(customerID: "dup", day: 500, item: "clean", amount: 10),
      .init(customerID: "dup", day: 500, item: "clean", amount: 10),
      .init(customerID: "dup", day: 500, item: "clean", amount: 10),
    ]
    // Forty customers who each bought "implant" once, long ago: zero gaps.
    for i in 0..<40 { rows.append(.init(customerID: "imp\(i)", day: Int32(i), item: "implant", amount: 900)) }
    let l = Ledger(rows: rows)
    let t = CustomerTable(ledger: l, asOfDay: 1000)
    let model = IntervalStage.fit(ledger: l, table: t)
    let surgery = model.categories[model.categoryIndex(named: "surgery")!]
    let clean = model.categories[model.categoryIndex(named: "clean")!]
    let implant = model.categories[model.categoryIndex(named: "implant")!]
    #expect(surgery.basis == .insufficientData && surgery.pairCount == 1)
    #expect(clean.gapCount == 0 && clean.basis == .insufficientData)
    #expect(implant.basis == .oneOff && implant.repeatShare == 0)
    let cols = IntervalStage.score(ledger: l, table: t, model: model)
    #expect(cols.pairCount == 42)
    #expect(cols.status.allSatisfy { $0 == .unknown || $0 == .oneOff })
    _ = try JSONEncoder().encode(model)
    let report = IntervalBacktest.run(ledger: l, cutoffDay: 600)
    #expect(report.evaluatedPairCount == 0)
    _ = try JSONEncoder().encode(report)
  }

  @Test func anEmptyLedgerGivesAnEmptyModelAndNoPairs() {
    let l = Ledger(rows: [])
    let t = CustomerTable(ledger: l, asOfDay: 10)
    let model = IntervalStage.fit(ledger: l, table: t)
    #expect(model.categories.isEmpty)
    let cols = IntervalStage.score(ledger: l, table: t, model: model)
    #expect(cols.pairCount == 0 && cols.pairStart == [0])
  }
}

@Suite struct IntervalBacktestTests {
  /// AUC by ranks (ties count half) and log loss, against hand counts.
  @Test func aucAndLogLossOfAWindow() throws {
    let h = IntervalBacktestReport.Horizon(days: 30, predicted: [0.1, 0.4, 0.35, 0.8], observed: [0, 0, 1, 1])
    // Positive–negative pairs ranked right: (0.35, 0.1), (0.8, 0.1), (0.8, 0.4): 3 of 4.
    #expect(try #require(h.auc).isApproximatelyEqual(to: 0.75, relativeTolerance: 1e-12))
    let direct = -(log(0.9) + log(0.6) + log(0.35) + log(0.8)) / 4
    #expect(try #require(h.logLoss).isApproximatelyEqual(to: direct, relativeTolerance: 1e-12))
    let tie = IntervalBacktestReport.Horizon(days: 30, predicted: [0.5, 0.5, 0.2], observed: [1, 0, 0])
    #expect(try #require(tie.auc).isApproximatelyEqual(to: 0.75, relativeTolerance: 1e-12))
    #expect(IntervalBacktestReport.Horizon(days: 30, predicted: [0.3, 0.6], observed: [1, 1]).auc == nil)
  }

  @Test(arguments: [0.0, 0.15])
  func modelBeatsTheNaiveBaselineOnSimulatedData(churn: Double) throws {
    var sim = IntervalSimulator(categories: [
      .init(name: "botox", cycle: .weibull(shape: 2.5, scale: 110), customers: 800),
      .init(name: "filler", cycle: .logNormal(median: 180, sigma: 0.35), customers: 800),
    ])
    sim.heterogeneity = 0.3
    sim.churn = churn
    sim.asOfDay = 20_000
    sim.endDay = 20_200
    let l = Ledger(rows: sim.rows())
    let report = IntervalBacktest.run(ledger: l, cutoffDay: 20_000)
    #expect(report.evaluatedPairCount == 1600)
    let mae = try #require(report.model.nextPurchaseMeanAbsoluteErrorDays)
    let baseMAE = try #require(report.baseline.nextPurchaseMeanAbsoluteErrorDays)
    #expect(mae < baseMAE, "MAE model \(mae) vs baseline \(baseMAE)")
    #expect(report.model.horizons.map(\.days) == [30, 60, 90])
    for (m, b) in zip(report.model.horizons, report.baseline.horizons) {
      let bm = try #require(m.brierScore), bb = try #require(b.brierScore)
      #expect(bm < bb, "Brier \(m.days)d model \(bm) vs baseline \(bb)")
      #expect(m.calibration.count == 10)
    }
    // Calibration: the top decile's predicted and observed rates agree to 0.1.
    let top = try #require(report.model.horizons.last?.calibration.last)
    #expect(abs(top.meanPredicted - top.observedRate) < 0.1)
    if ProcessInfo.processInfo.environment["KOI_INTERVAL_REPORT"] != nil {
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      var r = report
      r.intervalModel.categories = []
      print("backtest churn \(churn):", String(decoding: try enc.encode(r), as: UTF8.self))
    }
  }
}

/// `IntervalStage.fitCategories`: the categories too small for a fit's
/// parallel loops are fitted side by side, the others one at a time; each
/// must come out as its category fitted alone.
@Suite struct IntervalCategoryFitsTests {
  @Test func categoriesFittedSideBySideEqualEachFittedAlone() {
    var sim = IntervalSimulator(
      categories: (0..<6).map {
        .init(name: "t\($0)", cycle: .logNormal(median: 30 + 15 * Double($0), sigma: 0.4), customers: 150 + 40 * $0)
      } + [.init(name: "large", cycle: .weibull(shape: 2, scale: 20), customers: 3000)])
    sim.heterogeneity = 0.3
    let l = Ledger(rows: sim.rows())
    let h = PurchaseHistories(ledger: l, asOfDay: sim.asOfDay)
    let options = IntervalOptions()
    let grouping = CategoryGrouping(
      histories: h, categoryCount: l.categories.count, exposureDays: options.oneOffExposureDays)
    let all = Array(0..<l.categories.count)
    let sizes = all.map { grouping.gapCount[$0] + grouping.pairs(of: $0).count }
    // Both paths: six side by side, one alone.
    #expect(sizes.filter { $0 >= IntervalStage.parallelFitObservations }.count == 1)
    #expect(all.count == 7)
    let standard = IntervalCovariates.standard(table: CustomerTable(ledger: l, asOfDay: sim.asOfDay))
    for covariates in [nil, standard] {
      let fresh = all.map { IntervalStage.unfittedModel($0, name: l.categories[$0], grouping: grouping) }
      var together = fresh
      IntervalStage.fitCategories(
        all, &together, grouping: grouping, histories: h, covariates: covariates, options: options)
      for cat in all {
        var alone = fresh[cat]
        IntervalStage.fitCategory(
          &alone, pairs: grouping.pairs(of: cat), histories: h, covariates: covariates, options: options)
        #expect(alone.basis == .fitted, "\(l.categories[cat])")
        #expect(together[cat] == alone, "\(l.categories[cat])")
      }
    }
  }
}
