/// due.json: per repeating category, the customers most likely to buy it
/// again within the window, by probability (highest first; ties by
/// customer order). Lists are targeted, never "everyone": only customers at
/// or above the minimum probability, at most `limit` per category.
///
/// The file is streamed in pieces of about `piece` bytes (it is 66 MB at
/// 10M rows): one buffer is reused rather than grown to the whole document.
enum DueListWriter {
  static let piece = 1 << 20

  public static func write(
    to path: String, lists: [[IntervalDueEntry]], model: IntervalModel, columns: IntervalColumns,
    customerIDs: [String], dueWithinDays: Int, minimumProbability: Double, limit: Int?
  ) throws {
    let categories = lists.enumerated().filter { model.categories[$0.offset].predicts }.map { k, list in
      (
        name: model.categories[k].name,
        entries: list.map { e in
          Entry(
            customerID: customerIDs[Int(e.customer)], probability: e.probability, status: e.status,
            lastPurchase: columns.lastPurchaseDay[e.pair], expectedNext: columns.expectedNextDay[e.pair])
        }
      )
    }
    try write(
      to: path, asOf: columns.asOfDay, categories: categories, dueWithinDays: dueWithinDays,
      minimumProbability: minimumProbability, limit: limit)
  }

  /// One due-list entry as due.json shows it.
  struct Entry: Sendable, Codable, Equatable {
    var customerID: String
    var probability: Double
    var status: IntervalStatus
    var lastPurchase: Int32
    var expectedNext: Int32

    enum CodingKeys: String, CodingKey { case customerID, probability, status, lastPurchase, expectedNext }
  }

  /// Writes due.json from lists already made (also `koi merge --outputs`,
  /// from the shards' lists).
  static func write(
    to path: String, asOf: Int32, categories: [(name: String, entries: [Entry])], dueWithinDays: Int,
    minimumProbability: Double, limit: Int?
  ) throws {
    let file = try AtomicFile(path: path, streamed: true)
    var w = JSONWriter(capacity: 2 * piece)
    w.beginObject()
    w.key("as_of"); w.date(asOf)
    w.key("due_within_days"); w.int(dueWithinDays)
    w.key("minimum_probability"); w.number(minimumProbability, decimals: 4)
    w.key("limit_per_category"); if let limit { w.int(limit) } else { w.null() }
    w.key("categories")
    w.beginArray()
    for (name, list) in categories {
      w.beginObject()
      w.key("category"); w.string(name)
      w.key("customers"); w.int(list.count)
      w.key("entries")
      w.beginArray()
      for e in list {
        w.beginObject()
        w.key("customer_id"); w.string(e.customerID)
        w.key("probability"); w.number(e.probability, decimals: 4)
        w.key("status"); w.string(e.status.rawValue)
        w.key("last_purchase"); w.date(e.lastPurchase)
        w.key("expected_next"); w.date(e.expectedNext)
        w.endObject()
        if w.byteCount >= piece { try w.flush(to: file) }
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
