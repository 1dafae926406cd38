/// Per-customer aggregates of a `Ledger` as of a reference day, struct of
/// arrays indexed by customer index.
///
/// "Purchase" follows `isPurchase`: a row that pays something. Every customer
/// in the table has at least one purchase before the as-of day (ingest rejects
/// refund-only customers with a reason), so first and last purchase days are
/// always defined.
public struct CustomerTable: Sendable {
  /// The reference day: everything in the ledger happened before it.
  public let asOfDay: Int32
  /// Day of the first purchase.
  var firstPurchaseDay: [Int32]
  /// Day of the last purchase.
  var lastPurchaseDay: [Int32]
  /// Distinct days with at least one purchase (the RFM frequency).
  var purchaseDays: [Int32]
  /// Rows that are purchases.
  var purchaseCount: [Int32]
  /// Sum of all amounts, refunds included (the RFM monetary value).
  var netAmount: [Double]
  /// Sum of positive amounts.
  var grossAmount: [Double]
  /// Sum of refunds, as a non-negative number.
  var refundAmount: [Double]

  public var count: Int { firstPurchaseDay.count }

  /// Aggregates `ledger` as of `asOfDay`.
  ///
  /// - Precondition: every ledger day is before `asOfDay`, and every customer
  ///   has a purchase.
  /// - Complexity: O(rows), parallel over customers.
  public init(ledger: Ledger, asOfDay: Int32) {
    self.asOfDay = asOfDay
    let c = ledger.customerCount
    var first = [Int32](repeating: 0, count: c)
    var last = [Int32](repeating: 0, count: c)
    var days = [Int32](repeating: 0, count: c)
    var purchases = [Int32](repeating: 0, count: c)
    var net = [Double](repeating: 0, count: c)
    var gross = [Double](repeating: 0, count: c)
    var refunds = [Double](repeating: 0, count: c)
    first.withUnsafeMutableBufferPointer { first in
      last.withUnsafeMutableBufferPointer { last in
        days.withUnsafeMutableBufferPointer { days in
          purchases.withUnsafeMutableBufferPointer { purchases in
            net.withUnsafeMutableBufferPointer { net in
              gross.withUnsafeMutableBufferPointer { gross in
                refunds.withUnsafeMutableBufferPointer { refunds in
                  ledger.day.withUnsafeBufferPointer { day in
                    ledger.amount.withUnsafeBufferPointer { amount in
                      ledger.customerStart.withUnsafeBufferPointer { start in
                        Parallel.forEachChunk(count: c, chunkCount: Parallel.chunkCount(customers: c, rows: day.count))
                        { _, range in
                          for k in range {
                            var f = Int32.max, l = Int32.min, d: Int32 = 0, p: Int32 = 0
                            var lastDay = Int32.min
                            var sNet = 0.0, sGross = 0.0, sRefund = 0.0
                            for i in start[k]..<start[k + 1] {
                              let a = amount[i]
                              sNet += a
                              if isPurchase(a) {
                                let t = day[i]
                                sGross += a
                                p &+= 1
                                if t != lastDay { d &+= 1; lastDay = t }
                                if t < f { f = t }
                                if t > l { l = t }
                              } else if a < 0 {
                                sRefund -= a
                              }
                            }
                            precondition(p > 0, "customer without a purchase reached CustomerTable")
                            first[k] = f; last[k] = l; days[k] = d; purchases[k] = p
                            net[k] = sNet; gross[k] = sGross; refunds[k] = sRefund
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    firstPurchaseDay = first
    lastPurchaseDay = last
    purchaseDays = days
    purchaseCount = purchases
    netAmount = net
    grossAmount = gross
    refundAmount = refunds
  }
}
