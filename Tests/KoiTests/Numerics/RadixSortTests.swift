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
}
