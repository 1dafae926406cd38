import RealModule

extension LloydEngine {
  /// Greedy k-means++ seeding (scikit-learn's `_kmeans_plusplus`):
  ///
  /// ```
  /// c_1 = x_u,  u uniform on {0 … n−1}
  /// D(x) = min_{chosen c} ‖x − c‖²,   φ = Σ_i D(x_i)
  /// for each further centre: draw L = 2 + ⌊ln k⌋ candidates, candidate t being
  ///   the first i with Σ_{i' ≤ i} D(x_i') > r_t · φ,  r_t uniform on [0, 1);
  ///   keep the candidate minimising Σ_i min(D(x_i), ‖x_i − x_cand‖²)
  ///   (ties to the earlier draw).
  /// ```
  ///
  /// Prefix sums run block by block in block order, so the choice depends
  /// only on the data and the generator. Distances are computed four points
  /// at a time (`squaredDistances`, the point-by-point operations lane by
  /// lane) and added to the block sums in point order, so every value is the
  /// point-by-point loop's; the tests compare the two bit for bit. Each
  /// trial's block sums go to `partialScalars` (16 per block; at most
  /// `2 + ⌊ln 256⌋ = 7` trials). When φ = 0 (fewer distinct points
  /// than k) the draw falls on the last point, duplicating a centre; Lloyd's
  /// empty-cluster repair then deals with it.
  ///
  /// - Complexity: O(k · (L + 1) · n · d) time, O(n) memory.
  mutating func seedPlusPlus(_ g: inout SeededGenerator) -> [Double] {
    if closest == nil { closest = .allocate(capacity: n) }
    // Set just above, so the force unwrap cannot fail.
    let closest = closest!
    let n = n, d = d, blocks = blocks, pscal = partialScalars
    var centers = [Double](repeating: 0, count: k * d)
    let first = min(n - 1, Int(g.uniform() * Double(n)))
    let values = matrix.values
    func point(_ i: Int) -> [Double] { (0..<d).map { Double(values[$0 * n + i]) } }
    var c0 = point(first)
    for f in 0..<d { centers[f] = c0[f] }

    // Block potentials for the prefix-sum search (`blockPot[b]`).
    var blockPot = [Double](repeating: 0, count: blocks)
    func updateClosest(_ c: [Double], initial: Bool) {
      c.withUnsafeBufferPointer { cp in
        forEachBlock { x, b, range in
          var s = 0.0
          var i = range.lowerBound
          while i &+ 4 <= range.upperBound {
            let dist = Self.squaredDistances(x, n: n, d: d, from: i, to: cp.baseAddress!)
            let old = UnsafeRawPointer(closest.baseAddress! + i).loadUnaligned(as: SIMD4<Double>.self)
            let v = initial ? dist : Self.lanewiseMin(old, dist)
            UnsafeMutableRawPointer(closest.baseAddress! + i).storeBytes(of: v, as: SIMD4<Double>.self)
            s += v[0]; s += v[1]; s += v[2]; s += v[3]
            i &+= 4
          }
          while i < range.upperBound {
            let dist = Self.squaredDistance(x, n: n, d: d, of: i, to: cp.baseAddress!)
            let v = initial ? dist : min(closest[i], dist)
            closest[i] = v
            s += v
            i &+= 1
          }
          pscal[b] = s
        }
      }
      for b in 0..<blocks { blockPot[b] = pscal[b] }
    }
    updateClosest(c0, initial: true)
    var pot = blockPot.reduce(0, +)
    let trials = 2 + Int(Double.log(Double(k)))
    var candidates = [Int](repeating: 0, count: trials)
    var candidatePoints = [Double](repeating: 0, count: trials * d)

    for c in 1..<k {
      for t in 0..<trials {
        let r = g.uniform() * pot
        candidates[t] = search(r, blockPot: blockPot)
        let pt = point(candidates[t])
        for f in 0..<d { candidatePoints[t * d + f] = pt[f] }
      }
      candidatePoints.withUnsafeBufferPointer { cp in
        forEachBlock { x, b, range in
          for t in 0..<trials {
            let ct = cp.baseAddress! + t * d
            var s = 0.0
            var i = range.lowerBound
            while i &+ 4 <= range.upperBound {
              let dist = Self.squaredDistances(x, n: n, d: d, from: i, to: ct)
              let old = UnsafeRawPointer(closest.baseAddress! + i).loadUnaligned(as: SIMD4<Double>.self)
              let v = Self.lanewiseMin(old, dist)
              s += v[0]; s += v[1]; s += v[2]; s += v[3]
              i &+= 4
            }
            while i < range.upperBound {
              s += min(closest[i], Self.squaredDistance(x, n: n, d: d, of: i, to: ct))
              i &+= 1
            }
            pscal[b * trials + t] = s
          }
        }
      }
      var bestT = 0
      var bestPot = Double.infinity
      for t in 0..<trials {
        var s = 0.0
        for b in 0..<blocks { s += pscal[b * trials + t] }
        if s < bestPot { bestPot = s; bestT = t }
      }
      c0 = Array(candidatePoints[(bestT * d)..<(bestT * d + d)])
      for f in 0..<d { centers[c * d + f] = c0[f] }
      // The last centre's distances would only serve a next draw.
      if c < k - 1 {
        updateClosest(c0, initial: false)
        pot = blockPot.reduce(0, +)
      }
    }
    return centers
  }

  /// `‖x_i − c‖²` in `Double`, feature by feature from 0.
  @inline(__always)
  private static func squaredDistance(
    _ x: UnsafePointer<Float>, n: Int, d: Int, of i: Int, to c: UnsafePointer<Double>
  ) -> Double {
    var dist = 0.0
    var p = i
    for f in 0..<d { let df = Double(x[p]) - c[f]; dist += df * df; p &+= n }
    return dist
  }

  /// `min(a[l], b[l])` per lane. (`replacing(with:where:)` here compiles to
  /// a branch per lane, mispredicted about half the time; `min` to `minsd`.)
  @inline(__always)
  private static func lanewiseMin(_ a: SIMD4<Double>, _ b: SIMD4<Double>) -> SIMD4<Double> {
    SIMD4(min(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
  }

  /// `squaredDistance` of points `i ..< i + 4`, one per lane: each lane does
  /// the same operations in the same order, so the values are identical.
  @inline(__always)
  private static func squaredDistances(
    _ x: UnsafePointer<Float>, n: Int, d: Int, from i: Int, to c: UnsafePointer<Double>
  ) -> SIMD4<Double> {
    var dist = SIMD4<Double>()
    var p = i
    for f in 0..<d {
      let df = SIMD4<Double>(UnsafeRawPointer(x + p).loadUnaligned(as: SIMD4<Float>.self)) - SIMD4(repeating: c[f])
      dist += df * df
      p &+= n
    }
    return dist
  }

  /// The first point whose running sum of `closest` exceeds `r`; the last
  /// point with a positive distance (or the last point) if rounding leaves
  /// `r` beyond the total.
  private func search(_ r: Double, blockPot: [Double]) -> Int {
    // Only called from `seedPlusPlus`, which allocates `closest` first.
    let closest = closest!
    var acc = 0.0
    for b in 0..<blocks {
      if acc + blockPot[b] > r {
        var a = acc
        for i in Parallel.chunk(b, of: blocks, count: n) {
          a += closest[i]
          if a > r { return i }
        }
      }
      acc += blockPot[b]
    }
    var i = n - 1
    while i > 0 && closest[i] <= 0 { i -= 1 }
    return closest[i] > 0 ? i : n - 1
  }
}
