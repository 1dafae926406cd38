import Foundation
import Koi
import Testing

/// The calls the integrator makes, through the public API only (no
/// `@testable`): a compile-time check of access levels as much as a test.
@Suite struct IntervalPublicAPITests {
  @Test func integratorCallsCompileAndStreamPerCustomer() throws {
    var rows: [Ledger.Row] = []
    for c in 0..<60 {
      for k in 0..<4 {
        rows.append(Ledger.Row(customerID: "c\(c)", day: Int32(100 + 90 * k + c % 7), item: "botox", amount: 300))
      }
      rows.append(Ledger.Row(customerID: "c\(c)", day: Int32(50 + c), item: "implant", amount: 9000))
    }
    let ledger = Ledger(rows: rows)
    let table = CustomerTable(ledger: ledger, asOfDay: 600)
    let options = IntervalOptions(priors: ["filler": 180])
    let covariates = IntervalCovariates.standard(table: table)
    let model = IntervalStage.fit(ledger: ledger, table: table, options: options, covariates: covariates)
    let columns = IntervalStage.score(ledger: ledger, table: table, model: model, covariates: covariates)
    var streamed = 0
    for c in 0..<ledger.customerCount {
      for p in columns.pairs(of: c) {
        let name = model.categories[Int(columns.category[p])].name
        #expect(name == "botox" || name == "implant")
        if columns.status[p] == .oneOff { #expect(name == "implant") }
        streamed += 1
      }
    }
    #expect(streamed == columns.pairCount)
    let botox = try #require(model.categoryIndex(named: "botox"))
    #expect(model.categories[botox].basis == .fitted)
    let due = IntervalDueList.make(columns: columns, model: model, category: botox, dueWithinDays: 45, limit: 10)
    #expect(due.count == 10)
    #expect(columns.probability(pair: due[0].pair, withinDays: 45, model: model) == due[0].probability)
    let report = IntervalBacktest.run(ledger: ledger, cutoffDay: 300, options: options)
    _ = try JSONEncoder().encode(report)
    _ = try JSONEncoder().encode(model)
  }

  @Test func fittingTwiceGivesTheSameModel() {
    var rows: [Ledger.Row] = []
    for c in 0..<400 {
      for k in 0..<3 {
        let day = c % 50 + 40 * k + (c * k) % 11
        rows.append(Ledger.Row(customerID: "c\(c)", day: Int32(day), item: "peel", amount: 1))
      }
    }
    let ledger = Ledger(rows: rows)
    let table = CustomerTable(ledger: ledger, asOfDay: 200)
    #expect(IntervalStage.fit(ledger: ledger, table: table) == IntervalStage.fit(ledger: ledger, table: table))
  }
}
