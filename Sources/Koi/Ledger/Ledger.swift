/// The transactions of one run, columnar, after parsing and validation.
///
/// Rows are sorted by (customer, day, input order) once, so every stage walks
/// each customer's history as one contiguous run:
/// rows `customerStart[c] ..< customerStart[c + 1]` belong to customer `c`.
///
/// Customer indices are dense, in order of first appearance in the input.
/// Days are whole days since 1970-01-01 (`Day`); a time of day in the input
/// is validated and then dropped, because every model here works in days.
public struct Ledger: Sendable {
  /// External customer ids, by customer index.
  public var customerIDs: [String]
  /// Treatment or item names as they appear in the input, by category index.
  public var categories: [String]
  /// Channel names by channel index (empty when the input has no channel column).
  public var channels: [String]
  /// Store names by store index (empty when the input has no store column).
  public var stores: [String]

  /// Customer index of each row.
  public var customer: [Int32]
  /// Day of each row (days since 1970-01-01).
  public var day: [Int32]
  /// Category index of each row.
  public var category: [Int32]
  /// Amount paid; negative for a refund. Currency units as in the input.
  public var amount: [Double]
  /// List price before discount; `.nan` where unknown.
  public var listPrice: [Double]
  /// Promotion or coupon flag: 1 yes, 0 no, -1 unknown.
  public var promo: [Int8]
  /// Channel index; -1 where unknown.
  public var channel: [Int32]
  /// Store index; -1 where unknown.
  public var store: [Int32]

  /// `customerIDs.count + 1` offsets into the row columns.
  public var customerStart: [Int]

  /// Which optional columns the input had.
  public var columns: OptionalColumns

  public struct OptionalColumns: Sendable, Equatable, Codable {
    public var listPrice: Bool
    public var promo: Bool
    public var channel: Bool
    public var store: Bool
    public init(listPrice: Bool = false, promo: Bool = false, channel: Bool = false, store: Bool = false) {
      self.listPrice = listPrice
      self.promo = promo
      self.channel = channel
      self.store = store
    }
  }

  public var rowCount: Int { customer.count }
  public var customerCount: Int { customerIDs.count }

  /// The rows of customer `c`.
  @inlinable
  public func rows(of c: Int) -> Range<Int> { customerStart[c]..<customerStart[c + 1] }
}

/// A row is a purchase occasion when it pays something. Zero-amount rows
/// (complimentary items) and refunds are kept in the ledger but are not
/// purchases: they do not count towards frequency, recency or intervals.
@inlinable
public func isPurchase(_ amount: Double) -> Bool { amount > 0 }

extension Ledger {
  /// Empties the store column, which no stage reads: `ScoringRun` does so
  /// after ingest, so that the stages reuse its memory (40 MB at 10M rows).
  /// `columns.store` still says whether the input had one.
  mutating func releaseStore() { store = [] }

  /// Empties the list price, promotion flag and channel columns, which
  /// only the tier features read: `ScoringRun` does so once the tier stage
  /// has run, so that the later stages reuse their memory (130 MB at 10M
  /// rows). `columns` still says which of them the input had.
  mutating func releaseTierInputs() {
    listPrice = []
    promo = []
    channel = []
  }
}
