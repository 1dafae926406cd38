import Foundation
import GRDB
import Testing

@testable import Koi

/// Rows bound with SQLite's own calls are the rows GRDB's own binding
/// stores.
@Suite struct RowInserterTests {
  @Test func valuesReadBackAndAConstraintIsAnError() throws {
    let db = try DatabaseQueue()
    try db.write { db in
      try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY NOT NULL, s TEXT, i INTEGER, d REAL NOT NULL)")
      try db.execute(sql: "CREATE TABLE g (k TEXT PRIMARY KEY NOT NULL, s TEXT, i INTEGER, d REAL NOT NULL)")
      var insert = try RowInserter(db, sql: "INSERT INTO t (k, s, i, d) VALUES (?, ?, ?, ?)")
      let rows: [(String, String?, Int?, Double)] = [
        ("a", "", 0, 0.1), ("b", nil, nil, -2.5), ("张三", "x\n\"y\"\u{0}z", Int.max, .leastNonzeroMagnitude),
        ("", "é👩‍👩‍👧", -1, 1e300),
      ]
      for r in rows {
        insert.text(r.0)
        insert.text(r.1)
        insert.int(r.2)
        insert.double(r.3)
        try insert.insert()
        try db.execute(sql: "INSERT INTO g (k, s, i, d) VALUES (?, ?, ?, ?)", arguments: [r.0, r.1, r.2, r.3])
      }
      let sql = "SELECT k, s, i, d, hex(k), hex(s), typeof(s) FROM %@ ORDER BY rowid"
      let ours = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "t"))
      let grdb = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "g"))
      #expect(ours.count == rows.count && ours == grdb)
      // The empty string is a value, not NULL.
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE s = ''") == 1)
      insert.text("a")
      insert.null()
      insert.null()
      insert.double(1)
      #expect(throws: DatabaseError.self) { try insert.insert() }
      // The statement is usable after the error.
      insert.text("c")
      insert.null()
      insert.null()
      insert.double(1)
      try insert.insert()
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 5)
    }
  }
}
