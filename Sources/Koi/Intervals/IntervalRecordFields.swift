/// The repurchase part of a customer record: one object per treatment
/// category the customer has bought, ascending by category index.
struct IntervalRecordFields: CustomerRecordFields {
  let columns: IntervalColumns
  /// Category names as JSON literals, encoded once.
  let categoryLiterals: JSONStringLiterals
  let categoryNames: [String]
  /// Status names as JSON literals, by `IntervalStatus.ordinal`.
  let statusLiterals = JSONStringLiterals(IntervalStatus.allCases.map(\.rawValue))

  public init(model: IntervalModel, columns: IntervalColumns) {
    self.columns = columns
    categoryNames = model.categories.map(\.name)
    categoryLiterals = JSONStringLiterals(categoryNames)
  }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("repurchase")
    w.beginArray()
    for p in columns.pairs(of: c) {
      func day(_ d: Int32) { if d == IntervalColumns.noDay { w.null() } else { w.date(d) } }
      w.beginObject()
      w.key("category"); w.encodedString(categoryLiterals, Int(columns.category[p]))
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
      w.key("status"); w.encodedString(statusLiterals, columns.status[p].ordinal)
      w.endObject()
    }
    w.endArray()
  }
}

extension IntervalRecordFields: ReportRecordFields {
  func read(customer c: Int, into r: inout CustomerAggregates.Record) {
    // The array is kept from the customer before: one allocation a run, not
    // one a customer.
    var pairs = r.repurchase ?? []
    r.repurchase = nil
    pairs.removeAll(keepingCapacity: true)
    for p in columns.pairs(of: c) {
      pairs.append(
        .init(
          category: categoryNames[Int(columns.category[p])],
          probability30d: JSONWriter.valueAsRead(columns.probability30[p], decimals: 4),
          probability60d: JSONWriter.valueAsRead(columns.probability60[p], decimals: 4),
          probability90d: JSONWriter.valueAsRead(columns.probability90[p], decimals: 4)))
    }
    r.repurchase = pairs
  }
}
