import Testing

@testable import Koi

/// `Ledger.sortByCustomerAndDay` on customer runs long enough to take the
/// O(r log r) path, in every kind of order, against a reference stable sort.
@Suite struct LedgerSortTests {
  /// Days for one customer's `n` rows in a named order.
  static func days(_ order: String, _ n: Int) -> [Int32] {
    var g = SeededGenerator(seed: 7)
    switch order {
    case "sorted": return (0..<n).map { Int32($0 / 3) }
    case "reversed": return (0..<n).map { Int32((n - $0) / 3) }
    case "all equal": return Array(repeating: 20_000, count: n)
    case "random, many ties": return (0..<n).map { _ in Int32.random(in: 0..<20, using: &g) }
    case "random, negative days": return (0..<n).map { _ in Int32.random(in: -40_000..<40_000, using: &g) }
    case "sawtooth": return (0..<n).map { Int32($0 % 97) }
    case "sorted but one": return (0..<n).map { $0 == n / 2 ? -1 : Int32($0) }
    case "extreme days": return (0..<n).map { [Int32.min, Int32.max, 0, -1, 1][$0 % 5] }
    default: preconditionFailure("unknown order \(order)")
    }
  }

  /// The expected order: stable by day, i.e. by (day, input position).
  static func reference(_ days: [Int32]) -> [Int] {
    days.indices.sorted { (days[$0], $0) < (days[$1], $1) }
  }

  @Test(
    arguments: [
      "sorted", "reversed", "all equal", "random, many ties", "random, negative days",
      "sawtooth", "sorted but one", "extreme days",
    ],
    [Ledger.insertionSortLimit - 1, Ledger.insertionSortLimit, Ledger.insertionSortLimit + 1, 5_000])
  func oneLongCustomerRunIsSortedStably(order: String, n: Int) {
    let d = Self.days(order, n)
    // The amount carries the input position, so ties show whether input order was kept.
    let l = Ledger(rows: d.indices.map { .init(customerID: "c", day: d[$0], item: "x", amount: Double($0)) })
    let expected = Self.reference(d)
    #expect(l.day == expected.map { d[$0] })
    #expect(l.amount == expected.map(Double.init))
    #expect(l.customerStart == [0, n])
  }

  @Test func interleavedLongAndShortRunsKeepCustomersApartAndStable() {
    // Customer a: 3,000 rows in reverse; b: 10 rows with ties; c: 700 random
    // rows with ties; the three interleaved in the input.
    var g = SeededGenerator(seed: 3)
    var rows: [Ledger.Row] = []
    for i in 0..<3_000 { rows.append(.init(customerID: "a", day: Int32(10_000 - i), item: "x", amount: 0)) }
    for _ in 0..<10 {
      rows.append(.init(customerID: "b", day: Int32.random(in: 0..<5, using: &g), item: "x", amount: 0))
    }
    for _ in 0..<700 {
      rows.append(.init(customerID: "c", day: Int32.random(in: 0..<30, using: &g), item: "x", amount: 0))
    }
    rows.shuffle(using: &g)
    for i in rows.indices { rows[i].amount = Double(i) }
    let l = Ledger(rows: rows)
    var expectedAmounts: [Double] = []
    for id in l.customerIDs {
      let positions = rows.indices.filter { rows[$0].customerID == id }
      expectedAmounts += positions.sorted { (rows[$0].day, $0) < (rows[$1].day, $1) }.map(Double.init)
    }
    #expect(l.customerIDs.count == 3)
    #expect(l.amount == expectedAmounts)
    #expect(l.day == l.amount.map { rows[Int($0)].day })
    for k in l.customerIDs.indices {
      let run = l.customerStart[k]..<l.customerStart[k + 1]
      #expect(run.allSatisfy { rows[Int(l.amount[$0])].customerID == l.customerIDs[k] })
    }
    // The customer column (written from the runs, not gathered) names each
    // row's customer.
    #expect(l.customer.map { l.customerIDs[Int($0)] } == l.amount.map { rows[Int($0)].customerID })
  }

  /// A guard against the quadratic sort coming back: 200,000 rows of one
  /// customer in reverse order took minutes with insertion sort (about 2·10¹⁰
  /// moves); O(r log r) takes well under a second.
  @Test(.timeLimit(.minutes(1))) func twoHundredThousandReversedRowsOfOneCustomer() {
    let n = 200_000
    let start = ContinuousClock.now
    let l = Ledger(rows: (0..<n).map { .init(customerID: "c", day: Int32(n - $0), item: "x", amount: Double($0)) })
    #expect(l.day.first == 1 && l.day.last == Int32(n))
    #expect(zip(l.day, l.day.dropFirst()).allSatisfy { $0 < $1 })
    #expect(ContinuousClock.now - start < .seconds(30))
  }
}

/// The counting sort by customer cut into parts (one per core) against the
/// serial stable sort, for any number of parts.
@Suite struct CountingSortByCustomerTests {
  @Test(arguments: [1, 2, 3, 7])
  func partsGiveTheSerialStableOrder(parts: Int) {
    var g = SeededGenerator(seed: 11)
    // Skewed customers, some with no rows; a few long runs.
    let c = 500
    let customer = (0..<20_011).map { _ in Int32(Int.random(in: 0..<c, using: &g) / (Bool.random(using: &g) ? 1 : 7)) }
    let (order, start) = Ledger.countingSortByCustomer(customer, customers: c, parts: parts)
    let expected = customer.indices.sorted { (customer[$0], $0) < (customer[$1], $1) }
    #expect(order.map(Int.init) == expected)
    #expect(start.count == c + 1 && start[0] == 0 && start[c] == customer.count)
    for k in 0..<c { #expect(start[k + 1] - start[k] == customer.count { $0 == k }) }
  }

  @Test func noRowsAndMorePartsThanRows() {
    #expect(Ledger.countingSortByCustomer([], customers: 0, parts: 2) == ([], [0]))
    let (order, start) = Ledger.countingSortByCustomer([1, 0, 1], customers: 3, parts: 5)
    #expect(order == [1, 0, 2] && start == [0, 1, 3, 3])
  }
}
