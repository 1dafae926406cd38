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
