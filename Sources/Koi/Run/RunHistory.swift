import Foundation
import GRDB

/// One run in `history.sqlite`.
public struct RunRecord: Sendable, Equatable, Codable {
  public var id: String
  public var asOf: String
  public var startedAt: String
  public var finishedAt: String?
  /// running, succeeded, failed, abandoned (killed: found still running by
  /// the next run, which holds the lock).
  public var status: String
  public var inputPath: String
  public var inputSHA256: String?
  public var rowsRead: Int?
  public var rowsUsed: Int?
  public var rowsRejected: Int?
  public var customers: Int?
  /// JSON object: seconds per step, as in run.json.
  public var seconds: String?
  public var message: String?

  enum CodingKeys: String, CodingKey {
    case id
    case asOf = "as_of"
    case startedAt = "started_at"
    case finishedAt = "finished_at"
    case status
    case inputPath = "input_path"
    case inputSHA256 = "input_sha256"
    case rowsRead = "rows_read"
    case rowsUsed = "rows_used"
    case rowsRejected = "rows_rejected"
    case customers, seconds, message
  }
}

/// The run history: `OUT/history.sqlite`, one row per run and, for the runs
/// still kept, each customer's segment (and tier once the tier stage
/// lands). Schema changes are GRDB migrations, applied on open.
public final class RunHistory {
  let db: DatabaseQueue

