/// segments.json: population totals and one section per stage that ran,
/// under the stage's name.
struct SegmentsReport: Sendable, Encodable {
  public var asOf: String
  public var customers: Int
  public var revenue: Double
  /// Stage sections by stage name.
  var sections: [StageName: any StageReportSection] = [:]

  public init(asOf: String, customers: Int, revenue: Double) {
    self.asOf = asOf
    self.customers = customers
    self.revenue = revenue
  }

  /// The section stage `name` reported, if any.
  public subscript(name: StageName) -> (any StageReportSection)? {
    get { sections[name] }
    set { sections[name] = newValue }
  }

  enum CodingKeys: String, CodingKey {
    case asOf, customers, revenue
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(asOf, forKey: .asOf)
    try c.encode(customers, forKey: .customers)
    try c.encode(revenue, forKey: .revenue)
    var s = encoder.container(keyedBy: StageKey.self)
    for (name, section) in sections { try s.encode(section, forKey: StageKey(name)) }
  }
}
