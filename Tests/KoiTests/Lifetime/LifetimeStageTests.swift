import Foundation
import Testing

@testable import Koi

@Suite("Lifetime: stage, CLV and model.json")
struct LifetimeStageTests {
  @Test("CDNOW through the stage: BG/NBD chosen, columns match the model functions, CLV formula")
  func cdnowStage() throws {
    let summary = try CDNOWData.summary()
    let options = LifetimeOptions(horizonDays: 39 * 7, annualDiscountRate: 0.1, margin: 0.3)
    let model = LifetimeStage.fit(summary, options: options)
    #expect(model.chosen == .bgnbd)
    #expect(model.timeUnitDays == 7)
    #expect(model.invalidCustomers == 0)
    let bg = try #require(model.bgnbd).parameters
    let cols = LifetimeStage.score(summary, model: model, options: options)
    // Customer 0 is x = 2, t_x = 30.43, T = 38.86: 1.226 purchases in 39 weeks.
    let e0 = try #require(cols.expectedPurchases[0])
    #expect(e0.isApproximatelyEqual(to: 1.2259104, relativeTolerance: 1e-5))
    #expect(try #require(cols.probabilityAlive[0]).isApproximatelyEqual(to: 0.7266091, relativeTolerance: 1e-5))
    let none0 = try #require(cols.probabilityNoPurchase[0])
    #expect(none0 > 0 && none0 < 1)
    #expect(
      none0.isApproximatelyEqual(
        to: BGNBD.probabilityNoPurchase(bg, x: 2, tx: 30.43, t: 38.86, horizon: 39), relativeTolerance: 1e-12))
    // CLV by the documented formula: 30-day steps in weeks, continuous rate ln 1.1 per 365.25 days.
    let spend = try #require(cols.expectedSpend[0])
    #expect(spend.isApproximatelyEqual(to: 24.6586162, relativeTolerance: 1e-5))
    var clv = 0.0, previous = 0.0
    var d = 0.0
    while d < 39 {
      d = min(d + 30.0 / 7, 39)
      let e = BGNBD.expectedPurchases(bg, x: 2, tx: 30.43, t: 38.86, horizon: d)
      clv += (e - previous) * Foundation.exp(-Foundation.log(1.1) * d * 7 / 365.25)
      previous = e
    }
    #expect(try #require(cols.clv[0]).isApproximatelyEqual(to: 0.3 * spend * clv, relativeTolerance: 1e-10))
    #expect(cols.clv.allSatisfy { $0 != nil && $0!.isFinite && $0! >= 0 })
    // Without discounting the CLV is margin × spend × E(H).
    let flat = LifetimeStage.score(
      summary, model: model, options: LifetimeOptions(horizonDays: 39 * 7, annualDiscountRate: 0, margin: 1))
    #expect(try #require(flat.clv[0]).isApproximatelyEqual(to: spend * e0, relativeTolerance: 1e-10))
  }

  @Test("model.json round-trips with snake_case keys")
  func codable() throws {
    let model = LifetimeStage.fit(try CDNOWData.summary())
    let encoder = JSONEncoder.koi
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(model)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"bg_nbd\""))
    #expect(text.contains("\"log_likelihood\""))
    #expect(text.contains("\"standard_errors\""))
    #expect(text.contains("\"gamma_gamma\""))
    #expect(try JSONDecoder.koi.decode(LifetimeModel.self, from: data) == model)
  }

  @Test("the summary built from a ledger: x, t_x, T in days, repeat spend net of refunds, log gaps")
  func summaryFromLedger() {
    let ledger = Ledger(rows: [
      .init(customerID: "a", day: 100, item: "x", amount: 80),
      .init(customerID: "a", day: 100, item: "y", amount: 20),
      .init(customerID: "a", day: 110, item: "x", amount: 50),
      .init(customerID: "a", day: 112, item: "x", amount: -10),
      .init(customerID: "a", day: 130, item: "x", amount: 70),
      .init(customerID: "b", day: 120, item: "x", amount: 40),
      .init(customerID: "b", day: 125, item: "x", amount: -40),
    ])
    let table = CustomerTable(ledger: ledger, asOfDay: 150)
    let s = LifetimeSummary(ledger: ledger, table: table)
    #expect(s.daysPerUnit == 1)
    #expect(s.frequency == [2, 0])
    #expect(s.recency == [30, 0])
    #expect(s.age == [50, 30])
    #expect(s.monetaryValue == [55, 0])
    let li = s.logIntervalSum!
    #expect(li[0].isApproximatelyEqual(to: Foundation.log(10.0) + Foundation.log(20.0), relativeTolerance: 1e-12))
    #expect(li[1] == 0)
  }

  @Test("options problems name the option with the sentence every front end uses")
  func optionProblems() {
    #expect(LifetimeOptions().problems.isEmpty)
    let bad = LifetimeOptions(horizonDays: 0, annualDiscountRate: -1, margin: 2, maximumErlangK: 13)
    #expect(
      bad.problems == [
        "horizon_days: expected a number of days from 1 to 36500, got 0.0",
        "discount_rate: expected an annual fraction from 0 to 10, such as 0.1, got -1.0",
        "margin: expected a fraction from 0 to 1, got 2.0",
        "max_erlang_k: expected a whole number from 0 to 12, got 13",
      ])
    #expect(LifetimeOptions(horizonDays: .nan).problems.count == 1)
  }
}
