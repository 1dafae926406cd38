/// A multiset of numbers as ascending distinct values with their counts:
/// the exact, mergeable summary of a column that rank rules (quantile cut
/// points) need. Merging the counts of two batches gives the counts of
/// both, whatever the order of the batches or of their values.
struct ValueCounts: Sendable, Equatable, Codable {
  /// Distinct values, ascending.
  public private(set) var values: [Double] = []
  /// How often each value occurs.
  public private(set) var counts: [Int] = []

  /// The number of values counted.
  public var total: Int { counts.reduce(0, +) }

  /// - Precondition: no NaN.
  /// - Complexity: O(n) (counted by value for whole numbers in a short
  ///   range, else a radix sort), O(n log n) with a -0.0.
  public init<S: Sequence>(_ values: S) where S.Element == Double {
    let all = Array(values)
    // Which of -0.0 and 0.0 stands for the zeros is the first one in the
    // order of `sorted()`, which neither fast path reproduces.
    let hasNegativeZero = all.contains { $0 == 0 && $0.sign == .minus }
    if !hasNegativeZero, let counted = ValueCounts.wholeNumbers(all) {
      self = counted
      return
    }
    let ascending = (hasNegativeZero ? nil : RadixSort.sorted(all)) ?? all.sorted()
    for v in ascending {
      precondition(!v.isNaN, "values are ordered numbers")
      if let last = self.values.last, last == v {
        counts[counts.count - 1] += 1
      } else {
        self.values.append(v)
        counts.append(1)
      }
    }
  }

  /// The counts of `all` by value, when every value is a whole number and
  /// the range is at most a few times the count: recencies and purchase
  /// days (one pass, where the radix sort made four over 1.5M customers at
  /// 10M rows), and most clinic prices. Nil otherwise. The values are
  /// `lowest + k` exactly (whole numbers below 2^52 in magnitude).
  private static func wholeNumbers(_ all: [Double]) -> ValueCounts? {
    guard let first = all.first else { return nil }
    let limit = 4_503_599_627_370_496.0  // 2^52
    var lo = first, hi = first
    for v in all {
      // A whole number below 2^52 survives the round trip through Int64
      // (NaN and ±∞ fail the bound first).
      guard abs(v) < limit, Double(Int64(v)) == v else { return nil }
      lo = Swift.min(lo, v)
      hi = Swift.max(hi, v)
    }
    let lowest = Int64(lo)
    let range = Int(Int64(hi) - lowest)
    guard range < 1 << 20, range <= 4 * all.count + 1024 else { return nil }
    var tally = [Int](repeating: 0, count: range + 1)
    for v in all { tally[Int(Int64(v) - lowest)] += 1 }
    var out = ValueCounts()
    for (k, count) in tally.enumerated() where count > 0 {
      out.values.append(Double(lowest + Int64(k)))
      out.counts.append(count)
    }
    return out
  }

  private init() {}

  private enum CodingKeys: String, CodingKey { case values, counts }

  /// Decodes the two arrays, refusing any that are not ascending distinct
  /// values with one count each.
  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    values = try c.decode([Double].self, forKey: .values)
    counts = try c.decode([Int].self, forKey: .counts)
    guard values.count == counts.count, zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: c.codingPath, debugDescription: "value counts need ascending values, one count each"))
    }
  }

  /// Adds the counts of `other`.
  ///
  /// - Complexity: O(distinct values of both).
  public mutating func merge(_ other: ValueCounts) {
    var v: [Double] = [], c: [Int] = []
    v.reserveCapacity(values.count + other.values.count)
    c.reserveCapacity(v.capacity)
    var i = 0, j = 0
    while i < values.count || j < other.values.count {
      if j == other.values.count || (i < values.count && values[i] < other.values[j]) {
        v.append(values[i]); c.append(counts[i]); i += 1
      } else if i == values.count || other.values[j] < values[i] {
        v.append(other.values[j]); c.append(other.counts[j]); j += 1
      } else {
        v.append(values[i]); c.append(counts[i] + other.counts[j]); i += 1; j += 1
      }
    }
    values = v
    counts = c
  }

  /// The counts of the negated values.
  var negated: ValueCounts {
    var n = self
    n.values = values.reversed().map { -$0 }
    n.counts = counts.reversed()
    return n
  }

  /// Cut points of a "higher is better" score from 1 to `bins` (≥ 2): for each
  /// score s ≥ 2, the least value v with ⌊bins · #{x < v} / N⌋ ≥ s − 1, i.e.
  /// the least value strictly above the m-th smallest, m = ⌈(s − 1) N / bins⌉;
  /// nil when no value is above it.
  ///
  /// - Complexity: O(distinct values + bins).
  func cutPoints(bins: Int) -> [Double?] {
    let n = total
    var result: [Double?] = []
    var j = 0, below = counts.first ?? 0  // values ≤ values[j]
    for s in 2...bins {
      let m = ((s - 1) * n + bins - 1) / bins  // ⌈(s−1)·n/bins⌉ ≥ 1 for n ≥ 1
      guard n > 0, m >= 1, m <= n else { result.append(nil); continue }
      while below < m { j += 1; below += counts[j] }
      // values[j] is the m-th smallest; the next distinct value is the cut.
      result.append(j + 1 < values.count ? values[j + 1] : nil)
    }
    return result
  }
}
