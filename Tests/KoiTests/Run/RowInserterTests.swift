import Foundation
import GRDB
import Testing

@testable import Koi

/// Rows bound with SQLite's own calls, many a statement, are the rows
/// GRDB's own binding stores, one a statement.
@Suite struct RowInserterTests {
  static let awkward: [(String?, Int?, Double)] = [
    ("", 0, 0.1), (nil, nil, -2.5), ("x\n\"y\"\u{0}z", Int.max, .leastNonzeroMagnitude), ("é👩‍👩‍👧", -1, 1e300),
    ("张三", Int.min, -0.0),
    // Longer than a block of the inserter's text arena (64 KiB), and one
    // that fills one exactly.
    (String(repeating: "é", count: 40_000), 7, 2), (String(repeating: "a", count: 65_536), 8, 3),
  ]

  /// Row counts below, at and above a statement's rows, so the last
  /// statement is full, partial or the only one.
  @Test(arguments: [(0, 4), (1, 4), (4, 4), (9, 4), (11, 64), (40, 3)])
  func valuesReadBack(rows: Int, rowsPerStatement: Int) throws {
    let db = try DatabaseQueue()
    try db.write { db in
      for t in ["t", "g"] {
        try db.execute(sql: "CREATE TABLE \(t) (k TEXT PRIMARY KEY NOT NULL, s TEXT, i INTEGER, d REAL NOT NULL)")
      }
      var insert = RowInserter(
        db, table: "t", columns: ["k", "s", "i", "d"], rows: rows, rowsPerStatement: rowsPerStatement)
      for n in 0..<rows {
        let r = Self.awkward[n % Self.awkward.count]
        let key = "k\(n)"
        try insert.text(key)
        try insert.text(r.0)
        try insert.int(r.1)
        try insert.double(r.2)
        try insert.endRow()
        try db.execute(sql: "INSERT INTO g (k, s, i, d) VALUES (?, ?, ?, ?)", arguments: [key, r.0, r.1, r.2])
      }
      insert.finish()
      let sql = "SELECT k, s, i, d, hex(k), hex(s), typeof(s) FROM %@ ORDER BY rowid"
      let ours = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "t"))
      let grdb = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "g"))
      #expect(ours.count == rows && ours == grdb)
    }
  }

  /// Parts bound joined are the joined string bound: as a C string, so a
  /// NUL byte in a part ends the text there.
  @Test func joinedPartsReadBackAsTheJoinedString() throws {
    let lists: [[String]] = [
      [], [""], ["", ""], ["vip"], ["vip", "skin_booster_due_30d", "张三"], ["a\u{0}b", "c"], ["a", "\u{0}", "c"],
      [String(repeating: "x", count: 70_000), "y"],
    ]
    let db = try DatabaseQueue()
    try db.write { db in
      for t in ["t", "g"] { try db.execute(sql: "CREATE TABLE \(t) (k INTEGER PRIMARY KEY, s TEXT)") }
      var insert = RowInserter(db, table: "t", columns: ["k", "s"], rows: lists.count * 3, rowsPerStatement: 5)
      for (n, separator) in [(0, UInt8(10)), (1, 44), (2, 0)] {
        for (i, parts) in lists.enumerated() {
          let k = n * lists.count + i
          try insert.int(k)
          try insert.text(joining: parts, separator: separator)
          try insert.endRow()
          let joined = parts.joined(separator: String(UnicodeScalar(separator)))
          try db.execute(sql: "INSERT INTO g (k, s) VALUES (?, ?)", arguments: [k, joined])
        }
      }
      insert.finish()
      let sql = "SELECT k, hex(s), typeof(s) FROM %@ ORDER BY k"
      let ours = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "t"))
      let grdb = try Row.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: "g"))
      #expect(ours.count == lists.count * 3 && ours == grdb)
    }
  }

  @Test func aConstraintIsAnErrorAndTheInserterGoesOn() throws {
    let db = try DatabaseQueue()
    try db.write { db in
      try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY NOT NULL)")
      var insert = RowInserter(db, table: "t", columns: ["k"], rows: 6, rowsPerStatement: 2)
      func row(_ k: String) throws {
        try insert.text(k)
        try insert.endRow()
      }
      try row("a")
      try row("b")
      try row("c")
      // The second statement repeats a key: an error, none of its rows kept.
      #expect(throws: DatabaseError.self) { try row("a") }
      try row("d")
      try row("e")
      insert.finish()
      #expect(try String.fetchAll(db, sql: "SELECT k FROM t ORDER BY k") == ["a", "b", "d", "e"])
    }
  }
}
