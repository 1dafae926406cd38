import Foundation
import Testing

@testable import Koi

/// Repurchase predictions on real purchases: the first 3,000 customers of
/// the CDNOW master log (Fixtures/cdnow/master_3000.csv, 9,481 rows from the
/// `lifetimes` 0.11.3 wheel), scored as of 1997-10-01 by `koi score`'s own
/// code path with every stage on.
@Suite struct RepurchaseRealDataTests {
  static let fixture = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/cdnow/master_3000.csv").path
  static let asOf = DayNumber.from(year: 1997, month: 10, day: 1)

  static func score(stages: [StageName] = StageName.allCases) throws -> ScoringResult {
    let dir = TemporaryDirectory()
    var options = ScoreOptions(inputPath: fixture, outputDirectory: dir.path("out"))
    options.ingest.asOfDay = asOf
    options.stages = stages
    return try ScoringRun.run(options)
  }

  /// Dates wrapped at year 10000 ("1580-07-10") and lay decades out when tier
  /// indicators entered the interval fit and drove π to its bound.
  @Test func everyDateLiesWithinTheHorizonAndTheReturnProbabilityIsOffItsBound() throws {
    let result = try Self.score()
    let cols = try #require(result.intervals)
    let model = try #require(result.model.intervals)
    let cd = model.categories[0]
    #expect(cd.basis == .fitted)
    #expect(!cd.covariateNames.contains { $0.hasPrefix("tier") })
    let pi = try #require(cd.returnProbability)
    #expect(pi < 0.99, "return probability \(pi) at its bound")
    let horizon = Int32(model.options.horizonDays)
    var lapsed = 0
    for p in 0..<cols.pairCount {
      for d in [cols.expectedNextDay[p], cols.p10Day[p], cols.p50Day[p], cols.p90Day[p]]
      where d != IntervalColumns.noDay {
        #expect(d >= Self.asOf && d <= Self.asOf + horizon)
      }
      #expect(cols.expectedNextDay[p] != IntervalColumns.noDay)
      for v in [cols.probability30[p], cols.probability60[p], cols.probability90[p], cols.returnProbability[p]] {
        #expect(v.isFinite && v >= 0 && v <= 1)
      }
      if cols.status[p] == .lapsed { lapsed += 1 }
    }
    // Most CDNOW customers never come back; the few regulars do.
    #expect(lapsed > cols.pairCount / 2 && lapsed < cols.pairCount)
  }

  /// `koi backtest` measures the model `koi score` ships: the same fit on the
  /// same rows, whatever other stages run.
  @Test func theBacktestFitsExactlyTheModelThatScoreShips() throws {
    let shipped = try #require(try Self.score().model.intervals)
    let alone = try #require(try Self.score(stages: [.intervals]).model.intervals)
    #expect(alone == shipped)
    let ingest = try TransactionReader.read(path: Self.fixture, options: IngestOptions())
    let backtest = IntervalBacktest.run(ledger: ingest.ledger, cutoffDay: Self.asOf)
    // model.json also keeps the propensity trees (so `--model` can score);
    // the backtest's interval model is the rest of the section.
    #expect(shipped.propensityTrees != nil)
    var withoutTrees = shipped
    withoutTrees.propensityTrees = nil
    #expect(backtest.intervalModel == withoutTrees)
    // And it is worth shipping: better than the naive baseline on this holdout.
    let mae = try #require(backtest.model.nextPurchaseMeanAbsoluteErrorDays)
    let baseline = try #require(backtest.baseline.nextPurchaseMeanAbsoluteErrorDays)
    #expect(mae < baseline)
    for (m, b) in zip(backtest.model.horizons, backtest.baseline.horizons) {
      #expect(try #require(m.brierScore) < #require(b.brierScore))
    }
  }

  @Test func datesWithMoreThanFourYearDigitsAreNeverCutToFour() {
    let far = DayNumber.from(year: 10_000, month: 1, day: 1)
    #expect(DayNumber.format(far) == "+10000-01-01")
    #expect(!DayNumber.fourDigitYears.contains(far))
    #expect(DayNumber.format(DayNumber.from(year: 9999, month: 12, day: 31)) == "9999-12-31")
  }
}

