import Foundation
import Testing

@testable import Koi

/// Gaussian blobs, feature-major, deterministic.
func blobs(n: Int, d: Int, centers: Int, spread: Double = 0.6, seed: UInt64) -> FeatureMatrix {
  var g = SeededGenerator(seed: seed)
  var means = [Double](repeating: 0, count: centers * d)
  for i in 0..<means.count { means[i] = 6 * g.uniform() - 3 }
  var v = [Float](repeating: 0, count: n * d)
  for i in 0..<n {
    let c = i % centers
    for f in 0..<d { v[f * n + i] = Float(means[c * d + f] + spread * g.normal()) }
  }
  return FeatureMatrix(count: n, featureCount: d, featureMajor: v)
}

@Suite struct KMeansTests {
  @Test func identicalWhateverTheThreadCount() throws {
    // 20 000 points ⇒ 2 fixed blocks; 1, 2 and 3 workers must agree bit for bit.
    let m = blobs(n: 20_000, d: 3, centers: 5, seed: 7)
    let base = try KMeans.fit(m, options: KMeansOptions(k: 5, restarts: 2, seed: 11, threads: 1))
    for threads in [2, 3] {
      let r = try KMeans.fit(m, options: KMeansOptions(k: 5, restarts: 2, seed: 11, threads: threads))
      #expect(r == base)
    }
    // Same seed again ⇒ same result; another seed ⇒ (almost surely) another seeding path.
    #expect(try KMeans.fit(m, options: KMeansOptions(k: 5, restarts: 2, seed: 11)) == base)
  }

  @Test func blockCountOnlyChangesRounding() throws {
    // The block structure (a function of n) fixes the reduction order. Other
    // block counts reorder Double sums only: same seeding choices, same
    // labels, inertia equal to rounding.
    let m = blobs(n: 5000, d: 4, centers: 6, seed: 13)
    let options = KMeansOptions(k: 6, restarts: 3, seed: 5)
    let one = try KMeans.fit(m, options: options, initialCentroids: nil, blocks: 1)
    for blocks in [2, 3, 7, 64] {
      let r = try KMeans.fit(m, options: options, initialCentroids: nil, blocks: blocks)
      #expect(r.labels == one.labels, "blocks = \(blocks)")
      #expect(r.restart == one.restart)
      #expect(abs(r.inertia - one.inertia) <= 1e-12 * one.inertia)
    }
  }

  @Test(arguments: [(4, 3), (8, 6), (33, 5), (256, 4)])
  func kernelsGiveTheSameLabels(k: Int, d: Int) throws {
    let m = blobs(n: 3000, d: d, centers: min(k, 12), seed: UInt64(k * 31 + d))
    let fit = try KMeans.fit(m, options: KMeansOptions(k: k, restarts: 1, maxIterations: 5, seed: 3, kernel: .fused))
    let fused = try KMeans.assign(m, centroids: fit.centroids, kernel: .fused)
    let blas = try KMeans.assign(m, centroids: fit.centroids, kernel: .blas)
    #expect(fused == blas)
    let viaBLAS = try KMeans.fit(m, options: KMeansOptions(k: k, restarts: 1, maxIterations: 5, seed: 3, kernel: .blas))
    #expect(viaBLAS.labels == fit.labels)
    #expect(viaBLAS.centroids == fit.centroids)
  }

  @Test func nearTiesGoToTheLowerIndex() throws {
    // Points exactly halfway between two centroids, and a hair off halfway:
    // both kernels must return the exact Double answer.
    // (2, 1.5) is exactly 6.25 from all three centroids.
    let c = Matrix(rows: 3, columns: 2, values: [0, 0, 4, 0, 2, 4])
    let pts: [[Double]] = [[2, 0], [2, 1.5], [2, -3], [2.0000002, 0], [1.9999999, 0.5], [2, 1.5000001]]
    // Repeated 5 times (30 points): both the 8-wide and the scalar tail path.
    let m = FeatureMatrix(rows: Array([[[Double]]](repeating: pts, count: 5).joined()))
    let want = Array([[Int32]](repeating: [0, 0, 0, 1, 0, 2], count: 5).joined())
    for kernel in [KMeansOptions.Kernel.fused, .blas] {
      let a = try KMeans.assign(m, centroids: c, kernel: kernel)
      #expect(a.labels == want, "\(kernel)")
    }
  }

