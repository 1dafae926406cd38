/// The tiers section of segments.json.
struct TierReport: Sendable, Codable {
  /// Clusters fitted, inertia (standardised units), Lloyd iterations.
  public var k: Int
  public var inertia: Double
  public var iterations: Int
  var converged: Bool
  var warmStarted: Bool
  /// With `--init-model`: customers whose tier under the previous model
  /// differs from their tier now, out of those compared.
  var changedSinceInitModel: Int?
  var comparedWithInitModel: Int?
  public var features: [String]
  var droppedFeatures: [DroppedTierFeature]
  var notes: [String]
  public var tiers: [TierProfile]
}
