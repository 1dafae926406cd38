import Foundation
import GRDB
import GRDBSQLite

/// Matches rows of history.sqlite, read in the order of their customer-id
/// key, to a run's customers by walking the run's ids in the same order
/// (by UTF-8 bytes, SQLite's BINARY collation): one byte comparison or a
/// few per row, no String made and no hash. Hashing each row's id into a
/// dictionary of the run's 1.47M ids was most of the time spent checking
/// an earlier 10M-row run's 2.2M predictions.
struct KeyOrderMatch {
  private let ids: [String]
  private let order: [Int32]
  private var position = 0
  /// The last key asked for, to check the keys come in order.
  private var last: [UInt8] = []

  /// - Parameter order: `RadixSort.utf8Order(ids)`, when the caller has it.
  init(ids: [String], order: [Int32]? = nil) {
    self.ids = ids
    self.order = order ?? RadixSort.utf8Order(ids)
  }

  /// The customer whose id has the bytes `key`; nil when no customer has
  /// it. Keys must come in ascending byte order, repeats allowed.
  mutating func customer(_ key: UnsafeRawBufferPointer) -> Int? {
    precondition(
      last.withUnsafeBytes { Self.compare($0, key) } <= 0, "keys in ascending order of their bytes")
    last.removeAll(keepingCapacity: true)
    last.append(contentsOf: key)
    while position < order.count {
      let c = Int(order[position])
      let d = Self.compare(ids[c], key)
      if d == 0 { return c }
      if d > 0 { return nil }
      position += 1
    }
    return nil
  }

  /// The sign of `s`'s UTF-8 bytes against `key` in byte order.
  static func compare(_ s: String, _ key: UnsafeRawBufferPointer) -> Int {
    var s = s
    return s.withUTF8 { compare(UnsafeRawBufferPointer($0), key) }
  }

  /// `memcmp`, then the shorter first: SQLite's BINARY collation.
  static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    let d = n == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, n)
    return d != 0 ? Int(d.signum()) : (a.count - b.count).signum()
  }
}

extension Statement {
  /// Steps through the statement's rows (its arguments set), calling
  /// `body` with SQLite's statement on each.
  func forEachRow(_ body: (OpaquePointer) throws -> Void) throws {
    let st = sqliteStatement
    while true {
      let code = sqlite3_step(st)
      if code == SQLITE_DONE { return }
      guard code == SQLITE_ROW else {
        throw DatabaseError(
          resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(st))),
          sql: sql)
      }
      try body(st)
    }
  }

  /// Column `i`'s text bytes in the row the statement is on; empty for
  /// NULL. Valid until the next step.
  func textBytes(_ i: CInt) -> UnsafeRawBufferPointer {
    guard let p = sqlite3_column_text(sqliteStatement, i) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(sqliteStatement, i)))
  }
}
