import Testing

@testable import Koi

/// `CustomerFactTable(ledger:oneOff:)`'s treatments bought (a bit per
/// treatment up to 64 of them, a mark per treatment and a sort per customer
/// beyond) against collecting them row by row: each customer's distinct
/// treatments of purchase rows, ascending.
@Suite struct CustomerFactTableTests {
  /// `customers` customers of `rowsPerCustomer` rows each over
  /// `categories` treatments, with repeats, refunds and zero amounts.
  static func ledger(
    customers: Int, categories: Int, seed: UInt64, rowsPerCustomer: ClosedRange<Int> = 0...12
  ) -> Ledger {
    var g = SeededGenerator(seed: seed)
    var customer: [Int32] = [], category: [Int32] = [], amount: [Double] = [], start = [0]
    for c in 0..<customers {
      for _ in 0..<Int.random(in: rowsPerCustomer, using: &g) {
        customer.append(Int32(c))
        // Draws lean to the highest treatments, so bit 63 is set often.
        category.append(
          Int32(categories - 1 - min(categories - 1, Int.random(in: 0..<(2 * categories), using: &g) / 2)))
        amount.append([-120, 0, 35.5, 480, 1_280][Int.random(in: 0..<5, using: &g)])
      }
      start.append(customer.count)
    }
    let rows = customer.count
    return Ledger(
      customerIDs: (0..<customers).map { "c\($0)" }, categories: (0..<categories).map { "t\($0)" }, channels: [],
      stores: [], customer: customer, day: [Int32](repeating: 0, count: rows), category: category, amount: amount,
      listPrice: [Double](repeating: .nan, count: rows), promo: [Int8](repeating: -1, count: rows),
      channel: [Int32](repeating: -1, count: rows), store: [Int32](repeating: -1, count: rows),
      customerStart: start, columns: .init())
  }

  @Test(arguments: [1, 2, 63, 64, 65, 300])
  func treatmentsBoughtAreTheDistinctPurchasedOnesInOrder(categories: Int) {
    Self.expectDistinctPurchased(Self.ledger(customers: 3_000, categories: categories, seed: UInt64(categories)))
  }

  /// A few customers with thousands of rows each: the table is built in
  /// chunks for the rows, not in one chunk of customers.
  @Test(arguments: [40, 300])
  func fewCustomersWithManyRowsEach(categories: Int) {
    let ledger = Self.ledger(customers: 40, categories: categories, seed: 7, rowsPerCustomer: 3_000...5_000)
    #expect(Parallel.chunkCount(customers: 40, rows: ledger.amount.count) > 1)
    Self.expectDistinctPurchased(ledger)
  }

  static func expectDistinctPurchased(_ ledger: Ledger) {
    let facts = CustomerFactTable(ledger: ledger, oneOff: ["t0"])
    for c in 0..<ledger.customerCount {
      let bought = Set(ledger.rows(of: c).filter { isPurchase(ledger.amount[$0]) }.map { ledger.category[$0] })
      let expected = bought.sorted().map { "t\($0)" }
      #expect(facts.categories(of: c) == expected, "customer \(c)")
      #expect(facts.oneOffOnly?[c] == (expected == ["t0"]), "customer \(c)")
    }
  }
}
