extension Ledger {
  /// Sorts the rows by (customer, day, input order) and fills `customerStart`.
  ///
  /// A stable counting sort on customer index, then a stable sort by day
  /// within each customer's run, then one gather per column. Runs are short
  /// and usually already in order, so a run of at most
  /// `insertionSortLimit` rows is insertion-sorted; a longer run that is out
  /// of order is sorted by (day, row index) packed into one `UInt64` key
  /// (`sortByDay(_:lo:hi:days:keys:)`), which is stable because row indices
  /// within a run are increasing and distinct.
  ///
  /// - Complexity: O(n + c) plus, per customer run of length r, O(r) when it
  ///   is in order, O(r²) with r ≤ `insertionSortLimit` (a constant), else
  ///   O(r log r).
  mutating func sortByCustomerAndDay() {
    let n = customer.count
    let c = customerIDs.count
    let sorted = Ledger.countingSortByCustomer(
      customer, customers: c,
      parts: Parallel.chunkCount(for: n, minimumChunk: 1 << 20, maximumChunks: Parallel.coreCount))
    var order = sorted.order
    let start = sorted.start
    // Stable sort by day within each customer's run, on every core (runs
    // are disjoint).
    let days = day
    order.withUnsafeMutableBufferPointer { o in
      days.withUnsafeBufferPointer { d in
        Parallel.forEachChunk(count: c, chunkCount: Parallel.chunkCount(customers: c, rows: n)) { _, customers in
          var keys: [UInt64] = []
          for k in customers {
            let lo = start[k], hi = start[k + 1]
            if hi - lo < 2 { continue }
            if hi - lo <= Ledger.insertionSortLimit {
              Ledger.insertionSortByDay(o, lo: lo, hi: hi, days: d)
            } else {
              Ledger.sortByDay(o, lo: lo, hi: hi, days: d, keys: &keys)
            }
          }
        }
      }
    }
    // One scratch column per element type, swapped with each column in
    // turn: three allocations instead of eight, and far fewer page faults.
    // Not zeroed first: every element is written by the first gather.
    var int32Scratch = [Int32](unsafeUninitializedCapacity: n) { _, k in k = n }
    // The sorted customer column is each customer's index over its run:
    // written in order instead of gathered from anywhere.
    customer.withUnsafeMutableBufferPointer { out in
      Parallel.forEachChunk(count: c, chunkCount: Parallel.chunkCount(customers: c, rows: n)) { _, customers in
        for k in customers {
          UnsafeMutableBufferPointer(rebasing: out[start[k]..<start[k + 1]]).update(repeating: Int32(k))
        }
      }
    }
    Ledger.gather(&day, order, scratch: &int32Scratch)
    Ledger.gather(&category, order, scratch: &int32Scratch)
    Ledger.gather(&channel, order, scratch: &int32Scratch)
    Ledger.gather(&store, order, scratch: &int32Scratch)
    int32Scratch = []
    var doubleScratch = [Double](unsafeUninitializedCapacity: n) { _, k in k = n }
    Ledger.gather(&amount, order, scratch: &doubleScratch)
    Ledger.gather(&listPrice, order, scratch: &doubleScratch)
    if !promo.isEmpty { promo = Ledger.gather(promo, order) }
    customerStart = start
  }

  /// The stable counting sort of the rows by customer: `order[i]` is the
  /// row at sorted position i; customer k's rows are at positions
  /// `start[k]..<start[k + 1]`, in input order.
  ///
  /// The rows are cut into `parts` parts (one per core). Each part counts
  /// its rows by customer; a customer's rows of part p then go after its
  /// rows of the parts before p, so the order is the serial sort's,
  /// whatever the number of parts. Counting and placing run on every core;
  /// only the prefix sum over customers is serial (counting and placing
  /// were two serial passes over the rows while the other core idled).
  ///
  /// - Complexity: O(n + parts · c) time, parts · c counts of scratch
  ///   (`Int32`: row positions, as in `order`).
  static func countingSortByCustomer(
    _ customer: [Int32], customers c: Int, parts: Int
  ) -> (order: [Int32], start: [Int]) {
    let n = customer.count
    // counts[p * c + k]: part p's rows of customer k, then where the next
    // of them goes.
    var counts = [Int32](unsafeUninitializedCapacity: parts * c) { _, k in k = parts * c }
    var start = [Int](repeating: 0, count: c + 1)
    let order = [Int32](unsafeUninitializedCapacity: n) { out, initialized in
      customer.withUnsafeBufferPointer { rowCustomer in
        counts.withUnsafeMutableBufferPointer { counts in
          func rows(_ p: Int) -> Range<Int> { n * p / parts..<n * (p + 1) / parts }
          Parallel.forEachChunk(count: parts, chunkCount: parts) { p, _ in
            let mine = UnsafeMutableBufferPointer(rebasing: counts[p * c..<(p + 1) * c])
            mine.initialize(repeating: 0)
            for i in rows(p) { mine[Int(rowCustomer[i])] += 1 }
          }
          var next = 0
          for k in 0..<c {
            start[k] = next
            for p in 0..<parts {
              let count = Int(counts[p * c + k])
              counts[p * c + k] = Int32(truncatingIfNeeded: next)
              next += count
            }
          }
          start[c] = next
          Parallel.forEachChunk(count: parts, chunkCount: parts) { p, _ in
            for i in rows(p) {
              let slot = p * c + Int(rowCustomer[i])
              out[Int(counts[slot])] = Int32(truncatingIfNeeded: i)
              counts[slot] += 1
            }
          }
        }
      }
      initialized = n
    }
    return (order, start)
  }

