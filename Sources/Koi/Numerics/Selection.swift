/// Order statistics in place: quickselect with a median-of-three pivot and
/// Hoare partition, shared by the tier features' medians and the boosted
/// trees' absolute-error leaves.
enum Selection {
  /// The median of `a[0..<count]`, `count ≥ 1` (the mean of the middle two
  /// for an even count); reorders `a`.
  ///
  /// - Complexity: O(count) expected, O(count²) worst case.
  static func median(_ a: UnsafeMutablePointer<Double>, count m: Int) -> Double {
    precondition(m > 0, "median of nothing")
    let h = m / 2
    let upper = select(a, count: m, k: h)
    if m % 2 == 1 { return upper }
    // Everything before h is ≤ a[h]: the lower middle is their maximum.
    var lower = a[0]
    for q in 1..<h where a[q] > lower { lower = a[q] }
    return (lower + upper) / 2
  }

  /// The `k`-th smallest of `a[0..<count]`; afterwards `a[0..<k] ≤ a[k] ≤
  /// a[k+1..<count]`.
  ///
  /// - Complexity: O(count) expected.
  static func select(_ a: UnsafeMutablePointer<Double>, count m: Int, k: Int) -> Double {
    var lo = 0, hi = m - 1
    while hi > lo {
      let mid = lo + (hi - lo) / 2
      if a[mid] < a[lo] { a.swapAt(mid, lo) }
      if a[hi] < a[lo] { a.swapAt(hi, lo) }
      if a[hi] < a[mid] { a.swapAt(hi, mid) }
      let pivot = a[mid]
      var i = lo, j = hi
      while i <= j {
        while a[i] < pivot { i += 1 }
        while a[j] > pivot { j -= 1 }
        if i <= j {
          a.swapAt(i, j)
          i += 1
          j -= 1
        }
      }
      if k <= j { hi = j } else if k >= i { lo = i } else { break }
    }
    return a[k]
  }
}

extension UnsafeMutablePointer where Pointee == Double {
  @inline(__always)
  fileprivate func swapAt(_ i: Int, _ j: Int) {
    let t = self[i]
    self[i] = self[j]
    self[j] = t
  }
}
