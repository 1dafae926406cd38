import Foundation
import Testing

@testable import Koi

/// `ExactSum` gives the correctly rounded sum whatever the order of the
/// values and of the merges: what lets shard totals equal a single run's.
@Suite struct ExactSumTests {
  /// Values k / 1024 with |k| < 2⁴⁰ of mixed magnitudes: their exact sum is
  /// an integer sum, and `Double(Σk) / 1024` is its correct rounding.
  static func values(seed: UInt64, count: Int) -> (values: [Double], exact: Double) {
    var g = SeededGenerator(seed: seed)
    var ks: [Int64] = []
    for _ in 0..<count {
      let magnitude = Int64.random(in: 0...40, using: &g)
      ks.append(Int64.random(in: -(1 << magnitude)...(1 << magnitude), using: &g))
    }
    return (ks.map { Double($0) / 1024 }, Double(ks.reduce(0, +)) / 1024)
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func anyOrderAndAnySplitGivesTheCorrectlyRoundedSum(seed: UInt64) throws {
    let (values, exact) = Self.values(seed: seed, count: 20_000)
    let whole = ExactSum(values)
    #expect(whole.value.bitPattern == exact.bitPattern)
    var g = SeededGenerator(seed: seed &+ 100)
    let shuffled = values.shuffled(using: &g)
    for shards in [2, 7, 16] {
      var merged = ExactSum()
      for k in 0..<shards {
        let part = stride(from: k, to: shuffled.count, by: shards).map { shuffled[$0] }
        merged.merge(ExactSum(part))
      }
      #expect(merged.value.bitPattern == exact.bitPattern, "\(shards) shards")
    }
  }

  @Test func readsBackAsWritten() throws {
    var s = ExactSum([0.1, 0.2, 1e16, -1e16, 0.3])
    let back = try JSONDecoder().decode(ExactSum.self, from: JSONEncoder().encode(s))
    #expect(back.value.bitPattern == s.value.bitPattern)
    s.add(.infinity)
    let inf = try JSONDecoder().decode(ExactSum.self, from: JSONEncoder().encode(s))
    #expect(inf.value == .infinity)
    #expect(ExactSum().value == 0)
  }
}
