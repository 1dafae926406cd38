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

extension StageBatch {
  /// The customers `range` of this batch (their rows and aggregates), with
  /// the same dictionaries: what one shard of a multi-batch run holds.
  func slice(customers range: Range<Int>) -> StageBatch {
    let rows = ledger.customerStart[range.lowerBound]..<ledger.customerStart[range.upperBound]
    var l = ledger
    l.customerIDs = Array(ledger.customerIDs[range])
    l.customer = ledger.customer[rows].map { $0 - Int32(range.lowerBound) }
    l.day = Array(ledger.day[rows])
    l.category = Array(ledger.category[rows])
    l.amount = Array(ledger.amount[rows])
    l.listPrice = Array(ledger.listPrice[rows])
    l.promo = Array(ledger.promo[rows])
    l.channel = Array(ledger.channel[rows])
    l.store = Array(ledger.store[rows])
    l.customerStart = ledger.customerStart[range.lowerBound...range.upperBound].map { $0 - rows.lowerBound }
    var t = table
    t.firstPurchaseDay = Array(table.firstPurchaseDay[range])
    t.lastPurchaseDay = Array(table.lastPurchaseDay[range])
    t.purchaseDays = Array(table.purchaseDays[range])
    t.purchaseCount = Array(table.purchaseCount[range])
    t.netAmount = Array(table.netAmount[range])
    t.grossAmount = Array(table.grossAmount[range])
    t.refundAmount = Array(table.refundAmount[range])
    return StageBatch(ledger: l, table: t)
  }
}
