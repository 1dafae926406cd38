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
  /// only on the data and the generator. When φ = 0 (fewer distinct points
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
          for i in range {
            var dist = 0.0
            var p = i
            for f in 0..<d { let df = Double(x[p]) - cp[f]; dist += df * df; p &+= n }
            let v = initial ? dist : min(closest[i], dist)
            closest[i] = v
            s += v
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
    let potScratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: blocks * trials)
    defer { potScratch.deallocate() }

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
            for i in range {
              var dist = 0.0
              var p = i
              for f in 0..<d { let df = Double(x[p]) - ct[f]; dist += df * df; p &+= n }
              s += min(closest[i], dist)
            }
            potScratch[b * trials + t] = s
          }
        }
      }
      var bestT = 0
      var bestPot = Double.infinity
      for t in 0..<trials {
        var s = 0.0
        for b in 0..<blocks { s += potScratch[b * trials + t] }
        if s < bestPot { bestPot = s; bestT = t }
      }
      c0 = Array(candidatePoints[(bestT * d)..<(bestT * d + d)])
      for f in 0..<d { centers[c * d + f] = c0[f] }
      updateClosest(c0, initial: false)
      pot = blockPot.reduce(0, +)
    }
    return centers
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
