/// The tier part of a customer record: `"tier": {id, name, distance,
/// confidence}`, or null when the model has no clusters.
struct TierRecordFields: CustomerRecordFields {
  let columns: TierColumns
  /// Tier ids as JSON literals, by `PriceSensitivityTier.rawValue` (no
  /// tier is 0: an empty string there).
  let idLiterals: JSONStringLiterals = {
    let largest = PriceSensitivityTier.allCases.map(\.rawValue).max() ?? 0
    return JSONStringLiterals((0...largest).map { PriceSensitivityTier(rawValue: $0)?.id ?? "" })
  }()

  public init(columns: TierColumns) { self.columns = columns }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("tier")
    guard let tier = columns.tier[c] else { w.null(); return }
    w.beginObject()
    w.key("id"); w.int(tier.rawValue)
    w.key("name"); w.encodedString(idLiterals, tier.rawValue)
    w.key("distance"); w.number(columns.distance[c], decimals: 4)
    w.key("confidence"); w.number(columns.confidence[c], decimals: 4)
    w.endObject()
  }
}

extension TierRecordFields: ReportRecordFields {
  func read(customer c: Int, into r: inout CustomerAggregates.Record) {
    r.tier = columns.tier[c].map { .init(id: $0.rawValue) }
  }
}
