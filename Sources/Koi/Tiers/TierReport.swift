/// The tiers section of segments.json.
public struct TierReport: Sendable, Codable {
  /// Clusters fitted, inertia (standardised units), Lloyd iterations.
  public var k: Int
  public var inertia: Double
  public var iterations: Int
  public var converged: Bool
  public var warmStarted: Bool
  /// With `--init-model`: customers whose tier under the previous model
  /// differs from their tier now, out of those compared.
  public var changedSinceInitModel: Int?
  public var comparedWithInitModel: Int?
  public var features: [String]
  public var droppedFeatures: [DroppedTierFeature]
  public var notes: [String]
  public var tiers: [TierProfile]
}
