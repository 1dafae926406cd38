import Dispatch

extension KMeans {
  /// Benchmark hook (not API): times `repetitions` Lloyd passes (assignment
  /// with the given kernel plus per-block sums and counts, as one Lloyd
  /// iteration does) against fixed `centroids`; returns seconds per pass.
  /// Used by `benchmarks/tiers` to measure the kernel crossover.
  public static func _timeLloydPass(
    _ matrix: FeatureMatrix, centroids: Matrix, kernel: KMeansOptions.Kernel, repetitions: Int, threads: Int? = nil
  ) -> [Double] {
    precondition(centroids.columns == matrix.featureCount && kernel != .automatic)
    var engine = LloydEngine(matrix: matrix, k: centroids.rows, kernel: kernel, threads: threads ?? Parallel.coreCount)
    defer { engine.deallocate() }
    engine.setCentroids(centroids.values)
    var out: [Double] = []
    for _ in 0..<repetitions {
      let t0 = DispatchTime.now().uptimeNanoseconds
      engine.assignPass(accumulate: true)
      let t1 = DispatchTime.now().uptimeNanoseconds
      out.append(Double(t1 - t0) * 1e-9)
    }
    return out
  }
}
