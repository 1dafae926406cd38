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

  /// Sorting and grouping run in fixed chunks on every core: the customers
  /// are sorted by a packed (x, t_x, T) key with a stable radix sort, whose
  /// result is the one order of a stable sort whatever the chunks, and each
  /// chunk of the sorted customers numbers its rows from the count of rows
  /// that start before it. The fields come back from the packed key; only
  /// ranges too wide to pack (more than 64 key bits) compare the fields.
  ///
  /// - Complexity: O(n) (radix sort) when times are whole numbers below
  ///   max(2¹⁶, n), otherwise O(n log n).
  init(_ summary: LifetimeSummary) {
    let f = summary.frequency, r = summary.recency, a = summary.age
    let customers = summary.count
    rowOfCustomer = [Int32](repeating: -1, count: customers)
    let extent = Extent(summary)
    totalWeight = Double(extent.valid)
    guard extent.valid > 0 else { return }

    // Times as indices into a table of distinct values. Whole days index a
    // table 0…max T directly, unless that table would be far larger than the
    // data (the logs are recomputed per evaluation).
    let n = extent.valid
    let direct = extent.whole && extent.maxTime < Double(max(1 << 16, n))
    if direct {
      times = (0...Int(extent.maxTime)).map(Double.init)
    } else {
      var all = [Double]()
      all.reserveCapacity(2 * n)
      for i in 0..<customers where summary.isValid(i) { all.append(r[i]); all.append(a[i]) }
      all.sort()
      for v in all where times.last != v { times.append(v) }
    }
    let table = times
    func timeIndex(_ v: Double) -> Int32 {
      if direct { return Int32(v) }
      var lo = 0, hi = table.count - 1
      while lo < hi {
        let mid = (lo + hi) / 2
        if table[mid] < v { lo = mid + 1 } else { hi = mid }
      }
      return Int32(lo)
    }

    // The valid customers in index order, each with its packed key.
    let timeBits = Self.bits(times.count - 1)
    let keyBits = Self.bits(Int(extent.maxX)) + 2 * timeBits
    let packed = keyBits <= 64
    var keys = [UInt64](repeating: 0, count: n)
    var order = [Int32](repeating: 0, count: n)
    keys.withUnsafeMutableBufferPointer { keys in
      order.withUnsafeMutableBufferPointer { order in
        Parallel.forEachChunk(count: customers, chunkCount: extent.chunks.count) { chunk, range in
          var j = extent.chunks[chunk].firstPosition
          for i in range where summary.isValid(i) {
            order[j] = Int32(i)
            if packed {
              keys[j] =
                UInt64(f[i]) << (2 * timeBits) | UInt64(timeIndex(r[i])) << timeBits | UInt64(timeIndex(a[i]))
            }
            j += 1
          }
        }
      }
    }
    // Fields of a customer, for the path that cannot read them from its key.
    var txOf = [Int32](), tOf = [Int32]()
    if packed {
      Self.radixSort(&keys, carrying: &order, bits: keyBits)
    } else {
      // Pathological ranges: compare the fields, then number the distinct ones.
      txOf = [Int32](repeating: 0, count: customers)
      tOf = [Int32](repeating: 0, count: customers)
      for i in order.map(Int.init) { txOf[i] = timeIndex(r[i]); tOf[i] = timeIndex(a[i]) }
      order.sort { p, q in
        (f[Int(p)], txOf[Int(p)], tOf[Int(p)], p) < (f[Int(q)], txOf[Int(q)], tOf[Int(q)], q)
      }
      var previous: (Int32, Int32, Int32)?
      var rank: UInt64 = 0
      for (j, o) in order.enumerated() {
        let key = (f[Int(o)], txOf[Int(o)], tOf[Int(o)])
        if let previous, previous != key { rank += 1 }
        previous = key
        keys[j] = rank
      }
    }
    let timeMask = (UInt64(1) << timeBits) - 1
    func fields(key: UInt64, customer: Int) -> (x: Int32, tx: Int32, t: Int32) {
      packed
        ? (
          Int32(truncatingIfNeeded: key >> UInt64(2 * timeBits)),
          Int32(truncatingIfNeeded: (key >> UInt64(timeBits)) & timeMask), Int32(truncatingIfNeeded: key & timeMask)
        )
        : (f[customer], txOf[customer], tOf[customer])
    }
    groupSorted(keys: keys, customers: order, fields: fields)
    numberPairs()
  }

  /// How many customers are valid, in all and per fixed chunk, and the
  /// ranges of their x and times (one parallel pass).
  private struct Extent {
    struct Chunk {
      var valid = 0
      /// Valid customers in the chunks before this one.
      var firstPosition = 0
    }
    var chunks: [Chunk]
    var valid = 0
    var maxTime = 0.0
    var whole = true
    var maxX: Int32 = 0

    init(_ summary: LifetimeSummary) {
      let n = summary.count
      chunks = [Chunk](repeating: Chunk(), count: Parallel.chunkCount(for: n))
      var parts = [(maxTime: Double, whole: Bool, maxX: Int32)](repeating: (0, true, 0), count: chunks.count)
      chunks.withUnsafeMutableBufferPointer { chunks in
        parts.withUnsafeMutableBufferPointer { parts in
          Parallel.forEachChunk(count: n, chunkCount: chunks.count) { chunk, range in
            var valid = 0, maxTime = 0.0, whole = true, maxX: Int32 = 0
            for i in range where summary.isValid(i) {
              let tx = summary.recency[i], t = summary.age[i]
              valid += 1
              maxTime = max(maxTime, t)
              if tx != tx.rounded() || t != t.rounded() { whole = false }
              maxX = max(maxX, summary.frequency[i])
            }
            chunks[chunk].valid = valid
            parts[chunk] = (maxTime, whole, maxX)
          }
        }
      }
      for c in chunks.indices {
        chunks[c].firstPosition = valid
        valid += chunks[c].valid
        maxTime = max(maxTime, parts[c].maxTime)
        whole = whole && parts[c].whole
        maxX = max(maxX, parts[c].maxX)
      }
    }
  }

  /// Fills the rows from the customers sorted by key (equal keys are one
  /// row, whose fields `fields` reads from its first customer): each fixed
  /// chunk of sorted positions counts the rows starting in it, then writes
  /// them and its customers' row numbers from the count before it; weights
  /// are the distances between row starts. Also cuts the x blocks.
  private mutating func groupSorted(
    keys: [UInt64], customers: [Int32], fields: (_ key: UInt64, _ customer: Int) -> (x: Int32, tx: Int32, t: Int32)
  ) {
    let n = keys.count
    let chunks = Parallel.chunkCount(for: n)
    var firstRow = [Int](repeating: 0, count: chunks + 1)
    firstRow.withUnsafeMutableBufferPointer { firstRow in
      Parallel.forEachChunk(count: n, chunkCount: chunks) { chunk, range in
        var starts = 0
        for j in range where j == 0 || keys[j] != keys[j - 1] { starts += 1 }
        firstRow[chunk + 1] = starts
      }
    }
    for c in 0..<chunks { firstRow[c + 1] += firstRow[c] }
    let m = firstRow[chunks]
    var x = [Double](repeating: 0, count: m), tx = x, t = x
    var txIndex = [Int32](repeating: 0, count: m), tIndex = txIndex
    var rowStart = [Int](repeating: n, count: m + 1)
    let times = self.times
    x.withUnsafeMutableBufferPointer { x in
      tx.withUnsafeMutableBufferPointer { tx in
        t.withUnsafeMutableBufferPointer { t in
          txIndex.withUnsafeMutableBufferPointer { txIndex in
            tIndex.withUnsafeMutableBufferPointer { tIndex in
              rowStart.withUnsafeMutableBufferPointer { rowStart in
                rowOfCustomer.withUnsafeMutableBufferPointer { rowOfCustomer in
                  Parallel.forEachChunk(count: n, chunkCount: chunks) { chunk, range in
                    // The row of a chunk's first position, when it starts none, began before it.
                    var row = firstRow[chunk] - 1
                    for j in range {
                      let customer = Int(customers[j])
                      if j == 0 || keys[j] != keys[j - 1] {
                        row += 1
                        let (xi, txi, ti) = fields(keys[j], customer)
                        x[row] = Double(xi)
                        tx[row] = times[Int(txi)]
                        t[row] = times[Int(ti)]
                        txIndex[row] = txi
                        tIndex[row] = ti
                        rowStart[row] = j
                      }
                      rowOfCustomer[customer] = Int32(row)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    weight = (0..<m).map { Double(rowStart[$0 + 1] - rowStart[$0]) }
    for row in 1..<m where x[row] != x[row - 1] { blockStart.append(row) }
    blockStart.append(m)
    (self.x, self.tx, self.t, self.txIndex, self.tIndex) = (x, tx, t, txIndex, tIndex)
  }

  /// (x, T) pairs, numbered in order of first appearance.
  private mutating func numberPairs() {
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
  /// bits, applying the same permutation to `values`. Each pass counts the
  /// digits of fixed chunks on every core, places chunk c's keys of digit d
  /// after those of smaller digits and of d in chunks before c, and moves
  /// every chunk's keys in order: the same stable order as one serial pass.
  static func radixSort(_ keys: inout [UInt64], carrying values: inout [Int32], bits: Int) {
    let n = keys.count
    var keyScratch = [UInt64](repeating: 0, count: n)
    var valueScratch = [Int32](repeating: 0, count: n)
    let digit = 11, radix = 1 << 11, mask = UInt64(radix - 1)
    let chunks = Parallel.chunkCount(for: n, minimumChunk: 1 << 16)
    var counts = [Int](repeating: 0, count: chunks * radix)
    var shift = 0
    while shift < bits {
      keys.withUnsafeBufferPointer { keys in
        counts.withUnsafeMutableBufferPointer { counts in
          Parallel.forEachChunk(count: n, chunkCount: chunks) { chunk, range in
            let mine = counts.baseAddress! + chunk * radix  // chunk < chunks, so inside counts
            for d in 0..<radix { mine[d] = 0 }
            for i in range { mine[Int(keys[i] >> UInt64(shift) & mask)] += 1 }
          }
        }
      }
      var total = 0
      for d in 0..<radix {
        for chunk in 0..<chunks {
          let c = counts[chunk * radix + d]
          counts[chunk * radix + d] = total
          total += c
        }
      }
      keys.withUnsafeBufferPointer { keys in
        values.withUnsafeBufferPointer { values in
          keyScratch.withUnsafeMutableBufferPointer { keyScratch in
            valueScratch.withUnsafeMutableBufferPointer { valueScratch in
              counts.withUnsafeMutableBufferPointer { counts in
                Parallel.forEachChunk(count: n, chunkCount: chunks) { chunk, range in
                  let next = counts.baseAddress! + chunk * radix  // chunk < chunks, so inside counts
                  for i in range {
                    let d = Int(keys[i] >> UInt64(shift) & mask)
                    keyScratch[next[d]] = keys[i]
                    valueScratch[next[d]] = values[i]
                    next[d] += 1
                  }
                }
              }
            }
          }
        }
      }
      swap(&keys, &keyScratch)
      swap(&values, &valueScratch)
      shift += digit
    }
  }
}
