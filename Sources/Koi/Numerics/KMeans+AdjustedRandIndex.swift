/// The adjusted Rand index (Hubert & Arabie 1985) between two labelings of the
/// same `n` items: agreement of the pair partitions, corrected for chance.
///
/// With the contingency table `n_ij` (items in cluster `i` of `a` and `j` of
/// `b`), row sums `a_i`, column sums `b_j` and `C(m) = m(m−1)/2`:
///
/// ```
/// index    = Σ_ij C(n_ij)
/// expected = Σ_i C(a_i) · Σ_j C(b_j) / C(n)
/// maximum  = ½ (Σ_i C(a_i) + Σ_j C(b_j))
/// ARI      = (index − expected) / (maximum − expected)
/// ```
///
/// 1 for identical partitions (up to renaming), about 0 for independent ones,
/// negative when worse than chance. When `maximum = expected` (both labelings
/// put everything in one cluster, or everything in singletons, or `n < 2`)
/// the partitions are identical and the result is 1, as in scikit-learn.
/// Labels may be any integers (negative ones too); only equality matters.
///
/// - Precondition: `a.count == b.count`.
/// - Complexity: O(n log n) (sorting the label pairs).
func adjustedRandIndex<L: BinaryInteger>(_ a: [L], _ b: [L]) -> Double {
  precondition(a.count == b.count, "both labelings must cover the same items")
  let n = a.count
  if n < 2 { return 1 }
  func pairs(_ m: Int) -> Double { Double(m) * Double(m - 1) / 2 }
  func countsOf(_ keys: [(Int64, Int64)]) -> [Int] {
    var out: [Int] = []
    var i = 0
    while i < keys.count {
      var j = i + 1
      while j < keys.count && keys[j] == keys[i] { j += 1 }
      out.append(j - i)
      i = j
    }
    return out
  }
  let ab = zip(a, b).map { (Int64($0), Int64($1)) }.sorted { $0 < $1 }
  let aa = a.map { (Int64($0), Int64(0)) }.sorted { $0 < $1 }
  let bb = b.map { (Int64($0), Int64(0)) }.sorted { $0 < $1 }
  let index = countsOf(ab).reduce(0.0) { $0 + pairs($1) }
  let sumA = countsOf(aa).reduce(0.0) { $0 + pairs($1) }
  let sumB = countsOf(bb).reduce(0.0) { $0 + pairs($1) }
  let expected = sumA * sumB / pairs(n)
  let maximum = (sumA + sumB) / 2
  if maximum == expected { return 1 }
  return (index - expected) / (maximum - expected)
}
