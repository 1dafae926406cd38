import Koi

/// Everything one read of a file produced, as plain values that compare with
/// `==`: the ledger, the rejects, the counts and the facts for run.json, or
/// the error that stopped the read.
enum IngestOutcome: Equatable {
  case ingested(IngestSnapshot)
  case refused(RefusalSnapshot)
  /// A thrown error that is not an `IngestError`: `koi` would report it as an
  /// internal error (exit code 1), which bad data must never cause.
  case untyped(String)

  init(_ read: () throws -> IngestResult) {
    do {
      self = .ingested(IngestSnapshot(try read()))
    } catch let error as IngestError {
      self = .refused(RefusalSnapshot(error))
    } catch {
      self = .untyped(String(describing: error))
    }
  }
}

/// An `IngestError` by value.
struct RefusalSnapshot: Equatable, CustomStringConvertible {
  var code: String
  var line: Int
  var field: String?
  var message: String

  init(_ error: IngestError) {
    code = error.code.description
    line = error.location.line
    field = error.location.field
    message = error.message
  }

  var description: String { "\(code) at line \(line)\(field.map { " (\($0))" } ?? ""): \(message)" }
}

/// One rejected row by value.
struct RejectSnapshot: Equatable, CustomStringConvertible {
  var line: Int
  var reason: RejectReason
  var field: CanonicalColumn?
  var detail: String
  var raw: String

  init(_ r: Reject) {
    line = r.line
    reason = r.reason
    field = r.field
    detail = r.detail
    raw = r.raw
  }

  var description: String { "line \(line) \(reason.rawValue)\(field.map { " (\($0.rawValue))" } ?? ""): \(detail)" }
}

/// An `IngestResult` by value. Doubles are kept as bit patterns, so NaN list
/// prices (unknown) compare equal and a sign or last-bit change does not.
struct IngestSnapshot: Equatable {
  // The ledger, sorted by customer and day as the reader returns it.
  var customerIDs: [String]
  var categories: [String]
  var channels: [String]
  var stores: [String]
  var customer: [Int32]
  var day: [Int32]
  var category: [Int32]
  var amountBits: [UInt64]
  var listPriceBits: [UInt64]
  var promo: [Int8]
  var channel: [Int32]
  var store: [Int32]
  var customerStart: [Int]
  var columns: Ledger.OptionalColumns
  // Accounting.
  var rejects: [RejectSnapshot]
  var counts: RowCounts
  // Facts about the input.
  var header: [String]
  var columnIndex: [String: Int]
  var encoding: InputEncoding
  var encodingDetected: Bool
  var sha256: String
  var bytes: Int64
  var asOfDay: Int32

  init(_ r: IngestResult) {
    let l = r.ledger
    customerIDs = l.customerIDs
    categories = l.categories
    channels = l.channels
    stores = l.stores
    customer = l.customer
    day = l.day
    category = l.category
    amountBits = l.amount.map(\.bitPattern)
    listPriceBits = l.listPrice.map(\.bitPattern)
    promo = l.promo
    channel = l.channel
    store = l.store
    customerStart = l.customerStart
    columns = l.columns
    rejects = r.rejects.map(RejectSnapshot.init)
    counts = r.counts
    header = r.mapping.header
    columnIndex = Dictionary(uniqueKeysWithValues: r.mapping.index.map { ($0.key.rawValue, $0.value) })
    encoding = r.encoding
    encodingDetected = r.encodingDetected
    sha256 = r.sha256
    bytes = r.bytes
    asOfDay = r.asOfDay
  }
}

extension IngestOutcome {
  /// A one-paragraph account of the first way `self` and `other` differ,
  /// for the crash report.
  func difference(from other: IngestOutcome) -> String {
    switch (self, other) {
    case let (.ingested(a), .ingested(b)):
      for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
        let u = String(describing: x.value), v = String(describing: y.value)
        if u != v {
          return "\(x.label ?? "?") differs:\n    \(Self.excerpt(u))\n  vs\n    \(Self.excerpt(v))"
        }
      }
      return "no field differs (equality and description disagree)"
    default:
      return "\(Self.excerpt(summary))\n  vs\n    \(Self.excerpt(other.summary))"
    }
  }

  /// What happened, in one line.
  var summary: String {
    switch self {
    case .ingested(let s):
      return
        "ingested: \(s.counts.read) read, \(s.counts.used) used, \(s.counts.rejected) rejected, \(s.customerIDs.count) customers, encoding \(s.encoding.rawValue); rejects \(s.rejects.prefix(5))"
    case .refused(let r):
      return "refused: \(r)"
    case .untyped(let e):
      return "untyped error: \(e)"
    }
  }

  static func excerpt(_ s: String, limit: Int = 600) -> String {
    s.count <= limit ? s : String(s.prefix(limit)) + "… (\(s.count) characters)"
  }
}
