/// The columns Koi understands, by canonical name.
public enum CanonicalColumn: String, CaseIterable, Sendable, Codable {
  case customerID = "customer_id"
  case date
  case item
  case amount
  case listPrice = "list_price"
  case promo
  case channel
  case store

  var isRequired: Bool {
    switch self {
    case .customerID, .date, .item, .amount: return true
    default: return false
    }
  }

  /// Header spellings recognised without a `--column` mapping, compared after
  /// trimming and lower-casing. Chinese spellings are the ones clinic CRM,
  /// HIS and SCRM exports use.
  var aliases: [String] {
    switch self {
    case .customerID:
      return [
        "customer_id", "customer", "customer id", "customerid", "client_id", "member_id",
        "客户编号", "客户id", "客户号", "会员号", "会员编号", "会员id", "顾客编号", "顾客id",
      ]
    case .date:
      return [
        "date", "purchase_date", "order_date", "transaction_date", "datetime", "time",
        "消费日期", "日期", "消费时间", "交易日期", "交易时间", "下单时间",
      ]
    case .item:
      return [
        "item", "treatment", "category", "product", "service",
        "项目", "品项", "项目名称", "治疗项目", "品项名称", "消费项目",
      ]
    case .amount:
      return [
        "amount", "paid", "amount_paid", "paid_amount", "revenue", "net_amount",
        "实收金额", "金额", "实付金额", "实收", "消费金额",
      ]
    case .listPrice:
      return ["list_price", "price", "original_price", "原价", "标价", "项目原价"]
    case .promo:
      return [
        "promo", "promotion", "coupon", "is_promo", "on_promotion",
        "是否活动", "活动", "优惠券", "是否优惠", "促销",
      ]
    case .channel:
      return ["channel", "source", "渠道", "来源渠道", "来源"]
    case .store:
      return ["store", "clinic", "branch", "门店", "院区", "分院", "诊所"]
    }
  }
}

/// Which input column holds each canonical column.
public struct ColumnMapping: Sendable, Equatable {
  /// Column index in the file for each canonical column present.
  public private(set) var index: [CanonicalColumn: Int]
  /// The header cells as read (trimmed).
  public let header: [String]

  /// Resolves the header against the aliases and the user's overrides
  /// (`--column canonical=header`, compared after trimming, case-insensitive).
  ///
  /// - Throws: `IngestError.badHeader` naming the problem: an override for an
  ///   unknown canonical name or a header that is not there, a required column
  ///   that is missing, two columns that both look like the same canonical one.
  public init(header rawHeader: [String], overrides: [String: String], path: String) throws {
    func normal(_ s: String) -> String {
      var t = s
      if t.hasPrefix("\u{FEFF}") { t.removeFirst() }
      return t.trimmingSpaces.lowercased()
    }
    let header = rawHeader.map { $0.trimmingSpaces }
    self.header = header
    let normalised = rawHeader.map(normal)
    var found: [CanonicalColumn: Int] = [:]
    let location = SourceLocation(path: path, line: 1)
    for (name, headerName) in overrides.sorted(by: { $0.key < $1.key }) {
      guard let column = CanonicalColumn(rawValue: name) else {
        let known = CanonicalColumn.allCases.map(\.rawValue).joined(separator: ", ")
        throw IngestError(
          .badHeader,
          "column mapping \(UserText.excerpt(name))=\(UserText.excerpt(headerName)): unknown column name '\(UserText.excerpt(name))'; the names are \(known).",
          at: location)
      }
      guard let at = normalised.firstIndex(of: normal(headerName)) else {
        throw IngestError(
          .badHeader,
          "column mapping \(name)=\(UserText.excerpt(headerName)): the header has no column '\(UserText.excerpt(headerName))'; it has \(Self.describe(header)).\(Self.encodingHint(header))",
          at: location)
      }
      found[column] = at
    }
    for column in CanonicalColumn.allCases where found[column] == nil {
      let claimed = Set(found.values)
      let matches = normalised.indices.filter { !claimed.contains($0) && column.aliases.contains(normalised[$0]) }
      if matches.count > 1 {
        let names = matches.map { "'\(UserText.excerpt(header[$0]))'" }.joined(separator: " and ")
        throw IngestError(
          .badHeader,
          "columns \(names) both look like \(column.rawValue); choose one with {{column \(column.rawValue)=HEADER}}.",
          at: location)
      }
      if let m = matches.first { found[column] = m }
    }
    let missing = CanonicalColumn.allCases.filter { $0.isRequired && found[$0] == nil }
    if !missing.isEmpty {
      let names = missing.map(\.rawValue).joined(separator: ", ")
      throw IngestError(
        .badHeader,
        "missing required column\(missing.count > 1 ? "s" : "") \(names). The header is: \(Self.describe(header)). Map a column with {{column \(missing[0].rawValue)=HEADER}}.\(Self.encodingHint(header))",
        at: location)
    }
    index = found
  }

  /// The header cells for a message: each cut short, at most 20 of them.
  static func describe(_ header: [String]) -> String {
    let shown = header.prefix(20).map { UserText.excerpt($0) }.joined(separator: ", ")
    return header.count > 20 ? shown + ", … (\(header.count) columns)" : shown
  }

  /// A hint when the header did not decode as UTF-8.
  static func encodingHint(_ header: [String]) -> String {
    header.contains { $0.unicodeScalars.contains("\u{FFFD}") }
      ? " The header is not valid UTF-8; if the file is GB18030/GBK, set {{encoding gb18030}}."
      : ""
  }
}

extension String {
  /// The string without leading and trailing spaces, tabs and full-width spaces.
  var trimmingSpaces: String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{3000}" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
    let last = lastIndex(where: { !isSpace($0) })!  // exists: `first` is a non-space
    return String(self[first...last])
  }
}
