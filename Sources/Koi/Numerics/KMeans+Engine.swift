import CBLAS

/// The working state of one k-means fit: every buffer is allocated once per
/// fit and reused by every restart and iteration, so the hot loops neither
/// allocate nor touch reference counts.
///
/// Points are processed in `blocks` fixed, contiguous blocks (a function of
/// `n` only); every reduction stores one partial per block and adds them in
/// block order, which makes results independent of the worker count.
///
/// The `baseAddress!` unwraps in this file and in KMeans+Seeding.swift are
/// of buffers allocated here with a positive count (n ≥ 1, k ≥ 1, d ≥ 1 are
/// checked before an engine is made), whose base address is never nil.
struct LloydEngine {
  let matrix: FeatureMatrix
  let n: Int, d: Int, k: Int
  let kernel: KMeansOptions.Kernel
  let blocks: Int
  let workers: Int
  /// Points per tile of the assignment kernels.
  let tile: Int

  /// ‖x_i‖² in `Float` (approximate: used by the BLAS distances and by its
  /// error bound). BLAS kernel only: the fused kernel computes the same
  /// values from the features it loads anyway, which saves a memory-bound
  /// pass 4 of its 32 bytes per point.
  let norms: UnsafeMutableBufferPointer<Float>
  var labels: UnsafeMutableBufferPointer<Int32>
  let centroids: UnsafeMutableBufferPointer<Double>
  let centroidsF: UnsafeMutableBufferPointer<Float>
  let centroidNormsF: UnsafeMutableBufferPointer<Float>
  /// `−2 · centroidsF` (exact in `Float`), for the fused kernel.
  let centroidsM2F: UnsafeMutableBufferPointer<Float>
  var centroidNormMax: Double = 0
  let partialSums: UnsafeMutableBufferPointer<Double>
  let partialCounts: UnsafeMutableBufferPointer<Int>
  let partialScalars: UnsafeMutableBufferPointer<Double>
  let sums: UnsafeMutableBufferPointer<Double>
  let counts: UnsafeMutableBufferPointer<Int>
  /// Seeding: squared distance of each point to its nearest chosen centre.
  var closest: UnsafeMutableBufferPointer<Double>?

  /// - Parameter blocks: test hook; by default a function of `n` only.
  init(matrix: FeatureMatrix, k: Int, kernel: KMeansOptions.Kernel, threads: Int, blocks: Int? = nil) {
    self.matrix = matrix
    n = matrix.count
    d = matrix.featureCount
    self.k = k
    self.kernel = kernel
    self.blocks = blocks ?? Parallel.chunkCount(for: n, minimumChunk: 8192, maximumChunks: 64)
    workers = max(1, min(threads, self.blocks))
    // A multiple of 64 (whole 8-point groups). BLAS tiles keep the k × tile
    // distance block within ~256 KB.
    tile = kernel == .blas ? max(128, min(2048, 65_536 / k)) / 64 * 64 : 256
    norms = .allocate(capacity: kernel == .blas ? n : 1)
    labels = .allocate(capacity: n)
    labels.initialize(repeating: -1)
    centroids = .allocate(capacity: k * d)
    centroids.initialize(repeating: 0)
    centroidsF = .allocate(capacity: k * d)
    centroidsF.initialize(repeating: 0)
    centroidNormsF = .allocate(capacity: k)
    centroidsM2F = .allocate(capacity: k * d)
    centroidsM2F.initialize(repeating: 0)
    centroidNormsF.initialize(repeating: 0)
    partialSums = .allocate(capacity: self.blocks * k * d)
    partialCounts = .allocate(capacity: self.blocks * k)
    partialScalars = .allocate(capacity: self.blocks * 16)
    sums = .allocate(capacity: k * d)
    counts = .allocate(capacity: k)
    if kernel == .blas { computeNorms() }
  }

