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

  /// The partials of Shewchuk's loop as written in the paper (and in
  /// Python's `math.fsum`): `ExactSum.add` must keep exactly these.
  static func textbookPartials(_ values: [Double]) -> [Double] {
    var partials: [Double] = []
    for value in values {
      var x = value
      var i = 0
      for j in partials.indices {
        var y = partials[j]
        if abs(x) < abs(y) { swap(&x, &y) }
        let hi = x + y
        let lo = y - (hi - x)
        if lo != 0 {
          partials[i] = lo
          i += 1
        }
        x = hi
      }
      partials.removeSubrange(i...)
      partials.append(x)
    }
    return partials
  }

  /// Mixed magnitudes, exact cancellations, zeros of both signs, ties in
  /// magnitude: the same partials, bit for bit, after every addition.
  @Test(arguments: [4, 5, 6] as [UInt64])
  func keepsTheTextbookPartials(seed: UInt64) {
    var g = SeededGenerator(seed: seed)
    var values: [Double] = []
    for _ in 0..<5_000 {
      switch Int.random(in: 0..<6, using: &g) {
      case 0:
        values.append(
          Double(
            sign: .plus, exponent: Int.random(in: -60...60, using: &g),
            significand: Double.random(in: -1...1, using: &g)))
      case 1: values.append(-(values.last ?? 1))
      case 2: values.append(Bool.random(using: &g) ? 0.0 : -0.0)
      case 3: values.append(Double(Int.random(in: -1_000_000...1_000_000, using: &g)) / 100)
      case 4: values.append((values.last ?? 1) * (Bool.random(using: &g) ? 1 : -1) / 2)
      default: values.append(Double.random(in: -1e300...1e300, using: &g))
      }
    }
    var sum = ExactSum()
    for (k, v) in values.enumerated() {
      sum.add(v)
      if k % 97 == 0 || k == values.count - 1 {
        let expected = Self.textbookPartials(Array(values[...k]))
        #expect(sum.partials.map(\.bitPattern) == expected.map(\.bitPattern), "after \(k + 1) values")
      }
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
