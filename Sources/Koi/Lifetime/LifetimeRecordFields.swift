/// The lifetime part of a customer record: `"lifetime": {p_alive,
/// expected_purchases, p_no_purchase, expected_spend, clv}`, each null where
/// the model gives no value (no converged fit, no finite mean spend).
struct LifetimeRecordFields: CustomerRecordFields {
  let columns: LifetimeColumns

  public init(columns: LifetimeColumns) { self.columns = columns }

  public func write(customer c: Int, into w: inout JSONWriter) {
    func value(_ v: Double?, _ decimals: Int) { if let v { w.number(v, decimals: decimals) } else { w.null() } }
    w.key("lifetime")
    w.beginObject()
    w.key("p_alive"); value(columns.probabilityAlive[c], 4)
    w.key("expected_purchases"); value(columns.expectedPurchases[c], 4)
    w.key("p_no_purchase"); value(columns.probabilityNoPurchase[c], 4)
    w.key("expected_spend"); value(columns.expectedSpend[c], 2)
    w.key("clv"); value(columns.clv[c], 2)
    w.endObject()
  }
}

extension LifetimeRecordFields: ReportRecordFields {
  func read(customer c: Int, into r: inout CustomerAggregates.Record) {
    func value(_ v: Double?, _ decimals: Int) -> Double? {
      v.flatMap { JSONWriter.valueAsRead($0, decimals: decimals) }
    }
    r.lifetime = .init(
      pAlive: value(columns.probabilityAlive[c], 4), expectedPurchases: value(columns.expectedPurchases[c], 4),
      expectedSpend: value(columns.expectedSpend[c], 2), clv: value(columns.clv[c], 2))
  }
}
