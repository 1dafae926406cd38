/// The intervals section of segments.json: per category how the interval
/// distribution was obtained, its typical cycle, and how many customers are
/// in each status.
struct IntervalReport: Sendable, Codable {
  struct Category: Sendable, Codable {
    public var category: String
    public var basis: String
    var family: String?
    var medianGapDays: Double?
    public var meanGapDays: Double?
    var returnProbability: Double?
    var observedGaps: Int
    public var customers: Int
    /// Customers per status (`not_yet_due`, `due`, `overdue`, `lapsed`, `one_off`, `unknown`).
    public var status: [String: Int]
    /// Customers on the due list for the run's window.
    var dueListed: Int
  }

  public var dueWithinDays: Int
  public var categories: [Category]

  public init(model: IntervalModel, columns: IntervalColumns, dueLists: [[IntervalDueEntry]], dueWithinDays: Int) {
    // Counted by (category, status ordinal), named once at the end: a
    // dictionary update per pair hashed the status name 2.4M times at 10M
    // rows, on one core.
    let statuses = IntervalStatus.allCases
    var tally = [Int](repeating: 0, count: model.categories.count * statuses.count)
    for p in 0..<columns.pairCount {
      tally[Int(columns.category[p]) * statuses.count + statuses.firstIndex(of: columns.status[p])!] += 1
    }
    var counts = [[String: Int]](repeating: [:], count: model.categories.count)
    var customers = [Int](repeating: 0, count: model.categories.count)
    for k in counts.indices {
      for (j, s) in statuses.enumerated() where tally[k * statuses.count + j] > 0 {
        counts[k][s.rawValue] = tally[k * statuses.count + j]
        customers[k] += tally[k * statuses.count + j]
      }
    }
    self.init(
      model: model, status: counts, customers: customers, dueListed: dueLists.map(\.count),
      dueWithinDays: dueWithinDays)
  }

  /// The report from per-category counts of pairs by status, customers and
  /// due-list lengths (summed over shards by `koi merge --outputs`).
  init(model: IntervalModel, status counts: [[String: Int]], customers: [Int], dueListed: [Int], dueWithinDays: Int) {
    self.dueWithinDays = dueWithinDays
    categories = model.categories.enumerated().map { k, m in
      Category(
        category: m.name, basis: m.basis.rawValue, family: m.family?.rawValue,
        medianGapDays: m.medianGapDays.map { rounded($0, 1) }, meanGapDays: m.meanGapDays.map { rounded($0, 1) },
        returnProbability: m.returnProbability.map { rounded($0, 4) }, observedGaps: m.gapCount,
        customers: customers[k], status: counts[k], dueListed: dueListed[k])
    }
  }
}
