/// Customers grouped into unique (x, t_x, T) rows with counts: the BG/NBD and
/// MBG/CNBD-k likelihoods depend on nothing else, so fitting costs O(unique
/// rows) per evaluation. Rows are sorted by (x, t_x, T), so sums are
/// deterministic.
///
/// Two further groupings let the models do per-row work only where it
/// depends on the row:
/// - `times`: the distinct values of t_x and T (whole days in practice, so a
///   few hundred), with `txIndex`/`tIndex` per row, so log(α+t) and 1/(α+t)
///   are computed once per distinct time and looked up per row;
/// - (x, T) pairs (`pairOfRow`): expected purchases of an alive customer
///   depend on x and T but not on t_x, so scoring evaluates the costly series
///   once per pair.
struct CompressedRecency: Sendable {
  var x: [Double] = []
  var tx: [Double] = []
  var t: [Double] = []
  var weight: [Double] = []
  var totalWeight: Double = 0
  /// Unique-row index of every customer; -1 for customers left out because
  /// their summary is invalid (see `LifetimeSummary.isValid`).
  var rowOfCustomer: [Int32] = []
  /// Distinct t_x and T values, ascending (for whole-number times: 0…max T).
  var times: [Double] = []
  var txIndex: [Int32] = []
  var tIndex: [Int32] = []
  /// Rows with the same x are contiguous: block j is
  /// `blockStart[j]..<blockStart[j + 1]`.
  var blockStart: [Int] = [0]
  /// (x, T) pair of every row, and one row of each pair (for its x and T).
  var pairOfRow: [Int32] = []
  var pairRow: [Int32] = []
  var count: Int { x.count }
  public var pairCount: Int { pairRow.count }

