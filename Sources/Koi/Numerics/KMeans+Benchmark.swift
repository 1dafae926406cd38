import Dispatch

extension KMeans {
  /// Benchmark hook (not API): times `repetitions` Lloyd passes against fixed
  /// `centroids`; returns seconds per pass. With `firstPass`, labels are
  /// forgotten before each pass, so every point is assigned and added to its
  /// cluster's running sums (the most expensive iteration); without, labels
  /// are already settled and no point moves (a late iteration).
  /// Used by `benchmarks/tiers` to measure the kernel crossover.
  public static func _timeLloydPass(
    _ matrix: FeatureMatrix, centroids: Matrix, kernel: KMeansOptions.Kernel, repetitions: Int, threads: Int? = nil,
    firstPass: Bool = true
  ) -> [Double] {
    precondition(centroids.columns == matrix.featureCount && kernel != .automatic)
    var engine = LloydEngine(matrix: matrix, k: centroids.rows, kernel: kernel, threads: threads ?? Parallel.coreCount)
    defer { engine.deallocate() }
    engine.setCentroids(centroids.values)
    var out: [Double] = []
    if !firstPass { engine.assignPass(accumulate: true) }
    for _ in 0..<repetitions {
      if firstPass { engine.resetAccumulation() }
      let t0 = DispatchTime.now().uptimeNanoseconds
      engine.assignPass(accumulate: true)
      let t1 = DispatchTime.now().uptimeNanoseconds
      out.append(Double(t1 - t0) * 1e-9)
    }
    return out
  }
}
