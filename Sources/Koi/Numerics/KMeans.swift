/// Deterministic k-means (Lloyd's algorithm with greedy k-means++ seeding) on a
/// `FeatureMatrix`.
///
/// The objective, for points `x_1 … x_n ∈ ℝ^d`, centroids `c_1 … c_k` and
/// labels `ℓ(i) ∈ {0 … k-1}`, is the inertia
///
/// ```
/// J(c, ℓ) = Σ_i ‖x_i − c_ℓ(i)‖²          (squared Euclidean, unweighted)
/// ```
///
/// - Seeding: greedy k-means++ (Arthur & Vassilvitskii 2007, in the variant
///   scikit-learn uses): the first centre is a uniformly drawn point; each
///   further centre draws `2 + ⌊ln k⌋` candidates with probability
///   proportional to `D(x)²` (squared distance to the nearest chosen centre)
///   and keeps the candidate that lowers the potential `Σ_i D(x_i)²` most.
/// - Lloyd iteration `t`: assign every point to its nearest centroid (ties go
///   to the lower index), then move each centroid to the mean of its points.
///   Stop when the labels did not change, or when the centroid shift
///
///   ```
///   Σ_j ‖c_j(t) − c_j(t−1)‖²  ≤  tol · (1/d) Σ_f Var(x_·f)
///   ```
///
///   (scikit-learn's `tol`: relative to the mean per-feature population
///   variance of the data), or after `maxIterations`. A final assignment
///   against the final centroids gives the returned labels and inertia, so
///   they always agree with the returned centroids.
/// - Empty clusters: when a cluster loses all its points, it is re-seeded at
///   the point farthest (exact squared distance in `Double`, ties to the lower
///   point index) from its own centroid among points whose cluster keeps at
///   least one other point; that point moves to the empty cluster. Clusters
///   are repaired in index order.
/// - Restarts: `restarts` independent seedings (restart `r` draws from
///   `SeededGenerator(seed:stream: r)`); the run with the lowest inertia wins,
///   ties to the lower restart index.
///
/// Features are stored in `Float`; centroids, distances used for decisions,
/// sums and inertia are `Double`. Cluster sums are kept per fixed block of
/// points and updated incrementally (a point that changes cluster moves its
/// coordinates between the two sums), so they equal the exact sums up to a
/// few `Double` roundings per move. Labels are defined by exact `Double`
/// distances: the fast kernels compute approximate `Float` distances with a
/// proven error bound and re-check every candidate within the bound in
/// `Double`, so both kernels return the same labels. Results depend only on
/// the data, the options and the fixed block structure (a function of `n`),
/// never on the number of threads.
public enum KMeans {}

/// Options for `KMeans.fit`.
public struct KMeansOptions: Sendable, Equatable, Codable {
  /// Assignment kernel.
  public enum Kernel: String, Sendable, Codable, CaseIterable {
    /// Pick by shape from measured crossovers (see `KMeans.selectKernel`).
    case automatic
    /// One fused loop over feature-major `Float` data: best for small `k · d`.
    case fused
    /// `cblas_sgemm` for the cross term `−2 x·c` plus precomputed norms.
    case blas
  }

  /// Number of clusters, 2…256.
  public var k: Int
  /// Independent k-means++ seedings; the lowest inertia wins. ≥ 1.
  public var restarts: Int
  /// Upper bound on Lloyd iterations per restart. ≥ 1.
  public var maxIterations: Int
  /// Relative tolerance on the squared centroid shift (scikit-learn `tol`). ≥ 0.
  var tolerance: Double
  /// Seed of every random choice.
  public var seed: UInt64
  /// Assignment kernel.
  public var kernel: Kernel
  /// Worker threads; `nil` uses every core. Results never depend on it.
  public var threads: Int?

  public init(
    k: Int = 4, restarts: Int = 4, maxIterations: Int = 300, tolerance: Double = 1e-4,
    seed: UInt64 = 0, kernel: Kernel = .automatic, threads: Int? = nil
  ) {
    self.k = k
    self.restarts = restarts
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.seed = seed
    self.kernel = kernel
    self.threads = threads
  }

  /// Throws `KMeansError.invalidOptions` with a sentence naming the option.
  public func validate() throws {
    if let problem = Settings.k.problem(k) { throw KMeansError(.invalidOptions, "k: \(problem)") }
    if let problem = Settings.restarts.problem(restarts) { throw KMeansError(.invalidOptions, "restarts: \(problem)") }
    guard maxIterations >= 1 else {
      throw KMeansError(.invalidOptions, "maxIterations must be at least 1, got \(maxIterations)")
    }
    guard tolerance >= 0, tolerance.isFinite else {
      throw KMeansError(.invalidOptions, "tolerance must be a finite number ≥ 0, got \(tolerance)")
    }
    if let t = threads, t < 1 { throw KMeansError(.invalidOptions, "threads must be at least 1, got \(t)") }
  }
}

