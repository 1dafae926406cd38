/// The RFM part of a customer record.
struct RFMRecordFields: CustomerRecordFields {
  let table: CustomerTable
  let columns: RFMColumns
  /// Segment names as JSON literals, by `RFMSegment.ordinal`.
  let segmentLiterals = JSONStringLiterals(RFMSegment.allCases.map(\.rawValue))

  public init(table: CustomerTable, columns: RFMColumns) {
    self.table = table
    self.columns = columns
  }

  public func write(customer c: Int, into w: inout JSONWriter) {
    let frequency = Double(columns.frequency[c])
    w.key("first_purchase"); w.date(table.firstPurchaseDay[c])
    w.key("last_purchase"); w.date(table.lastPurchaseDay[c])
    w.key("tenure_days"); w.int(table.asOfDay - table.firstPurchaseDay[c])
    w.key("recency_days"); w.int(columns.recencyDays[c])
    w.key("frequency"); w.int(columns.frequency[c])
    w.key("monetary"); w.number(columns.monetary[c], decimals: 2)
    w.key("average_order_value"); w.number(columns.monetary[c] / frequency, decimals: 2)
    w.key("refunds"); w.number(table.refundAmount[c], decimals: 2)
    w.key("r_score"); w.int(columns.rScore[c])
    w.key("f_score"); w.int(columns.fScore[c])
    w.key("m_score"); w.int(columns.mScore[c])
    w.key("rfm"); w.scoreTriple(columns.rScore[c], columns.fScore[c], columns.mScore[c])
    w.key("segment"); w.encodedString(segmentLiterals, columns.segment[c].ordinal)
  }
}

extension RFMRecordFields: ReportRecordFields {
  func read(customer c: Int, into r: inout CustomerAggregates.Record) {
    r.monetary = JSONWriter.valueAsRead(columns.monetary[c], decimals: 2)
    r.rScore = Int(columns.rScore[c])
    r.fScore = Int(columns.fScore[c])
    r.mScore = Int(columns.mScore[c])
    r.segment = columns.segment[c].rawValue
  }
}