  mutating func deallocate() {
    norms.deallocate(); labels.deallocate(); centroids.deallocate(); centroidsF.deallocate()
    centroidNormsF.deallocate(); centroidsM2F.deallocate(); partialSums.deallocate(); partialCounts.deallocate()
    partialScalars.deallocate(); sums.deallocate(); counts.deallocate()
    closest?.deallocate()
    closest = nil
  }

  // MARK: - Passes

  /// Runs `body(x, range)` for every block, on `workers` threads.
  @inline(__always)
  func forEachBlock(_ body: (_ x: UnsafePointer<Float>, _ block: Int, _ range: Range<Int>) -> Void) {
    let blocks = blocks, n = n
    matrix.values.withUnsafeBufferPointer { xb in
      guard let x = xb.baseAddress else { return }
      Parallel.forEachChunk(count: blocks, chunkCount: workers) { _, blockRange in
        for b in blockRange { body(x, b, Parallel.chunk(b, of: blocks, count: n)) }
      }
    }
  }

  private func computeNorms() {
    let norms = norms, n = n, d = d
    forEachBlock { x, _, range in
      for i in range {
        var s: Float = 0
        var p = i
        for _ in 0..<d { let v = x[p]; s += v * v; p &+= n }
        norms[i] = s
      }
    }
  }

  /// `(1/d) Σ_f Var(x_·f)`, population variance, two passes in `Double`.
  func meanVariance() -> Double {
    if n == 0 { return 0 }
    let ps = partialSums, n = n, d = d, k = k
    // Means: partialSums[b * k * d + f] (k ≥ 2 ≥ 1 so d slots fit).
    forEachBlock { x, b, range in
      for f in 0..<d {
        var s = 0.0
        let xp = x + f * n
        for i in range { s += Double(xp[i]) }
        ps[b * k * d + f] = s
      }
    }
    var means = [Double](repeating: 0, count: d)
    for b in 0..<blocks { for f in 0..<d { means[f] += ps[b * k * d + f] } }
    for f in 0..<d { means[f] /= Double(n) }
    means.withUnsafeBufferPointer { mu in
      forEachBlock { x, b, range in
        for f in 0..<d {
          var s = 0.0
          let xp = x + f * n
          let m = mu[f]
          for i in range { let v = Double(xp[i]) - m; s += v * v }
          ps[b * k * d + f] = s
        }
      }
    }
    var total = 0.0
    for f in 0..<d {
      var v = 0.0
      for b in 0..<blocks { v += ps[b * k * d + f] }
      total += v / Double(n)
    }
    return total / Double(d)
  }

  /// Sets the current centroids (`k × d`, row-major `Double`).
  mutating func setCentroids(_ c: [Double]) {
    for i in 0..<(k * d) { centroids[i] = c[i] }
    refreshFloatCentroids()
  }

  mutating func refreshFloatCentroids() {
    var maxNorm = 0.0
    for j in 0..<k {
      var s = 0.0
      for f in 0..<d {
        let v = Float(centroids[j * d + f])
        centroidsF[j * d + f] = v
        centroidsM2F[j * d + f] = -2 * v
        s += Double(v) * Double(v)
      }
      centroidNormsF[j] = Float(s)
      maxNorm = max(maxNorm, s)
    }
    centroidNormMax = maxNorm
  }

