/// Options of the tier stage.
public struct TierOptions: Sendable, Codable, Equatable {
  /// Clusters (2…256; 4 gives one cluster per tier).
  public var k: Int
  public var restarts: Int
  public var maxIterations: Int
  /// Relative shift tolerance, scikit-learn semantics (see `KMeans`).
  var tolerance: Double
  public var seed: UInt64
  public var kernel: KMeansOptions.Kernel
  /// Features to use (those the data cannot supply are dropped and reported).
  public var features: [TierFeature]

  public init(
    k: Int = 4, restarts: Int = 4, maxIterations: Int = 300, tolerance: Double = 1e-4, seed: UInt64 = 0,
    kernel: KMeansOptions.Kernel = .automatic, features: [TierFeature] = TierFeature.defaultClustering
  ) {
    self.k = k
    self.restarts = restarts
    self.maxIterations = maxIterations
    self.tolerance = tolerance
    self.seed = seed
    self.kernel = kernel
    self.features = features
  }
}

/// Everything the tier stage learned: saved in model.json, reused to score
/// later runs and to warm-start the next fit.
public struct TierModel: Sendable, Codable, Equatable {
  /// Features in model order (the columns of `centroids` and `scaling`).
  public let features: [TierFeature]
  let droppedFeatures: [DroppedTierFeature]
  /// Features with zero spread in the fitting data (standardised to 0).
  let constantFeatures: [TierFeature]
  let scaling: TierScaling
  /// Clusters actually fitted (≤ requested k when there are fewer customers).
  public let k: Int
  public let restarts: Int
  public let seed: UInt64
  public let iterations: Int
  let converged: Bool
  /// k-means objective in standardised units.
  public let inertia: Double
  /// `k` centroids in standardised units, `centroids[j][f]`.
  public let centroids: [[Double]]
  /// Tier of each cluster.
  let clusterTiers: [PriceSensitivityTier]
  /// Axis positions of each cluster's centroid.
  let clusterAxes: [TierAxes]
  /// Customers per cluster in the fitting data.
  let clusterSizes: [Int]
  /// Whether Lloyd started from a previous model's centroids.
  let warmStarted: Bool
  /// Degenerate cases and fallbacks, in plain sentences.
  let notes: [String]
  /// The population figures scoring takes the features from (nil in a
  /// model from before they were saved: scoring then computes them from
  /// the scored rows).
  var population: TierPopulation? = nil
}

/// Per-customer tier results, struct of arrays by customer index.
public struct TierColumns: Sendable, Equatable {
  /// Cluster of each customer (`-1` when the model has no clusters).
  public let cluster: [Int32]
  /// Tier of each customer (`nil` when the model has no clusters).
  public let tier: [PriceSensitivityTier?]
  /// Euclidean distance to the own centroid, standardised units.
  let distance: [Double]
  /// `1 − d₁/d₂` with `d₁` the distance to the own centroid and `d₂` to the
  /// nearest other centroid: 0 on the boundary (or a duplicate centroid),
  /// 1 at the centroid; 1 when there is no other centroid, 0 when `d₂ = 0`.
  let confidence: [Double]
  /// Scoring notes (features the scoring data could not supply, …).
  let notes: [String]

  public var count: Int { cluster.count }
}

/// A tier's summary for segments.json.
public struct TierProfile: Sendable, Codable, Equatable {
  public let tier: PriceSensitivityTier
  public let id: String
  public let name: String
  /// The Chinese name (DOMAIN.md §2): segments.json `name_zh`.
  public let nameZh: String
  public let size: Int
  /// size / customers (0 with no customers).
  public let share: Double
  /// Σ max(0, net amount) of the tier / the same over all customers (0 when that is 0).
  let revenueShare: Double
  /// The tier's centroid (size-weighted mean of its clusters' standardised
  /// centroids) mapped back to raw units, by feature name; empty when the
  /// tier has no cluster.
  let centroid: [String: Double]
  /// Axes of that standardised centroid.
  let axes: TierAxes?

}

/// Errors of the tier stage that a caller can act on.
struct TierError: Error, Sendable, CustomStringConvertible {
  public let message: String
  let underlying: KMeansError?
  public var description: String { message }
}
