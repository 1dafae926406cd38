import Testing

@testable import Koi

/// Loops over customers are cut into chunks for their rows when a few
/// customers hold many rows each (`Parallel.chunkCount(customers:rows:)`).
/// Each customer's results must be those of the customer alone: computed
/// from a ledger of that customer's rows only.
@Suite struct CustomerChunkingTests {
  /// `customers` customers of `rowsEach` rows each, on days before
  /// `days`, over `items` treatments, with refunds and zero amounts.
  static func manyRows(
    customers: Int, rowsEach: ClosedRange<Int>, items: Int, days: Int32, seed: UInt64
  ) -> [Ledger.Row] {
    var g = SeededGenerator(seed: seed)
    var rows: [Ledger.Row] = []
    for c in 0..<customers {
      for _ in 0..<Int.random(in: rowsEach, using: &g) {
        rows.append(
          .init(
            customerID: "c\(c)", day: Int32.random(in: 0..<days, using: &g),
            item: "t\(Int.random(in: 0..<items, using: &g))",
            amount: [-30, 0, 12.5, 80, 640][Int.random(in: 0..<5, using: &g)]))
      }
    }
    return rows
  }

  @Test func fewCustomersWithManyRowsGetWhatEachGetsAlone() {
    let rows = Self.manyRows(customers: 12, rowsEach: 8_000...14_000, items: 9, days: 3_000, seed: 5)
    let ledger = Ledger(rows: rows)
    #expect(Parallel.chunkCount(customers: ledger.customerCount, rows: ledger.day.count) > 1)
    let asOf: Int32 = 3_000
    let table = CustomerTable(ledger: ledger, asOfDay: asOf)
    let summary = LifetimeSummary(ledger: ledger, table: table)
    for c in 0..<ledger.customerCount {
      let alone = Ledger(rows: rows.filter { $0.customerID == ledger.customerIDs[c] })
      let aloneTable = CustomerTable(ledger: alone, asOfDay: asOf)
      let aloneSummary = LifetimeSummary(ledger: alone, table: aloneTable)
      let own = ledger.rows(of: c)
      // The sort: the customer's rows by day, ties in input order.
      #expect(Array(ledger.day[own]) == alone.day)
      #expect(Array(ledger.amount[own]) == alone.amount)
      #expect(table.firstPurchaseDay[c] == aloneTable.firstPurchaseDay[0])
      #expect(table.lastPurchaseDay[c] == aloneTable.lastPurchaseDay[0])
      #expect(table.purchaseDays[c] == aloneTable.purchaseDays[0])
      #expect(table.purchaseCount[c] == aloneTable.purchaseCount[0])
      #expect(table.netAmount[c].bitPattern == aloneTable.netAmount[0].bitPattern)
      #expect(table.grossAmount[c].bitPattern == aloneTable.grossAmount[0].bitPattern)
      #expect(table.refundAmount[c].bitPattern == aloneTable.refundAmount[0].bitPattern)
      #expect(summary.frequency[c] == aloneSummary.frequency[0])
      #expect(summary.recency[c].bitPattern == aloneSummary.recency[0].bitPattern)
      #expect(summary.age[c].bitPattern == aloneSummary.age[0].bitPattern)
      #expect(summary.monetaryValue[c].bitPattern == aloneSummary.monetaryValue[0].bitPattern)
      #expect(summary.logIntervalSum?[c].bitPattern == aloneSummary.logIntervalSum?[0].bitPattern)
    }
  }
}
