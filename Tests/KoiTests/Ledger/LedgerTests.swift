import Testing

@testable import Koi

@Suite struct LedgerTests {
  @Test func rowsAreSortedByCustomerThenDayKeepingInputOrderOnTies() {
    let l = Ledger(rows: [
      .init(customerID: "b", day: 10, item: "filler", amount: 100),
      .init(customerID: "a", day: 5, item: "botox", amount: 50),
      .init(customerID: "b", day: 3, item: "botox", amount: 30),
      .init(customerID: "b", day: 10, item: "botox", amount: -20),
    ])
    #expect(l.customerIDs == ["b", "a"])
    #expect(l.customerStart == [0, 3, 4])
    #expect(l.day == [3, 10, 10, 5])
    #expect(l.amount == [30, 100, -20, 50])
    #expect(l.categories == ["filler", "botox"])
    #expect(l.category == [1, 0, 1, 1])
  }

  @Test func customerTableCountsDistinctPurchaseDaysAndNetsRefunds() {
    let l = Ledger(rows: [
      .init(customerID: "a", day: 1, item: "x", amount: 100),
      .init(customerID: "a", day: 1, item: "y", amount: 50),
      .init(customerID: "a", day: 4, item: "x", amount: -30),
      .init(customerID: "a", day: 9, item: "x", amount: 0),
      .init(customerID: "a", day: 7, item: "x", amount: 70),
    ])
    let t = CustomerTable(ledger: l, asOfDay: 10)
    #expect(t.firstPurchaseDay == [1])
    #expect(t.lastPurchaseDay == [7])
    #expect(t.purchaseDays == [2])
    #expect(t.purchaseCount == [3])
    #expect(t.netAmount == [190])
    #expect(t.grossAmount == [220])
    #expect(t.refundAmount == [30])
  }
}