/// Inputs that break naive interval code: each must give defined output,
/// never a NaN probability or a date outside [as-of, as-of + horizon].
@Suite struct RepurchaseEdgeCaseTests {
  static func checkEveryPrediction(_ rows: [Ledger.Row], asOf: Int32) -> IntervalColumns {
    let l = Ledger(rows: rows)
    let (model, cols) = IntervalStage.run(ledger: l, table: CustomerTable(ledger: l, asOfDay: asOf))
    let horizon = Int32(model.options.horizonDays)
    for p in 0..<cols.pairCount where cols.status[p] != .oneOff && cols.status[p] != .unknown {
      for v in [cols.probability30[p], cols.probability60[p], cols.probability90[p], cols.returnProbability[p]] {
        #expect(v.isFinite && v >= 0 && v <= 1)
      }
      #expect(cols.probability30[p] <= cols.probability60[p] && cols.probability60[p] <= cols.probability90[p])
      for d in [cols.expectedNextDay[p], cols.p10Day[p], cols.p50Day[p], cols.p90Day[p]]
      where d != IntervalColumns.noDay {
        #expect(d >= asOf && d <= asOf + horizon)
      }
    }
    return cols
  }

  @Test func aTreatmentWhoseGapsAreAllEqual() {
    var rows: [Ledger.Row] = []
    for c in 0..<200 {
      for j in 0..<5 { rows.append(.init(customerID: "c\(c)", day: Int32(c % 30 + 30 * j), item: "peel", amount: 100)) }
    }
    // Seen 1 to 30 days after their last visit, on an exact 30-day cycle.
    let cols = Self.checkEveryPrediction(rows, asOf: 150)
    #expect(cols.status.contains(.due) && cols.status.contains(.notYetDue))
  }

  @Test func oneCustomerWithHundredsOfPurchasesOfOneItemAndAnItemBoughtByOneCustomer() {
    var rows: [Ledger.Row] = []
    for d in 0..<400 { rows.append(.init(customerID: "house", day: Int32(d * 2), item: "clean", amount: 20)) }
    rows.append(.init(customerID: "solo", day: 10, item: "laser", amount: 900))
    rows.append(.init(customerID: "solo", day: 400, item: "laser", amount: 900))
    for c in 0..<50 { rows.append(.init(customerID: "x\(c)", day: Int32(100 + c), item: "clean", amount: 20)) }
    _ = Self.checkEveryPrediction(rows, asOf: 800)
  }

  @Test func historiesOfOneDayAndDataShorterThanOneCycle() {
    var rows: [Ledger.Row] = []
    // Every purchase on one day.
    for c in 0..<100 { rows.append(.init(customerID: "d\(c)", day: 1000, item: "filler", amount: 300)) }
    _ = Self.checkEveryPrediction(rows, asOf: 1001)
    // Twenty days of data for a six-month treatment.
    rows = []
    for c in 0..<300 {
      rows.append(.init(customerID: "s\(c)", day: Int32(1000 + c % 20), item: "filler", amount: 300))
      if c % 10 == 0 { rows.append(.init(customerID: "s\(c)", day: 1019, item: "filler", amount: 300)) }
    }
    _ = Self.checkEveryPrediction(rows, asOf: 1020)
  }

  @Test func anAsOfDateNearTheEndOfTheCalendarWritesNoDateBeyondIt() {
    let asOf = DayNumber.from(year: 9999, month: 10, day: 1)
    var rows: [Ledger.Row] = []
    for c in 0..<100 {
      for j in 0..<4 {
        rows.append(.init(customerID: "c\(c)", day: asOf - 400 + Int32(90 * j + c % 7), item: "botox", amount: 100))
      }
    }
    let cols = Self.checkEveryPrediction(rows, asOf: asOf)
    for p in 0..<cols.pairCount {
      for d in [cols.expectedNextDay[p], cols.p10Day[p], cols.p50Day[p], cols.p90Day[p]]
      where d != IntervalColumns.noDay {
        #expect(DayNumber.fourDigitYears.contains(d))
      }
    }
  }
}
