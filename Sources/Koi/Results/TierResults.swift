/// The tier part of a customer record: `"tier": {id, name, distance,
/// confidence}`, or null when the model has no clusters.
public struct TierRecordFields: CustomerRecordFields {
  let columns: TierColumns

  public init(columns: TierColumns) { self.columns = columns }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("tier")
    guard let tier = columns.tier[c] else { w.null(); return }
    w.beginObject()
    w.key("id"); w.int(tier.rawValue)
    w.key("name"); w.string(tier.id)
    w.key("distance"); w.number(columns.distance[c], decimals: 4)
    w.key("confidence"); w.number(columns.confidence[c], decimals: 4)
    w.endObject()
  }
}

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

  enum CodingKeys: String, CodingKey {
    case k, inertia, iterations, converged, features, notes, tiers
    case warmStarted = "warm_started"
    case changedSinceInitModel = "changed_since_init_model"
    case comparedWithInitModel = "compared_with_init_model"
    case droppedFeatures = "dropped_features"
  }
}