/// The outcome of `KMeans.fit`.
public struct KMeansResult: Sendable, Equatable {
  /// `k × d` centroids, row-major (`centroids[j, f]`).
  public let centroids: Matrix
  /// Cluster of each point, `0..<k`.
  public let labels: [Int32]
  /// `Σ_i ‖x_i − c_ℓ(i)‖²` in `Double`, for the returned centroids and labels.
  public let inertia: Double
  /// Lloyd iterations of the winning restart.
  public let iterations: Int
  /// Whether the winning restart met the stopping rule before `maxIterations`.
  let converged: Bool
  /// Index of the winning restart (`-1` for a warm start).
  public let restart: Int
  /// Points per cluster.
  let clusterSizes: [Int]
  /// The kernel that ran.
  public let kernel: KMeansOptions.Kernel
}

/// The outcome of `KMeans.assign`.
public struct KMeansAssignment: Sendable, Equatable {
  /// Nearest centroid of each point (ties to the lower index).
  public let labels: [Int32]
  /// Exact squared distance (`Double`) of each point to its centroid.
  let squaredDistances: [Double]
  /// Sum of `squaredDistances`, reduced in a fixed order.
  public let inertia: Double
}

/// Errors from `KMeans`: bad options or data a caller can fix.
struct KMeansError: Error, Sendable, Equatable, CustomStringConvertible {
  struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String { case invalidOptions, tooFewPoints, nonFiniteValue, shapeMismatch }
    private let value: Value
    private init(_ v: Value) { value = v }
    /// An option is out of range.
    static let invalidOptions = Code(.invalidOptions)
    /// Fewer points than clusters.
    static let tooFewPoints = Code(.tooFewPoints)
    /// A NaN or infinity in the features (k-means rejects them rather than guess).
    static let nonFiniteValue = Code(.nonFiniteValue)
    /// Centroids and data disagree on the number of features.
    static let shapeMismatch = Code(.shapeMismatch)
    public var description: String { value.rawValue }
  }
  public let code: Code
  public let message: String
  init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }
  public var description: String { "k-means: \(message)" }
}

extension KMeans {
  /// Measured crossover for `.automatic` (see `selectKernel`): fused while
  /// `d ≤ fusedFeatureLimit` and `k · d ≤ fusedWorkLimit`.
  ///
  /// Lloyd pass (assign + running Double sums), release build, 1M uniform
  /// points, one thread, best of 7, 2-core box shared with other builds
  /// (load 4–5), `benchmarks/tiers`. ms per pass fused / BLAS, "late" = a pass
  /// where no point changes cluster (most iterations), "first" = every point
  /// is assigned and added to the sums:
  ///
  /// ```
  ///          late            first
  /// d=4  k=4    4.40 / 4.70  11.2 / 11.3     k=16  9.4 / 11.0   k=32 18.2 / 18.5
  /// d=8  k=2    3.06 / 4.02  10.9 / 11.4     k=4   4.67 / 5.32  12.0 / 11.5
  ///      k=8    7.30 / 7.53  19.8 / 14.0     k=16 13.6 / 12.5   k=32 25.1 / 18.5
  ///      k=64  49.9 / 37.7                   k=256 192 / 130
  /// d=16 k=2    6.97 / 5.77  k=8 20.4 / 14.4   d=32 k=4 35.0 / 18.4
  /// ```
  ///
  /// At small shapes the pass is memory-bound (≈ 6–10 GB/s on one core) and
  /// the fused loop saves the sgemm call and the distance-block round trip;
  /// with more features per point its `d` strided streams lose to sgemm
  /// (OpenBLAS's AVX-512 kernels, while this package compiles Swift for
  /// baseline x86-64 SSE), and from `k · d ≈ 128` sgemm's arithmetic wins.
  static let fusedWorkLimit = 64
  /// See `fusedWorkLimit`.
  static let fusedFeatureLimit = 8

  /// The kernel `.automatic` resolves to for `k` clusters and `d` features:
  /// fused for `d ≤ 8` and `k · d ≤ 64`, BLAS otherwise (figures at
  /// `fusedWorkLimit` and in `benchmarks/tiers/README.md`).
  public static func selectKernel(k: Int, featureCount d: Int) -> KMeansOptions.Kernel {
    d <= fusedFeatureLimit && k * d <= fusedWorkLimit ? .fused : .blas
  }