  /// Assigns every point to its nearest centroid and returns how many labels
  /// changed. With `accumulate`, keeps the running per-block cluster sums
  /// (`Double`) and counts in step: a point whose label changes moves its
  /// coordinates from the old cluster's sums to the new one's, in point order
  /// within its block. After the first pass only changed points cost
  /// anything here, which is what makes late Lloyd iterations cheap.
  ///
  /// Both kernels compute approximate squared distances
  /// `A_j = ‖x‖² + ‖c_j‖² − 2 x·c_j` in `Float` (fused: one register-blocked
  /// loop; BLAS: sgemm for the cross term) with `|A_j − D_j| ≤ E`, where
  /// `D_j` is the `Double` distance and
  /// `E = (4d + 32) · 2⁻²⁴ · (‖x‖² + max_j ‖c_j‖²)` bounds the rounding of
  /// the dot product, the norms, the final additions and the rounding of
  /// the centroids to `Float` (about `(2d + 10) · 2⁻²⁴ · (‖x‖² + ‖c‖²)`) with a
  /// factor-2 margin. If the runner-up is within `2E` of the best, every candidate
  /// within `2E` is re-checked in `Double` (ties to the lower index), so the
  /// label is the exact `Double` argmin whichever kernel ran.
  @discardableResult
  mutating func assignPass(accumulate: Bool) -> Int {
    let n = n, d = d, k = k, tile = tile
    let labels = labels, norms = norms, cD = centroids.baseAddress!, cF = centroidsF.baseAddress!
    let cM2 = centroidsM2F.baseAddress!
    let cn = centroidNormsF.baseAddress!, ps = partialSums, pc = partialCounts, pscal = partialScalars
    let epsFactor = 2 * Double(4 * d + 32) * 0x1.0p-24
    let cnMax = centroidNormMax
    let epsF = Float(epsFactor), cnMaxF = Float(cnMax)
    let useBLAS = kernel == .blas
    if useBLAS { _ = LinearAlgebra.singleThreaded }
    forEachBlock { x, b, range in
      // Per-worker scratch, allocated once per block, outside the point loops.
      // Distance tile layout: scratch[j * tile + t] for centroid j, point t.
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile * k)
      scratch.initialize(repeating: 0, count: tile * k)
      let best = UnsafeMutablePointer<Float>.allocate(capacity: tile)
      let second = UnsafeMutablePointer<Float>.allocate(capacity: tile)
      let index = UnsafeMutablePointer<Int32>.allocate(capacity: tile)
      // Fused kernel: the tile's ‖x‖², computed as `computeNorms` does.
      let tileNorms = UnsafeMutablePointer<Float>.allocate(capacity: tile)
      defer {
        scratch.deallocate(); best.deallocate(); second.deallocate(); index.deallocate(); tileNorms.deallocate()
      }
      let bs = ps.baseAddress! + b * k * d
      let bc = pc.baseAddress! + b * k
      /// Moves point `i` from cluster `from` (−1: none yet) to `to` in this
      /// block's running sums and counts.
      @inline(__always) func move(_ i: Int, from: Int32, to: Int32) {
        let tb = bs + Int(to) &* d
        bc[Int(to)] &+= 1
        var p = i
        if from >= 0 {
          let fb = bs + Int(from) &* d
          bc[Int(from)] &-= 1
          for f in 0..<d { let v = Double(x[p]); tb[f] += v; fb[f] -= v; p &+= n }
        } else {
          for f in 0..<d { tb[f] += Double(x[p]); p &+= n }
        }
      }
      var changed = 0
      var i0 = range.lowerBound
      while i0 < range.upperBound {
        let m = min(tile, range.upperBound - i0)
        let xn = useBLAS ? norms.baseAddress! + i0 : tileNorms
        if useBLAS {
          // scratch (m × k, column-major, ld = tile) = −2 · X_tile (m × d, ld = n) · Cᵀ.
          cblas_sgemm(
            CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(k), Int32(d),
            -2, x + i0, Int32(n), cF, Int32(d), 0, scratch, Int32(tile))
          for j in 0..<k {
            let a = scratch + j * tile
            let cj = cn[j]
            for t in 0..<m { a[t] += xn[t] + cj }
          }
        } else {
          // Fused: ‖x‖² + ‖c‖² − 2 x·c, 8 points per register pair, four
          // centroids at a time (four independent add chains, each x vector
          // loaded once per four centroids), no stores until a distance is done.
          var t = 0
          while t &+ 8 <= m {
            var xnv = SIMD8<Float>()
            var q = x + (i0 &+ t)
            for _ in 0..<d {
              let v = UnsafeRawPointer(q).loadUnaligned(as: SIMD8<Float>.self)
              xnv += v * v
              q += n
            }
            UnsafeMutableRawPointer(tileNorms + t).storeBytes(of: xnv, as: SIMD8<Float>.self)
            var j = 0
            while j &+ 4 <= k {
              let c0 = cM2 + j &* d, c1 = c0 + d, c2 = c1 + d, c3 = c2 + d
              var a0 = xnv + SIMD8<Float>(repeating: cn[j])
              var a1 = xnv + SIMD8<Float>(repeating: cn[j &+ 1])
              var a2 = xnv + SIMD8<Float>(repeating: cn[j &+ 2])
              var a3 = xnv + SIMD8<Float>(repeating: cn[j &+ 3])
              var p = x + (i0 &+ t)
              for f in 0..<d {
                let xv = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
                a0 += xv * SIMD8<Float>(repeating: c0[f])
                a1 += xv * SIMD8<Float>(repeating: c1[f])
                a2 += xv * SIMD8<Float>(repeating: c2[f])
                a3 += xv * SIMD8<Float>(repeating: c3[f])
                p += n
              }
              let out = scratch + (j &* tile &+ t)
              UnsafeMutableRawPointer(out).storeBytes(of: a0, as: SIMD8<Float>.self)
              UnsafeMutableRawPointer(out + tile).storeBytes(of: a1, as: SIMD8<Float>.self)
              UnsafeMutableRawPointer(out + 2 &* tile).storeBytes(of: a2, as: SIMD8<Float>.self)
              UnsafeMutableRawPointer(out + 3 &* tile).storeBytes(of: a3, as: SIMD8<Float>.self)
              j &+= 4
            }
            while j < k {
              let cj = cM2 + j &* d
              var a = xnv + SIMD8<Float>(repeating: cn[j])
              var p = x + (i0 &+ t)
              for f in 0..<d {
                a += UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) * SIMD8<Float>(repeating: cj[f])
                p += n
              }
              UnsafeMutableRawPointer(scratch + (j &* tile &+ t)).storeBytes(of: a, as: SIMD8<Float>.self)
              j &+= 1
            }
            t &+= 8
          }
          while t < m {
            var s: Float = 0
            var q = i0 &+ t
            for _ in 0..<d { let v = x[q]; s += v * v; q &+= n }
            tileNorms[t] = s
            for j in 0..<k {
              let cj = cM2 + j &* d
              var a = xn[t] + cn[j]
              var p = i0 &+ t
              for f in 0..<d { a += x[p] * cj[f]; p &+= n }
              scratch[j &* tile &+ t] = a
            }
            t &+= 1
          }
        }
        // Best and runner-up per point, 8 points at a time (tiles are padded
        // to a multiple of 8; lanes past `m` are ignored).
        var t8 = 0
        while t8 < m {
          var b1 = UnsafeRawPointer(scratch + t8).loadUnaligned(as: SIMD8<Float>.self)
          var b2 = SIMD8<Float>(repeating: .infinity)
          var idx = SIMD8<Int32>(repeating: 0)
          var j = 1
          while j < k {
            let v = UnsafeRawPointer(scratch + (j &* tile &+ t8)).loadUnaligned(as: SIMD8<Float>.self)
            let lt = v .< b1
            b2.replace(with: v, where: v .< b2)
            b2.replace(with: b1, where: lt)
            idx.replace(with: Int32(truncatingIfNeeded: j), where: lt)
            b1.replace(with: v, where: lt)
            j &+= 1
          }
          UnsafeMutableRawPointer(best + t8).storeBytes(of: b1, as: SIMD8<Float>.self)
          UnsafeMutableRawPointer(second + t8).storeBytes(of: b2, as: SIMD8<Float>.self)
          UnsafeMutableRawPointer(index + t8).storeBytes(of: idx, as: SIMD8<Int32>.self)
          t8 &+= 8
        }
        // Labels: 8 points at a time; near ties (runner-up within the bound)
        // go through the exact Double re-check lane by lane.
        @inline(__always) func recheck(_ t: Int, bound: Double, label: Int32) -> Int32 {
          var label = label
          var bestExact = Double.infinity
          let i = i0 &+ t
          for j in 0..<k where Double(scratch[j &* tile &+ t]) <= bound {
            var s = 0.0
            var p = i
            let cj = cD + j &* d
            for f in 0..<d { let df = Double(x[p]) - cj[f]; s += df * df; p &+= n }
            if s < bestExact { bestExact = s; label = Int32(truncatingIfNeeded: j) }
          }
          return label
        }
        var t = 0
        while t &+ 8 <= m {
          let b1 = UnsafeRawPointer(best + t).loadUnaligned(as: SIMD8<Float>.self)
          let b2 = UnsafeRawPointer(second + t).loadUnaligned(as: SIMD8<Float>.self)
          let xnv = UnsafeRawPointer(xn + t).loadUnaligned(as: SIMD8<Float>.self)
          // Bound in Float: its own rounding (≲ 2⁻²³ · |b1 + E|) is far inside
          // the factor-2 margin of E.
          let bound = b1 + epsF * (xnv + cnMaxF)
          var idx = UnsafeRawPointer(index + t).loadUnaligned(as: SIMD8<Int32>.self)
          let near = b2 .<= bound
          if any(near) {
            for lane in 0..<8 where near[lane] {
              idx[lane] = recheck(t &+ lane, bound: Double(bound[lane]), label: idx[lane])
            }
          }
          let lp = labels.baseAddress! + (i0 &+ t)
          let old = UnsafeRawPointer(lp).loadUnaligned(as: SIMD8<Int32>.self)
          let moved = idx .!= old
          if any(moved) {
            changed &+= Int(SIMD8<Int32>(repeating: 0).replacing(with: 1, where: moved).wrappedSum())
            if accumulate {
              for lane in 0..<8 where moved[lane] { move(i0 &+ t &+ lane, from: old[lane], to: idx[lane]) }
            }
            UnsafeMutableRawPointer(lp).storeBytes(of: idx, as: SIMD8<Int32>.self)
          }
          t &+= 8
        }
        while t < m {
          let i = i0 &+ t
          var label = index[t]
          let bound = Double(best[t]) + epsFactor * (Double(xn[t]) + cnMax)
          if Double(second[t]) <= bound { label = recheck(t, bound: bound, label: label) }
          let old = labels[i]
          if old != label {
            changed &+= 1
            if accumulate { move(i, from: old, to: label) }
            labels[i] = label
          }
          t &+= 1
        }
        i0 &+= m
      }
      pscal[b] = Double(changed)
    }
    var changed = 0
    for b in 0..<blocks { changed += Int(pscal[b]) }
    return changed
  }

  /// Exact `Double` squared distance of every point to its labelled centroid,
  /// and their sum reduced in block order.
  func exactDistancesToAssigned() -> ([Double], Double) {
    var out = [Double](repeating: 0, count: n)
    let n = n, d = d, labels = labels, c = centroids.baseAddress!, pscal = partialScalars
    out.withUnsafeMutableBufferPointer { o in
      forEachBlock { x, b, range in
        var total = 0.0
        for i in range {
          let cj = c + Int(labels[i]) * d
          var s = 0.0
          var p = i
          for f in 0..<d { let df = Double(x[p]) - cj[f]; s += df * df; p &+= n }
          o[i] = s
          total += s
        }
        pscal[b] = total
      }
    }
    var inertia = 0.0
    for b in 0..<blocks { inertia += pscal[b] }
    return (out, inertia)
  }

  // MARK: - Lloyd

  struct Run {
    var centroids: [Double]
    var labels: [Int32]
    var inertia: Double
    var iterations: Int
    var converged: Bool
    var sizes: [Int]
  }

  /// Lloyd iterations from `initial` centroids with absolute shift tolerance
  /// `tolerance` (already multiplied by the mean variance).
  mutating func lloyd(initial: [Double], maxIterations: Int, tolerance: Double) -> Run {
    setCentroids(initial)
    resetAccumulation()
    var iterations = 0
    var converged = false
    while iterations < maxIterations {
      iterations += 1
      let changed = assignPass(accumulate: true)
      reduceSums()
      repairEmptyClusters()
      var shift = 0.0
      for j in 0..<k where counts[j] > 0 {
        let inv = 1 / Double(counts[j])
        for f in 0..<d {
          let v = sums[j * d + f] * inv
          let delta = v - centroids[j * d + f]
          shift += delta * delta
          centroids[j * d + f] = v
        }
      }
      refreshFloatCentroids()
      if changed == 0 || shift <= tolerance { converged = true; break }
    }
    assignPass(accumulate: false)
    let (_, inertia) = exactDistancesToAssigned()
    var sizes = [Int](repeating: 0, count: k)
    for i in 0..<n { sizes[Int(labels[i])] += 1 }
    return Run(
      centroids: Array(centroids), labels: Array(labels), inertia: inertia,
      iterations: iterations, converged: converged, sizes: sizes)
  }

  /// Forgets every label and zeroes the running per-block sums and counts.
  func resetAccumulation() {
    labels.update(repeating: -1)
    partialSums.update(repeating: 0)
    partialCounts.update(repeating: 0)
  }

  private func reduceSums() {
    for j in 0..<(k * d) { sums[j] = 0 }
    for j in 0..<k { counts[j] = 0 }
    for b in 0..<blocks {
      let bs = partialSums.baseAddress! + b * k * d
      let bc = partialCounts.baseAddress! + b * k
      for j in 0..<(k * d) { sums[j] += bs[j] }
      for j in 0..<k { counts[j] += bc[j] }
    }
  }

  /// Re-seeds each empty cluster (in index order) at the point farthest from
  /// its current centroid among clusters that keep another point; the point
  /// moves, with its coordinates, from its old cluster's sums to the empty one.
  private mutating func repairEmptyClusters() {
    guard (0..<k).contains(where: { counts[$0] == 0 }) else { return }
    var (dist, _) = exactDistancesToAssigned()
    for j in 0..<k where counts[j] == 0 {
      var far = -1
      var farDist = -Double.infinity
      for i in 0..<n {
        let l = Int(labels[i])
        if dist[i] > farDist && l >= 0 && counts[l] > 1 { farDist = dist[i]; far = i }
      }
      guard far >= 0 else { continue }
      let old = Int(labels[far])
      counts[old] -= 1
      counts[j] = 1
      for f in 0..<d {
        let v = Double(matrix.values[f * n + far])
        sums[old * d + f] -= v
        sums[j * d + f] = v
      }
      labels[far] = Int32(j)
      dist[far] = -Double.infinity
      // Keep the running per-block sums in step with the move.
      var b = 0
      while !Parallel.chunk(b, of: blocks, count: n).contains(far) { b += 1 }
      let bs = partialSums.baseAddress! + b * k * d
      let bc = partialCounts.baseAddress! + b * k
      bc[old] -= 1
      bc[j] += 1
      for f in 0..<d {
        let v = Double(matrix.values[f * n + far])
        bs[old * d + f] -= v
        bs[j * d + f] += v
      }
    }
  }

  func result(_ run: Run, restart: Int) -> KMeansResult {
    KMeansResult(
      centroids: Matrix(rows: k, columns: d, values: run.centroids), labels: run.labels,
      inertia: run.inertia, iterations: run.iterations, converged: run.converged,
      restart: restart, clusterSizes: run.sizes, kernel: kernel)
  }
}
