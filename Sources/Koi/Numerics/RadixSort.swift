/// A stable least-significant-digit radix sort of `Double` values: linear
/// in the count, where a comparison sort of 1.5M net amounts (value counts
/// for percentiles, cut points and the report) took most of those steps.
enum RadixSort {
  /// `values` in ascending order; nil when a value is NaN, which has no
  /// place in that order. -0.0 sorts just before 0.0.
  ///
  /// - Complexity: O(n) time, 16·n bytes.
  static func sorted(_ values: [Double]) -> [Double]? {
    guard !values.contains(where: \.isNaN) else { return nil }
    var keys = values.map(key)
    var order: [Int32] = []
    sort(&keys, carrying: &order)
    return keys.map { k in Double(bitPattern: k >> 63 == 1 ? k & ~(1 << 63) : ~k) }
  }

  /// The indices of `values` in ascending order, equal values in index
  /// order (what a stable comparison sort by `<` gives); nil when a value
  /// is NaN. -0.0 sorts just before 0.0.
  ///
  /// - Complexity: O(n) time, 24·n bytes.
  static func ascendingOrder(_ values: [Double]) -> [Int32]? {
    guard values.count < Int(Int32.max), !values.contains(where: \.isNaN) else { return nil }
    var keys = values.map(key)
    var order = (0..<Int32(values.count)).map { $0 }
    sort(&keys, carrying: &order)
    return order
  }

  /// The indices of `strings` in the order of their UTF-8 bytes (SQLite's
  /// BINARY collation: `memcmp`, then the shorter first), equal strings in
  /// index order. Keys are the first 8 bytes, big-endian, zero-padded;
  /// strings that share them are then ordered by all their bytes. (Swift's
  /// `<` is another order outside ASCII: it compares canonically
  /// equivalent strings as equal.)
  ///
  /// - Complexity: O(n) time for strings that differ in their first 8
  ///   bytes; a comparison sort of each group that does not.
  static func utf8Order(_ strings: [String]) -> [Int32] {
    precondition(strings.count < Int(Int32.max), "fewer than 2^31 strings")
    var keys = strings.map { s in
      var k: UInt64 = 0
      var shift: UInt64 = 56
      for b in s.utf8.prefix(8) {
        k |= UInt64(b) << shift
        shift &-= 8
      }
      return k
    }
    var order = (0..<Int32(strings.count)).map { $0 }
    sort(&keys, carrying: &order)
    var start = 0
    while start < keys.count {
      var end = start + 1
      while end < keys.count && keys[end] == keys[start] { end += 1 }
      if end - start > 1 {
        order[start..<end].sort { a, b in
          let x = strings[Int(a)].utf8
          let y = strings[Int(b)].utf8
          return x.lexicographicallyPrecedes(y) || (x.elementsEqual(y) && a < b)
        }
      }
      start = end
    }
    return order
  }

  /// A key whose unsigned order is the numeric order: every bit of a
  /// negative number flipped, only the sign bit of a positive one.
  private static func key(_ v: Double) -> UInt64 {
    let b = v.bitPattern
    return b >> 63 == 1 ? ~b : b | (1 << 63)
  }

  /// Sorts `keys` by 16-bit digits, least significant first, moving
  /// `order` along when it is not empty; a digit every key shares is
  /// skipped.
  private static func sort(_ keys: inout [UInt64], carrying order: inout [Int32]) {
    let n = keys.count
    let carries = !order.isEmpty
    var keys2 = [UInt64](repeating: 0, count: n)
    var order2 = [Int32](repeating: 0, count: carries ? n : 0)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift in stride(from: UInt64(0), to: 64, by: 16) {
      for i in counts.indices { counts[i] = 0 }
      for k in keys { counts[Int((k >> shift) & 0xFFFF)] += 1 }
      if counts.contains(n) { continue }
      var sum = 0
      for i in counts.indices {
        let c = counts[i]
        counts[i] = sum
        sum += c
      }
      for i in 0..<n {
        let d = Int((keys[i] >> shift) & 0xFFFF)
        keys2[counts[d]] = keys[i]
        if carries { order2[counts[d]] = order[i] }
        counts[d] += 1
      }
      swap(&keys, &keys2)
      if carries { swap(&order, &order2) }
    }
  }
}
