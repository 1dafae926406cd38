import GRDB
import Testing

@testable import Koi

@Suite struct RadixSortTests {
  /// Amounts like a ledger's (cents, refunds, repeats), signed zeros,
  /// infinities and subnormals.
  static func values(_ n: Int, seed: UInt64) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    let special: [Double] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e300]
    return (0..<n).map { _ in
      switch Int(rng.uniform() * 4) {
      case 0: return special[Int(rng.uniform() * Double(special.count))]
      case 1: return Double(Int(rng.uniform() * 50)) * 100  // many ties
      case 2: return (rng.uniform() - 0.3) * 1e6
      default: return (rng.normal() * 5000).rounded() / 100
      }
    }
  }

  @Test(arguments: [0, 1, 2, 1000, 70_000])
  func ordersLikeAStableComparisonSort(n: Int) throws {
    let v = Self.values(n, seed: UInt64(n) + 7)
    let order = try #require(RadixSort.ascendingOrder(v)).map(Int.init)
    #expect(order.sorted() == Array(0..<n))
    for k in order.indices.dropFirst() {
      let a = v[order[k - 1]], b = v[order[k]]
      #expect(a <= b)
      // Equal values (the same bits) keep their index order; -0.0 comes before 0.0.
      if a.bitPattern == b.bitPattern { #expect(order[k - 1] < order[k]) }
      if a == b && a.bitPattern != b.bitPattern { #expect(a.sign == .minus) }
    }
    // The same ranks as the comparison sort the code used before.
    let reference = (0..<n).sorted { v[$0] < v[$1] }
    #expect(order.map { v[$0] } == reference.map { v[$0] })
    // The values themselves, every bit pattern kept.
    let sorted = try #require(RadixSort.sorted(v))
    #expect(sorted.map(\.bitPattern) == order.map { v[$0].bitPattern })
  }

  @Test func refusesNaN() {
    #expect(RadixSort.ascendingOrder([1, .nan, 0]) == nil)
    #expect(RadixSort.sorted([1, .nan, 0]) == nil)
  }

  /// Ids that share 8-byte prefixes or none, of every length from 0, with
  /// NUL, non-ASCII and decomposed forms (equal to Swift's `==`, not in
  /// bytes), and repeats.
  static func ids(_ n: Int, seed: UInt64) -> [String] {
    var rng = SeededGenerator(seed: seed)
    let pieces = ["C000", "customer_", "é", "e\u{301}", "顾客", "🙂", "\u{0}", "Z", "a", "", "12345678", "\u{7F}"]
    return (0..<n).map { _ in
      var s = ""
      for _ in 0..<Int(rng.uniform() * 5) { s += pieces[Int(rng.uniform() * Double(pieces.count))] }
      if rng.uniform() < 0.7 { s += String(Int(rng.uniform() * 5000)) }
      return s
    }
  }

  @Test(arguments: [0, 1, 2, 1000, 70_000])
  func utf8OrderIsTheBytesOrder(n: Int) throws {
    let v = Self.ids(n, seed: UInt64(n) + 11)
    let order = RadixSort.utf8Order(v).map(Int.init)
    #expect(order.sorted() == Array(0..<n))
    // A stable comparison sort by bytes.
    let reference = (0..<n).sorted { a, b in
      let x = Array(v[a].utf8), y = Array(v[b].utf8)
      return x.lexicographicallyPrecedes(y) || (x == y && a < b)
    }
    #expect(order == reference)
  }

  /// Independently: SQLite's own order of the same texts (BINARY
  /// collation), the order history.sqlite's keys are kept in.
  @Test func utf8OrderIsSQLitesOrder() throws {
    let v = Self.ids(5000, seed: 3).filter { !$0.utf8.contains(0) }  // GRDB binds C strings
    let db = try DatabaseQueue()
    let sqlite = try db.write { db in
      try db.execute(sql: "CREATE TABLE t (i INTEGER, s TEXT)")
      for (i, s) in v.enumerated() { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [i, s]) }
      return try Int.fetchAll(db, sql: "SELECT i FROM t ORDER BY s, i")
    }
    #expect(RadixSort.utf8Order(v).map(Int.init) == sqlite)
  }
}
