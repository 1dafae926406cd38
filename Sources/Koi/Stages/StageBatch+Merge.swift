/// Batches merge by appending their customers: the rows themselves are the
/// exact statistics of the stages that need every row of a customer (tier
/// features against category medians, purchase histories at rolling
/// origins).
extension StageBatch: StageStatistics {
  /// - Precondition: both batches share the as-of day and the category,
  ///   channel and store dictionaries (a multi-batch run interns them once).
  public mutating func merge(_ later: StageBatch) {
    ledger.append(later.ledger)
    table.append(later.table)
  }
}

extension Ledger {
  /// Appends the customers of `later`, whose rows follow.
  ///
  /// - Precondition: the same categories, channels, stores and optional
  ///   columns.
  public mutating func append(_ later: Ledger) {
    precondition(
      categories == later.categories && channels == later.channels && stores == later.stores
        && columns == later.columns,
      "ledgers merge only with shared dictionaries")
    let customerOffset = Int32(customerCount)
    let rowOffset = rowCount
    customerIDs += later.customerIDs
    customer += later.customer.map { $0 + customerOffset }
    day += later.day
    category += later.category
    amount += later.amount
    listPrice += later.listPrice
    promo += later.promo
    channel += later.channel
    store += later.store
    customerStart += later.customerStart.dropFirst().map { $0 + rowOffset }
  }
}

extension CustomerTable {
  /// Appends the customers of `later`.
  ///
  /// - Precondition: the same as-of day.
  public mutating func append(_ later: CustomerTable) {
    precondition(asOfDay == later.asOfDay, "tables merge only as of the same day")
    firstPurchaseDay += later.firstPurchaseDay
    lastPurchaseDay += later.lastPurchaseDay
    purchaseDays += later.purchaseDays
    purchaseCount += later.purchaseCount
    netAmount += later.netAmount
    grossAmount += later.grossAmount
    refundAmount += later.refundAmount
  }
}
