/// An exact sum of doubles: the value is the correctly rounded sum of every
/// number added, whatever the order they were added or partial sums were
/// merged in, so totals over shards equal the single run's.
///
/// ```
/// value = round(Σ xᵢ)     (one rounding, to nearest, ties to even)
/// ```
///
/// The state is a list of non-overlapping partials whose exact sum is the
/// exact sum of the inputs (Shewchuk, "Adaptive precision floating-point
/// arithmetic and fast robust geometric predicates", 1997; the algorithm of
/// Python's `math.fsum`). Non-finite inputs are summed apart and make the
/// value non-finite, as a plain sum would.
///
/// - Complexity: `add` O(partials), in practice a handful; `merge`
///   O(partials of both).
struct ExactSum: Sendable, Equatable, Codable {
  /// Non-overlapping, in increasing magnitude.
  private(set) var partials: [Double] = []
  /// The plain sum of the non-finite inputs (0 without any).
  private(set) var nonFinite = 0.0

  init() {}

  init<S: Sequence>(_ values: S) where S.Element == Double {
    for v in values { add(v) }
  }

  /// Adds `value`: each partial in turn is summed with the running value
  /// by Fast2Sum (larger magnitude first), keeping the non-zero roundoffs in
  /// place and the last sum on top.
  ///
  /// Written without a branch on the data: which operand is larger and
  /// whether a roundoff is zero were mispredicted about half the time (the
  /// lifetime report adds seven sums per customer), so both are selects,
  /// every roundoff is stored and the write position only advances past a
  /// non-zero one. The partials are the very ones of the textbook loop
  /// (`ExactSumTests` compares them).
  mutating func add(_ value: Double) {
    guard value.isFinite else {
      nonFinite += value
      return
    }
    let n = partials.count
    var x = value
    let kept = partials.withUnsafeMutableBufferPointer { p in
      var i = 0
      for j in 0..<n {
        let y = p[j]
        let swapped = abs(x) < abs(y)
        let big = swapped ? y : x
        let small = swapped ? x : y
        let hi = big + small
        let lo = small - (hi - big)
        p[i] = lo  // i ≤ j: a slot already read
        i &+= lo != 0 ? 1 : 0
        x = hi
      }
      return i
    }
    if kept < n {
      partials[kept] = x
      partials.removeLast(n - kept - 1)
    } else {
      partials.append(x)
    }
  }

  mutating func merge(_ other: ExactSum) {
    for p in other.partials { add(p) }
    nonFinite += other.nonFinite
  }

  /// The correctly rounded sum.
  var value: Double {
    if nonFinite != 0 || nonFinite.isNaN { return nonFinite }
    var n = partials.count
    guard n > 0 else { return 0 }
    n -= 1
    var hi = partials[n]
    var lo = 0.0
    while n > 0 {
      let x = hi
      n -= 1
      let y = partials[n]
      hi = x + y
      lo = y - (hi - x)
      if lo != 0 { break }
    }
    // Half-way cases: the partials below decide the direction.
    if n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0)) {
      let y = lo * 2
      let x = hi + y
      if y == x - hi { hi = x }
    }
    return hi
  }

  enum CodingKeys: String, CodingKey { case partials, nonFinite }

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let stored = try c.decode([Double].self, forKey: .partials)
    // "inf", "-inf" or "nan": JSON has no number for them.
    nonFinite = try c.decodeIfPresent(String.self, forKey: .nonFinite).flatMap(Double.init) ?? 0
    // Re-adding keeps the invariant whatever the file says.
    for p in stored { add(p) }
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(partials, forKey: .partials)
    if nonFinite != 0 || nonFinite.isNaN { try c.encode(nonFinite.description, forKey: .nonFinite) }
  }
}
