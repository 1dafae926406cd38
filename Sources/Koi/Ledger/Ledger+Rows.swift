extension Ledger {
  /// A ledger with no rows.
  init(empty columns: OptionalColumns) {
    self.init(
      customerIDs: [], categories: [], channels: [], stores: [],
      customer: [], day: [], category: [], amount: [], listPrice: [], promo: [],
      channel: [], store: [], customerStart: [0], columns: columns)
  }

  /// One transaction, row-wise: the convenient form for tests and small
  /// programs. Ingest builds the columns directly.
  public struct Row: Sendable, Equatable {
    public var customerID: String
    public var day: Int32
    public var item: String
    public var amount: Double
    public var listPrice: Double
    public var promo: Int8
    public var channel: String?
    public var store: String?

    public init(
      customerID: String, day: Int32, item: String, amount: Double,
      listPrice: Double = .nan, promo: Int8 = -1, channel: String? = nil, store: String? = nil
    ) {
      self.customerID = customerID
      self.day = day
      self.item = item
      self.amount = amount
      self.listPrice = listPrice
      self.promo = promo
      self.channel = channel
      self.store = store
    }
  }

  /// Builds a sorted ledger from rows. Customer, category, channel and store
  /// indices follow first appearance.
  ///
  /// - Complexity: O(n log n).
  public init(rows: [Row], columns: OptionalColumns = OptionalColumns()) {
    var builder = LedgerBuilder(columns: columns)
    for r in rows {
      builder.append(
        customerID: r.customerID, day: r.day, item: r.item, amount: r.amount,
        listPrice: r.listPrice, promo: r.promo, channel: r.channel, store: r.store)
    }
    self = builder.build()
  }
}

/// Accumulates rows in input order, then sorts them into a `Ledger`.
public struct LedgerBuilder {
  private var customerIndex: [String: Int32] = [:]
  private var categoryIndex: [String: Int32] = [:]
  private var channelIndex: [String: Int32] = [:]
  private var storeIndex: [String: Int32] = [:]
  private var ledger: Ledger

  public init(columns: Ledger.OptionalColumns) {
    ledger = Ledger(empty: columns)
  }

  private static func intern(_ s: String, _ index: inout [String: Int32], _ names: inout [String]) -> Int32 {
    if let i = index[s] { return i }
    let i = Int32(names.count)
    index[s] = i
    names.append(s)
    return i
  }

  public mutating func append(
    customerID: String, day: Int32, item: String, amount: Double,
    listPrice: Double, promo: Int8, channel: String?, store: String?
  ) {
    ledger.customer.append(Self.intern(customerID, &customerIndex, &ledger.customerIDs))
    ledger.day.append(day)
    ledger.category.append(Self.intern(item, &categoryIndex, &ledger.categories))
    ledger.amount.append(amount)
    ledger.listPrice.append(listPrice)
    ledger.promo.append(promo)
    ledger.channel.append(channel.map { Self.intern($0, &channelIndex, &ledger.channels) } ?? -1)
    ledger.store.append(store.map { Self.intern($0, &storeIndex, &ledger.stores) } ?? -1)
  }

  public func build() -> Ledger {
    var l = ledger
    l.sortByCustomerAndDay()
    return l
  }
}