  public init(path: String) throws {
    do {
      db = try DatabaseQueue(path: path)
      try RunHistory.migrator.migrate(db)
    } catch {
      throw OutputError(path: path, message: "cannot open the run history (\(error))")
    }
  }

  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1: runs and customer segments") { db in
      try db.execute(sql: """
        CREATE TABLE runs (
          id TEXT PRIMARY KEY NOT NULL,
          as_of TEXT NOT NULL,
          started_at TEXT NOT NULL,
          finished_at TEXT,
          status TEXT NOT NULL,
          input_path TEXT NOT NULL,
          input_sha256 TEXT,
          rows_read INTEGER, rows_used INTEGER, rows_rejected INTEGER,
          customers INTEGER,
          seconds TEXT,
          message TEXT
        );
        CREATE TABLE run_customers (
          run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
          customer_id TEXT NOT NULL,
          segment TEXT,
          tier INTEGER,
          PRIMARY KEY (run_id, customer_id)
        ) WITHOUT ROWID;
        """)
    }
    // Each customer's tags, the "previous" side of the next run's
    // tag_changes.jsonl: names joined by line feeds (tag names have no
    // control characters, checked at load), "" for none, NULL for runs
    // recorded before this migration.
    m.registerMigration("v2: customer tags") { db in
      try db.execute(sql: "ALTER TABLE run_customers ADD COLUMN tags TEXT")
    }
    return m
  }

  func wrap<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as OutputError { throw e } catch {
      throw OutputError(path: db.path, message: "run history: \(error)")
    }
  }

  /// Marks runs left `running` by a killed process as `abandoned`. Call with
  /// the output lock held, when no run can really be running.
  public func abandonStale() throws {
    try wrap { try db.write { try $0.execute(sql: "UPDATE runs SET status = 'abandoned' WHERE status = 'running'") } }
  }

  public func begin(id: String, asOf: String, startedAt: String, inputPath: String) throws {
    try wrap {
      try db.write {
        try $0.execute(sql: "INSERT INTO runs (id, as_of, started_at, status, input_path) VALUES (?, ?, ?, 'running', ?)",
                       arguments: [id, asOf, startedAt, inputPath])
      }
    }
  }

  /// Marks a run failed and drops any customer rows it recorded (a run that
  /// failed after `succeed`, while being published).
  public func fail(id: String, message: String, finishedAt: String) throws {
    try wrap {
      try db.write {
        try $0.execute(sql: "UPDATE runs SET status = 'failed', message = ?, finished_at = ? WHERE id = ?",
                       arguments: [message, finishedAt, id])
        try $0.execute(sql: "DELETE FROM run_customers WHERE run_id = ?", arguments: [id])
      }
    }
  }

  /// Records a finished run and its customers' segments (and tiers, and
  /// tags) in one transaction.
  public func succeed(
    id: String, manifest: RunManifest, customerIDs: [String], segments: [String?], tiers: [Int?]?, message: String? = nil,
    tags: [[String]]? = nil
  ) throws {
    let seconds = String(decoding: (try? JSONEncoder.koiCompact.encode(manifest.seconds)) ?? Data("{}".utf8), as: UTF8.self)
    try wrap {
      try db.write { db in
        try db.execute(sql: """
          UPDATE runs SET status = 'succeeded', finished_at = ?, input_sha256 = ?, rows_read = ?, rows_used = ?,
            rows_rejected = ?, customers = ?, seconds = ?, message = ? WHERE id = ?
          """, arguments: [manifest.finishedAt, manifest.input.sha256, manifest.rows.read, manifest.rows.used,
                           manifest.rows.rejected, manifest.customers, seconds, message, id])
        let stmt = try db.makeStatement(sql: "INSERT INTO run_customers (run_id, customer_id, segment, tier, tags) VALUES (?, ?, ?, ?, ?)")
        for c in customerIDs.indices {
          try stmt.execute(arguments: [id, customerIDs[c], segments[c], tiers?[c], tags?[c].joined(separator: "\n")])
        }
      }
    }
  }

  /// Drops the per-customer rows of runs whose directories were deleted.
  public func forgetCustomers(ofRuns ids: [String]) throws {
    guard !ids.isEmpty else { return }
    try wrap {
      try db.write { db in
        for id in ids { try db.execute(sql: "DELETE FROM run_customers WHERE run_id = ?", arguments: [id]) }
      }
    }
  }

  /// All runs, oldest first.
  public func runs() throws -> [RunRecord] {
    try wrap {
      try db.read { db in
        try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY started_at, id").map { r in
          RunRecord(
            id: r["id"], asOf: r["as_of"], startedAt: r["started_at"], finishedAt: r["finished_at"],
            status: r["status"], inputPath: r["input_path"], inputSHA256: r["input_sha256"],
            rowsRead: r["rows_read"], rowsUsed: r["rows_used"], rowsRejected: r["rows_rejected"],
            customers: r["customers"], seconds: r["seconds"], message: r["message"])
        }
      }
    }
  }

  /// Each customer's segment and tier in one run.
  public func customers(ofRun id: String) throws -> [String: (segment: String?, tier: Int?)] {
    try wrap {
      try db.read { db in
        var out: [String: (segment: String?, tier: Int?)] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, segment, tier FROM run_customers WHERE run_id = ?", arguments: [id])
        while let r = try rows.next() {
          out[r["customer_id"]] = (r["segment"], r["tier"])
        }
        return out
      }
    }
  }
}

extension RunHistory {
  /// Each customer's tags in one succeeded run, or nil when the run's tags
  /// are not all there: recorded by a Koi before tags were kept, or its
  /// rows dropped with its directory.
  public func tags(ofRun id: String) throws -> [String: [String]]? {
    try wrap {
      try db.read { db in
        let expected = try Int.fetchOne(db, sql: "SELECT customers FROM runs WHERE id = ? AND status = 'succeeded'", arguments: [id])
        guard let expected else { return nil }
        var out: [String: [String]] = [:]
        out.reserveCapacity(expected)
        let rows = try Row.fetchCursor(db, sql: "SELECT customer_id, tags FROM run_customers WHERE run_id = ?", arguments: [id])
        while let r = try rows.next() {
          guard let joined: String = r["tags"] else { return nil }
          out[r["customer_id"]] = joined.isEmpty ? [] : joined.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        return out.count == expected ? out : nil
      }
    }
  }
}

extension JSONEncoder {
  /// Sorted keys, one line: for JSON stored in database columns.
  static var koiCompact: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
  }
}
