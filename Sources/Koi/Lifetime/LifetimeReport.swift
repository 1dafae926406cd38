/// The lifetime section of segments.json: the chosen model, the horizon and
/// the totals that size a retention budget, overall and per RFM segment.
struct LifetimeReport: Sendable, Codable {
  struct Group: Sendable, Codable {
    var group: String
    public var customers: Int
    var meanPAlive: Double?
    public var expectedPurchases: Double
    public var clv: Double
    var shareOfCLV: Double

    /// Only keys the snake-case strategies cannot derive from the property
    /// name, given in the camelCase those strategies map to the file's key.
    enum CodingKeys: String, CodingKey {
      case group, customers, clv, meanPAlive, expectedPurchases
      case shareOfCLV = "shareOfClv"
    }
  }

  public var chosen: String
  public var horizonDays: Double
  public var annualDiscountRate: Double
  public var margin: Double
  var customersScored: Int
  public var total: Group
  var bySegment: [Group]
  public var diagnostics: [String]

  public init(model: LifetimeModel, columns: LifetimeColumns, options: LifetimeOptions, segments: [RFMSegment]?) {
    chosen = model.chosen.rawValue
    horizonDays = options.horizonDays
    annualDiscountRate = options.annualDiscountRate
    margin = options.margin
    diagnostics = model.diagnostics
    customersScored = columns.clv.filter { $0 != nil }.count
    let totalCLV = columns.clv.reduce(0) { $0 + ($1 ?? 0) }
    func group(_ name: String, _ members: [Int]) -> Group {
      var alive = 0.0, nAlive = 0, purchases = 0.0, clv = 0.0
      for c in members {
        if let p = columns.probabilityAlive[c] { alive += p; nAlive += 1 }
        purchases += columns.expectedPurchases[c] ?? 0
        clv += columns.clv[c] ?? 0
      }
      return Group(
        group: name, customers: members.count, meanPAlive: nAlive > 0 ? rounded(alive / Double(nAlive), 4) : nil,
        expectedPurchases: rounded(purchases, 2), clv: rounded(clv, 2),
        shareOfCLV: totalCLV > 0 ? rounded(clv / totalCLV, 6) : 0)
    }
    let all = Array(0..<columns.clv.count)
    total = group("all", all)
    bySegment =
      segments.map { seg in
        RFMSegment.allCases.map { s in group(s.rawValue, all.filter { seg[$0] == s }) }
      } ?? []
  }
}
