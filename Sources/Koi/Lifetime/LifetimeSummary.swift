import RealModule

/// The per-customer input of the lifetime models (the "RFM summary" of
/// Fader, Hardie & Lee), struct of arrays indexed by customer.
///
/// Times are in the summary's own unit, `daysPerUnit` days each: 1 when built
/// from a `Ledger` (days), 7 for the published CDNOW summary (weeks). The
/// models are unit-free; options given in days (`horizonDays`) are converted
/// with `daysPerUnit`.
///
/// | field            | symbol | meaning                                                 |
/// |------------------|--------|---------------------------------------------------------|
/// | frequency        | x      | repeat purchase days: distinct purchase days − 1        |
/// | recency          | t_x    | last purchase − first purchase                          |
/// | age              | T      | as-of day − first purchase                              |
/// | monetaryValue    | m̄      | average net spend per repeat purchase day (0 if x = 0)  |
/// | logIntervalSum   | Σ ln τ | sum of log gaps between consecutive purchase days       |
public struct LifetimeSummary: Sendable {
  public var frequency: [Int32]
  public var recency: [Double]
  public var age: [Double]
  public var monetaryValue: [Double]
  /// Σⱼ ln(dⱼ − dⱼ₋₁) over consecutive distinct purchase days, in the
  /// summary's unit; needed only by the regular-timing (CNBD-k) model. nil
  /// when unknown (e.g. the CDNOW summary), which disables that model.
  public var logIntervalSum: [Double]?
  var daysPerUnit: Double

  public var count: Int { frequency.count }

  /// A customer the recency models can use: x ≥ 0, 0 ≤ t_x ≤ T, all finite,
  /// and t_x > 0 when x > 0 (repeat purchases happen after the first).
  /// Invalid customers are left out of fits and get null scores.
  func isValid(_ i: Int) -> Bool {
    let x = frequency[i], tx = recency[i], t = age[i]
    guard x >= 0, tx.isFinite, t.isFinite, tx >= 0, tx <= t else { return false }
    return x == 0 ? tx == 0 : tx > 0
  }

  public init(
    frequency: [Int32], recency: [Double], age: [Double], monetaryValue: [Double]? = nil,
    logIntervalSum: [Double]? = nil, daysPerUnit: Double = 1
  ) {
    precondition(
      recency.count == frequency.count && age.count == frequency.count,
      "summary columns must have one entry per customer")
    precondition(
      (monetaryValue?.count ?? frequency.count) == frequency.count, "monetary values must have one entry per customer")
    precondition(
      (logIntervalSum?.count ?? frequency.count) == frequency.count,
      "log-interval sums must have one entry per customer")
    precondition(daysPerUnit > 0, "daysPerUnit must be positive")
    self.frequency = frequency
    self.recency = recency
    self.age = age
    self.monetaryValue = monetaryValue ?? [Double](repeating: 0, count: frequency.count)
    self.logIntervalSum = logIntervalSum
    self.daysPerUnit = daysPerUnit
  }

  /// Builds the summary in days from a ledger and its customer table.
  ///
  /// ```
  /// d₀ < d₁ < … < d_x   distinct days with a purchase (amount > 0)
  /// x   = table.purchaseDays − 1
  /// t_x = d_x − d₀,   T = asOfDay − d₀
  /// m̄   = (Σ amounts of all rows on days > d₀, refunds included) / x   when x > 0
  ///       (≤ 0 after refunds: kept as is; Gamma-Gamma ignores it, see GammaGamma)
  /// Σ ln τ = Σ_{j=1..x} ln(dⱼ − dⱼ₋₁)
  /// ```
  /// - Complexity: O(rows), parallel over customers.
  public init(ledger: Ledger, table: CustomerTable) {
    let c = table.count
    precondition(ledger.customerCount == c, "ledger and table disagree on customers")
    var x = [Int32](repeating: 0, count: c)
    var tx = [Double](repeating: 0, count: c)
    var t = [Double](repeating: 0, count: c)
    var m = [Double](repeating: 0, count: c)
    var li = [Double](repeating: 0, count: c)
    let asOf = table.asOfDay
    x.withUnsafeMutableBufferPointer { x in
      tx.withUnsafeMutableBufferPointer { tx in
        t.withUnsafeMutableBufferPointer { t in
          m.withUnsafeMutableBufferPointer { m in
            li.withUnsafeMutableBufferPointer { li in
              ledger.day.withUnsafeBufferPointer { day in
                ledger.amount.withUnsafeBufferPointer { amount in
                  ledger.customerStart.withUnsafeBufferPointer { start in
                    table.firstPurchaseDay.withUnsafeBufferPointer { first in
                      table.lastPurchaseDay.withUnsafeBufferPointer { last in
                        table.purchaseDays.withUnsafeBufferPointer { days in
                          Parallel.forEachChunk(
                            count: c, chunkCount: Parallel.chunkCount(customers: c, rows: day.count)
                          ) { _, range in
                            for k in range {
                              let d0 = first[k]
                              var repeatSpend = 0.0
                              var logSum = 0.0
                              var previous = d0
                              for i in start[k]..<start[k + 1] {
                                let d = day[i]
                                if d > d0 { repeatSpend += amount[i] }
                                if isPurchase(amount[i]) && d > previous {
                                  logSum += Double.log(Double(d - previous))
                                  previous = d
                                }
                              }
                              let repeats = days[k] - 1
                              x[k] = repeats
                              tx[k] = Double(last[k] - d0)
                              t[k] = Double(asOf - d0)
                              m[k] = repeats > 0 ? repeatSpend / Double(repeats) : 0
                              li[k] = logSum
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
    }
    self.init(frequency: x, recency: tx, age: t, monetaryValue: m, logIntervalSum: li, daysPerUnit: 1)
  }
}
