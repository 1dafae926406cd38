extension Ledger {
  /// Sorts the rows by (customer, day, input order) and fills `customerStart`.
  ///
  /// A stable counting sort on customer index, then a stable sort by day
  /// within each customer's run (runs are short and usually already in order,
  /// so insertion sort is the right tool), then one gather per column.
  ///
  /// - Complexity: O(n + c) plus O(r²) for a customer run of length r that is
  ///   out of order (O(r) when it is in order, the usual case).
  mutating func sortByCustomerAndDay() {
    let n = customer.count
    let c = customerIDs.count
    var start = [Int](repeating: 0, count: c + 1)
    for i in 0..<n { start[Int(customer[i]) + 1] += 1 }
    for k in 0..<c { start[k + 1] += start[k] }
    var next = start
    var order = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      let k = Int(customer[i])
      order[next[k]] = Int32(truncatingIfNeeded: i)
      next[k] += 1
    }
    // Stable insertion sort by day within each customer's run.
    let days = day
    order.withUnsafeMutableBufferPointer { o in
      days.withUnsafeBufferPointer { d in
        for k in 0..<c {
          let lo = start[k], hi = start[k + 1]
          if hi - lo < 2 { continue }
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
      }
    }
    // One scratch column per element type, swapped with each column in
    // turn: three allocations instead of eight, and far fewer page faults.
    var int32Scratch = [Int32](repeating: 0, count: n)
    Ledger.gather(&customer, order, scratch: &int32Scratch)
    Ledger.gather(&day, order, scratch: &int32Scratch)
    Ledger.gather(&category, order, scratch: &int32Scratch)
    Ledger.gather(&channel, order, scratch: &int32Scratch)
    Ledger.gather(&store, order, scratch: &int32Scratch)
    int32Scratch = []
    var doubleScratch = [Double](repeating: 0, count: n)
    Ledger.gather(&amount, order, scratch: &doubleScratch)
    Ledger.gather(&listPrice, order, scratch: &doubleScratch)
    promo = Ledger.gather(promo, order)
    customerStart = start
  }

  /// Permutes `column` by `order` through `scratch` (same length), leaving
  /// the old storage in `scratch` for the next column.
  static func gather<T>(_ column: inout [T], _ order: [Int32], scratch: inout [T]) {
    precondition(column.count == order.count && scratch.count == order.count, "length mismatch")
    column.withUnsafeBufferPointer { src in
      scratch.withUnsafeMutableBufferPointer { dst in
        order.withUnsafeBufferPointer { o in
          for i in 0..<o.count { dst[i] = src[Int(o[i])] }
        }
      }
    }
    swap(&column, &scratch)
  }

  /// `column[order[0]], column[order[1]], …`: a permutation or a selection.
  static func gather<T>(_ column: [T], _ order: [Int32]) -> [T] {
    return [T](unsafeUninitializedCapacity: order.count) { out, count in
      column.withUnsafeBufferPointer { src in
        order.withUnsafeBufferPointer { o in
          for i in 0..<o.count { (out.baseAddress! + i).initialize(to: src[Int(o[i])]) }
        }
      }
      count = order.count
    }
  }
}
