import GRDB
import GRDBSQLite

/// Inserts a known number of rows into one table, many rows a statement
/// (`INSERT … VALUES (…), (…), …`), each value bound with SQLite's own
/// calls.
///
/// GRDB's `Statement.execute(arguments:)` builds an array of
/// `DatabaseValue`s for every row: keeping a 10M-row `koi run`'s 2.2
/// million predictions took 5.7 s with it and 3.5 s with SQLite's calls
/// (one run each). One row a statement pays SQLite's statement setup (its
/// cursors, a seek from the B-tree's root, the foreign-key check) for
/// every row; a statement of many rows in key order keeps its cursor at
/// the end of the table. The same 2.2M rows in key order through Python's
/// sqlite3 module: one a statement 8.4 s, 16 a statement 4.0 s, 100 a
/// statement 2.6 s; in a second 10M-row `koi run` the insert went from
/// 5.3 s (timing probes) to about 2 s (a 1 kHz timeline).
///
/// Only inside a write transaction (`db.write`), which it does not open.
/// A statement that fails (a constraint) inserts none of its rows.
struct RowInserter {
  private let db: Database
  private let sql: (Int) -> String
  private let columns: Int
  private let rowsPerStatement: Int
  /// Rows not yet bound, this one included.
  private var remaining: Int
  private var statement: Statement?
  /// The rows of `statement`, and the rows and values bound to it so far.
  private var statementRows = 0
  private var boundRows = 0
  private var parameter: CInt = 0

  /// - Parameters:
  ///   - rows: how many rows will be inserted; `finish` checks it.
  init(_ db: Database, table: String, columns: [String], rows: Int, rowsPerStatement: Int = 64) {
    precondition(!columns.isEmpty && rows >= 0 && rowsPerStatement > 0, "a row has values")
    self.db = db
    self.columns = columns.count
    self.rowsPerStatement = rowsPerStatement
    remaining = rows
    let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
    let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
    sql = { n in head + Array(repeating: row, count: n).joined(separator: ", ") }
  }

  /// SQLite copies the bytes now (`SQLITE_TRANSIENT`).
  private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

  /// The statement the next value goes to: the full-size one, or a
  /// smaller one for the last rows.
  private mutating func next() throws -> OpaquePointer {
    if let statement, boundRows < statementRows { return statement.sqliteStatement }
    precondition(remaining > 0, "more rows than announced")
    let n = min(rowsPerStatement, remaining)
    if statement == nil || statementRows != n {
      statement = try db.makeStatement(sql: sql(n))
      statementRows = n
    }
    boundRows = 0
    return statement!.sqliteStatement
  }

  /// As GRDB binds a String: its C string, so a NUL byte ends the text.
  mutating func text(_ s: String) throws {
    let st = try next()
    parameter += 1
    _ = s.withCString { sqlite3_bind_text(st, parameter + CInt(boundRows * columns), $0, -1, Self.transient) }
  }

  mutating func text(_ s: String?) throws {
    if let s { try text(s) } else { try null() }
  }

  mutating func int(_ v: Int?) throws {
    guard let v else { return try null() }
    let st = try next()
    parameter += 1
    _ = sqlite3_bind_int64(st, parameter + CInt(boundRows * columns), Int64(v))
  }

  mutating func double(_ v: Double) throws {
    let st = try next()
    parameter += 1
    _ = sqlite3_bind_double(st, parameter + CInt(boundRows * columns), v)
  }

  mutating func null() throws {
    let st = try next()
    parameter += 1
    _ = sqlite3_bind_null(st, parameter + CInt(boundRows * columns))
  }

  /// Ends a row; runs the statement once all its rows are bound.
  mutating func endRow() throws {
    precondition(parameter == CInt(columns), "\(parameter) values for \(columns) columns")
    parameter = 0
    boundRows += 1
    remaining -= 1
    guard let statement, boundRows == statementRows else { return }
    let code = sqlite3_step(statement.sqliteStatement)
    _ = sqlite3_reset(statement.sqliteStatement)
    guard code == SQLITE_DONE else {
      throw DatabaseError(
        resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
        sql: statement.sql)
    }
  }

  /// Checks that every announced row was inserted.
  func finish() {
    precondition(remaining == 0 && parameter == 0, "\(remaining) announced rows not inserted")
  }
}