  @Test func emptyClusterIsReseededAtTheFarthestPoint() throws {
    // Centroid 2 starts far from every point and gets none on the first pass.
    let pts: [[Double]] = [[0, 0], [0, 1], [1, 0], [10, 10], [10, 11], [30, 30]]
    let init0 = Matrix(rows: 3, columns: 2, values: [0, 0, 12, 12, 500, 500])
    let r = try KMeans.fit(FeatureMatrix(rows: pts), options: KMeansOptions(k: 3), initialCentroids: init0)
    #expect(r.clusterSizes.allSatisfy { $0 > 0 })
    // The outlier (30, 30) is the farthest point from its first centroid, so it
    // becomes its own cluster.
    #expect(r.labels[5] != r.labels[3] && r.labels[5] != r.labels[0])
    #expect(r.labels[0] == r.labels[1] && r.labels[3] == r.labels[4])
    #expect(r.converged)
  }

  @Test func allIdenticalPointsDoNotCrash() throws {
    let m = FeatureMatrix(rows: Array(repeating: [1.5, -2, 0], count: 50))
    let r = try KMeans.fit(m, options: KMeansOptions(k: 4))
    #expect(r.inertia == 0)
    #expect(r.converged)
    #expect(r.labels.allSatisfy { $0 == 0 })
  }

  @Test func nonFiniteValuesAreRejected() {
    var rows = Array(repeating: [1.0, 2.0], count: 10)
    rows[7][1] = .nan
    #expect(throws: KMeansError.self) { try KMeans.fit(FeatureMatrix(rows: rows)) }
    do {
      _ = try KMeans.fit(FeatureMatrix(rows: rows))
    } catch let e as KMeansError {
      #expect(e.code == .nonFiniteValue)
      #expect(e.message.contains("point 7"))
    } catch { Issue.record("unexpected \(error)") }
  }

  @Test func fewerPointsThanClustersIsAnError() {
    let m = FeatureMatrix(rows: [[0, 0], [1, 1], [2, 2]])
    #expect(throws: KMeansError.self) { try KMeans.fit(m, options: KMeansOptions(k: 4)) }
    #expect(throws: KMeansError.self) { try KMeans.fit(m, options: KMeansOptions(k: 1)) }
    #expect(throws: KMeansError.self) { try KMeans.fit(m, options: KMeansOptions(k: 257)) }
  }

  @Test func k256OnASmallMatrix() throws {
    let m = blobs(n: 600, d: 4, centers: 40, seed: 5)
    let r = try KMeans.fit(m, options: KMeansOptions(k: 256, restarts: 1, maxIterations: 20, seed: 1))
    #expect(r.centroids.rows == 256)
    #expect(r.clusterSizes.reduce(0, +) == 600)
    #expect(r.clusterSizes.allSatisfy { $0 > 0 })
    let a = try KMeans.assign(m, centroids: r.centroids)
    #expect(a.labels == r.labels)
    #expect(abs(a.inertia - r.inertia) <= 1e-12 * r.inertia)
  }

  @Test func recoversSeparatedBlobs() throws {
    let m = blobs(n: 2000, d: 5, centers: 4, spread: 0.2, seed: 9)
    let r = try KMeans.fit(m, options: KMeansOptions(k: 4, seed: 2))
    let truth = (0..<2000).map { Int32($0 % 4) }
    #expect(adjustedRandIndex(r.labels, truth) > 0.99)
    // The incrementally kept sums agree with a fresh mean of each cluster.
    #expect(r.converged)
    for j in 0..<4 {
      let members = (0..<2000).filter { r.labels[$0] == Int32(j) }
      for f in 0..<5 {
        let mean = members.map { Double(m[point: $0, feature: f]) }.reduce(0, +) / Double(members.count)
        #expect(abs(mean - r.centroids[j, f]) < 1e-12 * max(1, abs(mean)))
      }
    }
  }
}

/// Points with exact duplicates and near ties: blobs, every fifth point a
/// copy of the one before, and midpoints between blob points (rounded to
/// `Float`, so a hair off or exactly halfway). `n` is not a multiple of 8.
func tiedPoints(n: Int, d: Int, seed: UInt64) -> FeatureMatrix {
  let base = blobs(n: n, d: d, centers: 4, spread: 0.3, seed: seed)
  var v = base.values
  for i in stride(from: 5, to: n, by: 5) {
    for f in 0..<d { v[f * n + i] = v[f * n + i - 1] }
  }
  for i in stride(from: 7, to: n, by: 7) {
    for f in 0..<d { v[f * n + i] = (v[f * n + i - 3] + v[f * n + i - 2]) / 2 }
  }
  return FeatureMatrix(count: n, featureCount: d, featureMajor: v)
}

