/// The repurchase part of a customer record: one object per treatment
/// category the customer has bought, ascending by category index.
public struct IntervalRecordFields: CustomerRecordFields {
  let columns: IntervalColumns
  /// Category names as JSON literals, encoded once.
  let categoryLiterals: [[UInt8]]

  public init(model: IntervalModel, columns: IntervalColumns) {
    self.columns = columns
    categoryLiterals = model.categories.map { JSONWriter.encoded($0.name) }
  }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("repurchase")
    w.beginArray()
    for p in columns.pairs(of: c) {
      func day(_ d: Int32) { if d == IntervalColumns.noDay { w.null() } else { w.date(d) } }
      w.beginObject()
      w.key("category"); w.encodedString(categoryLiterals[Int(columns.category[p])])
      w.key("purchases"); w.int(columns.gapCount[p] + 1)
      w.key("last_purchase"); w.date(columns.lastPurchaseDay[p])
      w.key("expected_next"); day(columns.expectedNextDay[p])
      w.key("p10"); day(columns.p10Day[p])
      w.key("p50"); day(columns.p50Day[p])
      w.key("p90"); day(columns.p90Day[p])
      w.key("probability_30d"); w.number(columns.probability30[p], decimals: 4)
      w.key("probability_60d"); w.number(columns.probability60[p], decimals: 4)
      w.key("probability_90d"); w.number(columns.probability90[p], decimals: 4)
      w.key("return_probability"); w.number(columns.returnProbability[p], decimals: 4)
      w.key("status"); w.string(columns.status[p].rawValue)
      w.endObject()
    }
    w.endArray()
  }
}

/// The intervals section of segments.json: per category how the interval
/// distribution was obtained, its typical cycle, and how many customers are
/// in each status.
public struct IntervalReport: Sendable, Codable {
  public struct Category: Sendable, Codable {
    public var category: String
    public var basis: String
    public var family: String?
    public var medianGapDays: Double?
    public var meanGapDays: Double?
    public var returnProbability: Double?
    public var observedGaps: Int
    public var customers: Int
    /// Customers per status (`not_yet_due`, `due`, `overdue`, `lapsed`, `one_off`, `unknown`).
    public var status: [String: Int]
    /// Customers on the due list for the run's window.
    public var dueListed: Int

    enum CodingKeys: String, CodingKey {
      case category, basis, family, customers, status
      case medianGapDays = "median_gap_days"
      case meanGapDays = "mean_gap_days"
      case returnProbability = "return_probability"
      case observedGaps = "observed_gaps"
      case dueListed = "due_listed"
    }
  }

  public var dueWithinDays: Int
  public var categories: [Category]

  enum CodingKeys: String, CodingKey {
    case dueWithinDays = "due_within_days"
    case categories
  }

  public init(model: IntervalModel, columns: IntervalColumns, dueLists: [[IntervalDueEntry]], dueWithinDays: Int) {
    self.dueWithinDays = dueWithinDays
    var counts = [[String: Int]](repeating: [:], count: model.categories.count)
    var customers = [Int](repeating: 0, count: model.categories.count)
    for p in 0..<columns.pairCount {
      let k = Int(columns.category[p])
      counts[k][columns.status[p].rawValue, default: 0] += 1
      customers[k] += 1
    }
    categories = model.categories.enumerated().map { k, m in
      Category(
        category: m.name, basis: m.basis.rawValue, family: m.family?.rawValue,
        medianGapDays: m.medianGapDays.map { rounded($0, 1) }, meanGapDays: m.meanGapDays.map { rounded($0, 1) },
        returnProbability: m.returnProbability.map { rounded($0, 4) }, observedGaps: m.gapCount,
        customers: customers[k], status: counts[k], dueListed: dueLists[k].count)
    }
  }
}

/// due.json: per repeating category, the customers most likely to buy it
/// again within the window, by probability (highest first; ties by
/// customer order). Lists are targeted, never "everyone": only customers at
/// or above the minimum probability, at most `limit` per category.
///
/// The file is streamed in pieces of about `piece` bytes (it is 66 MB at
/// 10M rows): one buffer is reused rather than grown to the whole document.
public enum DueListWriter {
  static let piece = 1 << 20

  public static func write(
    to path: String, lists: [[IntervalDueEntry]], model: IntervalModel, columns: IntervalColumns,
    customerIDs: [String], dueWithinDays: Int, minimumProbability: Double, limit: Int?
  ) throws {
    let file = try AtomicFile(path: path, streamed: true)
    var w = JSONWriter(capacity: 2 * piece)
    w.beginObject()
    w.key("as_of"); w.date(columns.asOfDay)
    w.key("due_within_days"); w.int(dueWithinDays)
    w.key("minimum_probability"); w.number(minimumProbability, decimals: 4)
    w.key("limit_per_category"); if let limit { w.int(limit) } else { w.null() }
    w.key("categories")
    w.beginArray()
    for (k, list) in lists.enumerated() where model.categories[k].predicts {
      w.beginObject()
      w.key("category"); w.string(model.categories[k].name)
      w.key("customers"); w.int(list.count)
      w.key("entries")
      w.beginArray()
      for e in list {
        w.beginObject()
        w.key("customer_id"); w.string(customerIDs[Int(e.customer)])
        w.key("probability"); w.number(e.probability, decimals: 4)
        w.key("status"); w.string(e.status.rawValue)
        w.key("last_purchase"); w.date(columns.lastPurchaseDay[e.pair])
        w.key("expected_next"); w.date(columns.expectedNextDay[e.pair])
        w.endObject()
        if w.bytes.count >= piece { try w.flush(to: file) }
      }
      w.endArray()
      w.endObject()
    }
    w.endArray()
    w.endObject()
    w.newline()
    try w.flush(to: file)
    try file.commit()
  }
}