  /// - Complexity: O(n) (radix sort) when times are whole numbers below
  ///   max(2¹⁶, n), otherwise O(n log n).
  init(_ summary: LifetimeSummary) {
    let f = summary.frequency, r = summary.recency, a = summary.age
    let valid = (0..<summary.count).filter { summary.isValid($0) }
    rowOfCustomer = [Int32](repeating: -1, count: summary.count)
    totalWeight = Double(valid.count)
    guard !valid.isEmpty else { return }

    // Times as indices into a table of distinct values.
    var maxTime = 0.0
    var whole = true
    for i in valid {
      maxTime = max(maxTime, a[i])
      if r[i] != r[i].rounded() || a[i] != a[i].rounded() { whole = false }
    }
    let n = valid.count
    var txOf = [Int32](repeating: 0, count: n), tOf = [Int32](repeating: 0, count: n)
    // Whole days index a table 0…max T directly, unless that table would be
    // far larger than the data (the logs are recomputed per evaluation).
    if whole && maxTime < Double(max(1 << 16, n)) {
      times = (0...Int(maxTime)).map(Double.init)
      for (j, i) in valid.enumerated() { txOf[j] = Int32(r[i]); tOf[j] = Int32(a[i]) }
    } else {
      var all = [Double]()
      all.reserveCapacity(2 * n)
      for i in valid { all.append(r[i]); all.append(a[i]) }
      all.sort()
      for v in all where times.last != v { times.append(v) }
      let table = times
      func index(_ v: Double) -> Int32 {
        var lo = 0, hi = table.count - 1
        while lo < hi {
          let mid = (lo + hi) / 2
          if table[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return Int32(lo)
      }
      for (j, i) in valid.enumerated() { txOf[j] = index(r[i]); tOf[j] = index(a[i]) }
    }

    // Sort customers by (x, t_x, T) through a packed key; equal keys are one row.
    let timeBits = Self.bits(times.count - 1)
    let maxX = valid.reduce(Int32(0)) { max($0, f[$1]) }
    let keyBits = Self.bits(Int(maxX)) + 2 * timeBits
    var keys = [UInt64](repeating: 0, count: n)
    var order = (0..<Int32(n)).map { $0 }
    if keyBits <= 64 {
      for (j, i) in valid.enumerated() {
        keys[j] = UInt64(f[i]) << (2 * timeBits) | UInt64(txOf[j]) << timeBits | UInt64(tOf[j])
      }
      Self.radixSort(&keys, carrying: &order, bits: keyBits)
    } else {
      // Pathological ranges: compare the fields, then number the distinct ones.
      order.sort { p, q in
        (f[valid[Int(p)]], txOf[Int(p)], tOf[Int(p)], p) < (f[valid[Int(q)]], txOf[Int(q)], tOf[Int(q)], q)
      }
      var previous: (Int32, Int32, Int32)?
      var rank: UInt64 = 0
      for (j, o) in order.enumerated() {
        let key = (f[valid[Int(o)]], txOf[Int(o)], tOf[Int(o)])
        if let previous, previous != key { rank += 1 }
        previous = key
        keys[j] = rank
      }
    }

    // Walk the sorted customers; a new key starts a row, a new x a block.
    // Packed keys hold the fields, so only the fallback reads them back.
    let packed = keyBits <= 64
    let timeMask = (UInt64(1) << timeBits) - 1
    var lastX: Int32 = -1
    for j in 0..<n {
      let o = Int(order[j])
      if j == 0 || keys[j] != keys[j - 1] {
        let k = keys[j]
        let (xi, txi, ti) =
          packed
          ? (
            Int32(truncatingIfNeeded: k >> UInt64(2 * timeBits)),
            Int32(truncatingIfNeeded: (k >> UInt64(timeBits)) & timeMask),
            Int32(truncatingIfNeeded: k & timeMask)
          )
          : (f[valid[o]], txOf[o], tOf[o])
        if j > 0 && xi != lastX { blockStart.append(x.count) }
        lastX = xi
        x.append(Double(xi)); tx.append(times[Int(txi)]); t.append(times[Int(ti)]); weight.append(1)
        txIndex.append(txi); tIndex.append(ti)
      } else {
        weight[weight.count - 1] += 1
      }
      rowOfCustomer[valid[o]] = Int32(x.count - 1)
    }
    blockStart.append(x.count)

    // (x, T) pairs, numbered in order of first appearance.
    pairOfRow = [Int32](repeating: 0, count: x.count)
    var stamp = [Int32](repeating: -1, count: times.count)
    var slot = [Int32](repeating: 0, count: times.count)
    for block in 0..<(blockStart.count - 1) {
      for row in blockStart[block]..<blockStart[block + 1] {
        let ti = Int(tIndex[row])
        if stamp[ti] != Int32(block) {
          stamp[ti] = Int32(block)
          slot[ti] = Int32(pairRow.count)
          pairRow.append(Int32(row))
        }
        pairOfRow[row] = slot[ti]
      }
    }
  }

  /// Bits needed to hold `v` ≥ 0 (0 for 0).
  static func bits(_ v: Int) -> Int { v <= 0 ? 0 : Int.bitWidth - v.leadingZeroBitCount }

  /// Stable LSD radix sort (11-bit digits) of `keys` by their low `bits`
  /// bits, applying the same permutation to `values`.
  static func radixSort(_ keys: inout [UInt64], carrying values: inout [Int32], bits: Int) {
    let n = keys.count
    var keyScratch = [UInt64](repeating: 0, count: n)
    var valueScratch = [Int32](repeating: 0, count: n)
    let digit = 11, mask = (1 << 11) - 1
    var counts = [Int](repeating: 0, count: mask + 1)
    var shift = 0
    while shift < bits {
      for d in 0...mask { counts[d] = 0 }
      for key in keys { counts[Int(key >> UInt64(shift)) & mask] += 1 }
      var total = 0
      for d in 0...mask { let c = counts[d]; counts[d] = total; total += c }
      for i in 0..<n {
        let d = Int(keys[i] >> UInt64(shift)) & mask
        keyScratch[counts[d]] = keys[i]
        valueScratch[counts[d]] = values[i]
        counts[d] += 1
      }
      swap(&keys, &keyScratch)
      swap(&values, &valueScratch)
      shift += digit
    }
  }
}