/// Greedy k-means++ written point by point, as `LloydEngine.seedPlusPlus`
/// was before it computed four points per step: the reference its choices
/// must equal bit for bit.
func pointByPointSeeding(_ m: FeatureMatrix, k: Int, blocks: Int, generator g: inout SeededGenerator) -> [Double] {
  let n = m.count, d = m.featureCount
  func distance(_ i: Int, _ c: [Double]) -> Double {
    var s = 0.0
    for f in 0..<d { let df = Double(m[point: i, feature: f]) - c[f]; s += df * df }
    return s
  }
  var closest = [Double](repeating: 0, count: n)
  var blockPot = [Double](repeating: 0, count: blocks)
  func update(_ c: [Double], initial: Bool) {
    for b in 0..<blocks {
      var s = 0.0
      for i in Parallel.chunk(b, of: blocks, count: n) {
        let v = initial ? distance(i, c) : min(closest[i], distance(i, c))
        closest[i] = v
        s += v
      }
      blockPot[b] = s
    }
  }
  func search(_ r: Double) -> Int {
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
  var centers = m.point(min(n - 1, Int(g.uniform() * Double(n))))
  update(centers, initial: true)
  var pot = blockPot.reduce(0, +)
  let trials = 2 + Int(Foundation.log(Double(k)))
  for _ in 1..<k {
    var best: [Double] = []
    var bestPot = Double.infinity
    let candidates = (0..<trials).map { _ in m.point(search(g.uniform() * pot)) }
    for c in candidates {
      var total = 0.0
      for b in 0..<blocks {
        var s = 0.0
        for i in Parallel.chunk(b, of: blocks, count: n) { s += min(closest[i], distance(i, c)) }
        total += s
      }
      if total < bestPot { bestPot = total; best = c }
    }
    centers += best
    update(best, initial: false)
    pot = blockPot.reduce(0, +)
  }
  return centers
}

@Suite struct KMeansKernelTests {
  @Test(arguments: [3, 5, 8])
  func seedingMatchesThePointByPointLoop(k: Int) {
    let m = tiedPoints(n: 1003, d: 5, seed: UInt64(k))
    for blocks in [1, 2, 3, 7] {
      for threads in [1, 2, 3] {
        for stream: UInt64 in 0..<3 {
          var engine = LloydEngine(matrix: m, k: k, kernel: .fused, threads: threads, blocks: blocks)
          var g = SeededGenerator(seed: 17, stream: stream)
          let got = engine.seedPlusPlus(&g)
          engine.deallocate()
          var h = SeededGenerator(seed: 17, stream: stream)
          let want = pointByPointSeeding(m, k: k, blocks: blocks, generator: &h)
          #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "blocks \(blocks), threads \(threads)")
          // Both drew the same number of times.
          #expect(g.next() == h.next())
        }
      }
    }
  }

  @Test(arguments: [2, 4, 7])
  func fusedLabelsAreTheExactArgmin(k: Int) throws {
    // Centroids at data points (distance 0 to their duplicates) and at
    // midpoints of pairs of points: exact and near ties everywhere.
    let n = 2085, d = 6
    let m = tiedPoints(n: n, d: d, seed: UInt64(40 + k))
    var c: [Double] = []
    for j in 0..<k {
      let p = m.point(j * 97 + 4)
      c += j % 2 == 0 ? p : zip(p, m.point(j * 97 + 5 + j)).map { ($0 + $1) / 2 }
    }
    var want = [Int32](repeating: 0, count: n)
    for i in 0..<n {
      var best = Double.infinity
      for j in 0..<k {
        var s = 0.0
        for f in 0..<d { let df = Double(m[point: i, feature: f]) - c[j * d + f]; s += df * df }
        if s < best { best = s; want[i] = Int32(j) }
      }
    }
    let centroids = Matrix(rows: k, columns: d, values: c)
    for threads in [1, 2, 3] {
      let fused = try KMeans.assign(m, centroids: centroids, kernel: .fused, threads: threads)
      #expect(fused.labels == want, "threads \(threads)")
      #expect(try KMeans.assign(m, centroids: centroids, kernel: .blas, threads: threads) == fused)
    }
  }
}
