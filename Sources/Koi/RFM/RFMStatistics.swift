/// What the RFM fit needs of a batch of customers: the counts of each
/// recency, frequency and monetary value. Exact and order-independent:
/// counts add.
public struct RFMStatistics: StageStatistics, Equatable {
  /// Days since the last purchase.
  var recencyDays: ValueCounts
  /// Distinct purchase days.
  var purchaseDays: ValueCounts
  /// Net amount, refunds included.
  var netAmount: ValueCounts

  /// - Complexity: O(N log N) for N customers.
  public init(table: CustomerTable) {
    recencyDays = ValueCounts(table.lastPurchaseDay.lazy.map { Double(table.asOfDay - $0) })
    purchaseDays = ValueCounts(table.purchaseDays.lazy.map(Double.init))
    netAmount = ValueCounts(table.netAmount)
  }

  public mutating func merge(_ later: RFMStatistics) {
    recencyDays.merge(later.recencyDays)
    purchaseDays.merge(later.purchaseDays)
    netAmount.merge(later.netAmount)
  }
}