  /// Longest customer run sorted by insertion: quadratic, but at most
  /// 64·63/2 moves per 64 rows, and the fastest method on short, nearly
  /// sorted runs (the usual case).
  static let insertionSortLimit = 64

  /// Stable insertion sort of `o[lo..<hi]` by `days[o[i]]`.
  ///
  /// - Complexity: O(r + inversions), r = hi − lo.
  static func insertionSortByDay(
    _ o: UnsafeMutableBufferPointer<Int32>, lo: Int, hi: Int, days d: UnsafeBufferPointer<Int32>
  ) {
    var i = lo + 1
    while i < hi {
      let v = o[i]
      let dv = d[Int(v)]
      var j = i - 1
      while j >= lo && d[Int(o[j])] > dv {
        o[j + 1] = o[j]
        j -= 1
      }
      o[j + 1] = v
      i += 1
    }
  }

  /// Stable sort of `o[lo..<hi]` by `days[o[i]]` for a long run. `o[lo..<hi]`
  /// holds distinct row indices in increasing order (the counting sort on
  /// customer is stable), so the key
  ///
  /// ```
  /// key(i) = (UInt32(bitPattern: day) ^ 0x8000_0000) << 32 | UInt32(row)
  /// ```
  ///
  /// (day biased so that negative days order first) is distinct per row and
  /// orders by day, then input order: any correct sort of the keys is the
  /// stable sort by day. `keys` is scratch reused across runs.
  ///
  /// - Complexity: O(r) when the run is already in order (checked first),
  ///   else O(r log r), r = hi − lo.
  static func sortByDay(
    _ o: UnsafeMutableBufferPointer<Int32>, lo: Int, hi: Int, days d: UnsafeBufferPointer<Int32>,
    keys: inout [UInt64]
  ) {
    var inOrder = true
    var previous = d[Int(o[lo])]
    for i in (lo + 1)..<hi {
      let v = d[Int(o[i])]
      if v < previous { inOrder = false; break }
      previous = v
    }
    if inOrder { return }
    keys.removeAll(keepingCapacity: true)
    for i in lo..<hi {
      let row = o[i]
      let biased = UInt64(UInt32(bitPattern: d[Int(row)]) ^ 0x8000_0000)
      keys.append(biased << 32 | UInt64(UInt32(bitPattern: row)))
    }
    keys.sort()
    for (i, key) in zip(lo..<hi, keys) {
      o[i] = Int32(bitPattern: UInt32(truncatingIfNeeded: key))
    }
  }

  /// Permutes `column` by `order` through `scratch` (same length), leaving
  /// the old storage in `scratch` for the next column; an emptied column
  /// (`releaseStore`, `releaseTierInputs`) stays empty. On every core: each
  /// chunk of the output reads rows anywhere but writes only its own.
  static func gather<T>(_ column: inout [T], _ order: [Int32], scratch: inout [T]) {
    if column.isEmpty && !order.isEmpty { return }
    precondition(column.count == order.count && scratch.count == order.count, "length mismatch")
    column.withUnsafeBufferPointer { src in
      scratch.withUnsafeMutableBufferPointer { dst in
        order.withUnsafeBufferPointer { o in
          Parallel.forEachChunk(count: o.count, chunkCount: Parallel.chunkCount(for: o.count, minimumChunk: 65_536)) {
            _, range in
            for i in range { dst[i] = src[Int(o[i])] }
          }
        }
      }
    }
    swap(&column, &scratch)
  }

  /// `column[order[0]], column[order[1]], …`: a permutation or a selection.
  static func gather<T>(_ column: [T], _ order: [Int32]) -> [T] {
    column.withUnsafeBufferPointer { src in
      order.withUnsafeBufferPointer { o in Parallel.map(elements: o.count, minimumChunk: 65_536) { src[Int(o[$0])] } }
    }
  }
}