  /// Clusters the points of `matrix` into `options.k` clusters.
  ///
  /// - Parameter initialCentroids: warm start: when given (`k × d`), Lloyd
  ///   starts from these centroids once, with no seeding and no restarts.
  /// - Throws: `KMeansError` for invalid options, fewer points than `k`, a
  ///   non-finite feature value (NaN policy: rejected, never sanitised here;
  ///   callers impute before clustering) or a centroid shape mismatch.
  /// - Complexity: O(restarts · (k · (2 + ln k) · n · d + iterations · n · k · d)),
  ///   parallel over fixed blocks of points; O(n) extra memory.
  public static func fit(
    _ matrix: FeatureMatrix, options: KMeansOptions = KMeansOptions(), initialCentroids: Matrix? = nil
  ) throws -> KMeansResult {
    try fit(matrix, options: options, initialCentroids: initialCentroids, blocks: nil)
  }

  /// `fit` with the block count overridden (tests only: by default it is a
  /// function of `n`, which is what makes results machine-independent).
  static func fit(
    _ matrix: FeatureMatrix, options: KMeansOptions, initialCentroids: Matrix?, blocks: Int?
  ) throws -> KMeansResult {
    try options.validate()
    let n = matrix.count, d = matrix.featureCount, k = options.k
    guard n >= k else {
      throw KMeansError(.tooFewPoints, "\(n) points cannot form \(k) clusters; lower k or supply more data")
    }
    try checkFinite(matrix)
    if let c = initialCentroids {
      guard c.rows == k, c.columns == d, c.values.allSatisfy(\.isFinite) else {
        throw KMeansError(
          .shapeMismatch, "initial centroids are \(c.rows) × \(c.columns), need \(k) × \(d) finite values")
      }
    }
    let kernel = options.kernel == .automatic ? selectKernel(k: k, featureCount: d) : options.kernel
    var engine = LloydEngine(
      matrix: matrix, k: k, kernel: kernel, threads: options.threads ?? Parallel.coreCount, blocks: blocks)
    defer { engine.deallocate() }
    let tolAbs = options.tolerance * engine.meanVariance()

    if let c = initialCentroids {
      let run = engine.lloyd(initial: c.values, maxIterations: options.maxIterations, tolerance: tolAbs)
      return engine.result(run, restart: -1)
    }
    var best: (run: LloydEngine.Run, restart: Int)?
    for r in 0..<options.restarts {
      var g = SeededGenerator(seed: options.seed, stream: UInt64(r))
      let seeds = engine.seedPlusPlus(&g)
      let run = engine.lloyd(initial: seeds, maxIterations: options.maxIterations, tolerance: tolAbs)
      if best.map({ run.inertia < $0.run.inertia }) ?? true { best = (run, r) }
    }
    // `restarts ≥ 1` was validated, so `best` is set.
    return engine.result(best!.run, restart: best!.restart)
  }

  /// Assigns every point of `matrix` to its nearest centroid (exact `Double`
  /// squared distance, ties to the lower index): scoring new points against a
  /// fitted model.
  ///
  /// - Throws: `KMeansError` on a shape mismatch, a non-finite value or fewer
  ///   than one centroid.
  /// - Complexity: O(n · k · d), parallel.
  public static func assign(
    _ matrix: FeatureMatrix, centroids: Matrix, kernel: KMeansOptions.Kernel = .automatic, threads: Int? = nil
  ) throws -> KMeansAssignment {
    guard centroids.columns == matrix.featureCount, centroids.rows >= 1, centroids.rows <= 4096,
      centroids.values.allSatisfy(\.isFinite)
    else {
      throw KMeansError(
        .shapeMismatch,
        "centroids are \(centroids.rows) × \(centroids.columns), data has \(matrix.featureCount) features")
    }
    try checkFinite(matrix)
    let k = centroids.rows
    let kern = kernel == .automatic ? selectKernel(k: k, featureCount: matrix.featureCount) : kernel
    var engine = LloydEngine(matrix: matrix, k: k, kernel: kern, threads: threads ?? Parallel.coreCount)
    defer { engine.deallocate() }
    engine.setCentroids(centroids.values)
    engine.assignPass(accumulate: false)
    let (sq, inertia) = engine.exactDistancesToAssigned()
    return KMeansAssignment(labels: Array(engine.labels), squaredDistances: sq, inertia: inertia)
  }

  static func checkFinite(_ m: FeatureMatrix) throws {
    let bad = m.values.withUnsafeBufferPointer { v -> Int? in
      for i in 0..<v.count where !v[i].isFinite { return i }
      return nil
    }
    if let b = bad {
      throw KMeansError(
        .nonFiniteValue, "feature \(b / max(1, m.count)) of point \(b % max(1, m.count)) is not a finite number")
    }
  }
}
