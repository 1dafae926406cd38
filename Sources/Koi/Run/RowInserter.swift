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

  /// The text values' bytes, bound without a copy (`texts`).
  private let texts = TextArena()

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
  /// The bytes are copied into `texts` and bound as they are there
  /// (`SQLITE_STATIC`), which SQLite reads when the statement runs: bound
  /// for SQLite to copy (`SQLITE_TRANSIENT`), each value was a `malloc` and
  /// a `free` of SQLite's, three a row.
  mutating func text(_ s: String) throws {
    try text(joining: CollectionOfOne(s), separator: 0)
  }

  mutating func text(_ s: String?) throws {
    if let s { try text(s) } else { try null() }
  }

  /// `text(parts.joined(separator:))` without making the joined string.
  mutating func text(joining parts: some Collection<String>, separator: UInt8) throws {
    let st = try next()
    parameter += 1
    let (bytes, count) = texts.copy(joining: parts, separator: separator)
    _ = sqlite3_bind_text(st, parameter + CInt(boundRows * columns), bytes, CInt(count), nil)
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
    // Every value is bound again before the statement runs again.
    texts.removeAll()
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

/// Bytes of text values that SQLite reads where they are, until the
/// statement they are bound to runs: copied into blocks that never move
/// (a pointer handed out stays valid until `removeAll`), kept and reused
/// after it. Freed with the arena.
private final class TextArena {
  private var blocks: [UnsafeMutableRawBufferPointer] = []
  /// The block being filled (−1: none yet) and its bytes used.
  private var current = -1
  private var used = 0
  private static let blockSize = 1 << 16

  deinit { for b in blocks { b.deallocate() } }

  /// A copy of the UTF-8 bytes of `parts.joined(separator:)` up to their
  /// first NUL, if any (where its C string would end), each part copied
  /// once, and their count; never a nil pointer (SQLite binds a nil text as
  /// NULL), also for no bytes.
  func copy(joining parts: some Collection<String>, separator: UInt8) -> (UnsafePointer<CChar>, Int) {
    var room = max(0, parts.count - 1)
    for p in parts { room += p.utf8.count }
    let out = reserve(room).assumingMemoryBound(to: UInt8.self)
    var count = 0
    for (k, part) in parts.enumerated() {
      if k > 0 {
        if separator == 0 { break }
        out[count] = separator
        count += 1
      }
      var part = part
      let stopped = part.withUTF8 { utf8 in
        let n = utf8.firstIndex(of: 0) ?? utf8.count
        if n > 0, let from = utf8.baseAddress { (out + count).update(from: from, count: n) }
        count += n
        return n < utf8.count
      }
      if stopped { break }
    }
    return (UnsafeRawPointer(out).assumingMemoryBound(to: CChar.self), count)
  }

  /// Room for `count` bytes: in the current block, else in the next one
  /// that holds them (one is made, at least `blockSize`, where none does).
  private func reserve(_ count: Int) -> UnsafeMutableRawPointer {
    if current < 0 || used + count > blocks[current].count {
      current += 1
      used = 0
      if current == blocks.count || blocks[current].count < count {
        blocks.insert(.allocate(byteCount: max(Self.blockSize, count), alignment: 1), at: current)
      }
    }
    // Every block has at least one byte (`blockSize`), so a base address.
    guard let base = blocks[current].baseAddress else { preconditionFailure("an empty text block") }
    defer { used += count }
    return base + used
  }

  /// Lets the blocks be filled again: the bytes handed out are no longer
  /// read.
  func removeAll() {
    current = -1
    used = 0
  }
}
