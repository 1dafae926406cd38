import Foundation
import GRDB
import GRDBSQLite

/// One run in `history.sqlite`.
public struct RunRecord: Sendable, Equatable, Codable {
  public var id: String
  public var asOf: String
  var startedAt: String
  var finishedAt: String?
  /// running, succeeded, failed, abandoned (killed: found still running by
  /// the next run, which holds the lock).
  public var status: String
  public var inputPath: String
  var inputSHA256: String?
  public var rowsRead: Int?
  public var rowsUsed: Int?
  var rowsRejected: Int?
  public var customers: Int?
  /// JSON object: seconds per step, as in run.json.
  public var seconds: String?
  public var message: String?
  /// JSON object: customers per segment (nil before the `v4` migration).
  var segmentSizes: String?

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
    case segmentSizes = "segment_sizes"
  }
}

/// A row of `runs`: columns are the coding keys.
extension RunRecord: FetchableRecord, PersistableRecord {
  public static var databaseTableName: String { "runs" }
}

/// A row of `run_customers`: one customer's segment and tier in one run
/// (written in bulk by `RunHistory.succeed`).
struct RunCustomerRecord: Decodable, FetchableRecord, TableRecord {
  static let databaseTableName = "run_customers"
  var runID: String
  var customerID: String
  var segment: String?
  var tier: Int?

  enum CodingKeys: String, CodingKey {
    case runID = "run_id"
    case customerID = "customer_id"
    case segment, tier
  }
}

/// The run history: `OUT/history.sqlite`, one row per run and, for the runs
/// still kept, each customer's segment (and tier once the tier stage
/// lands). Schema changes are GRDB migrations, applied on open.
public final class RunHistory {
  let db: DatabaseQueue

  /// Bytes a page of a new history.sqlite. A run adds and reads its
  /// customers' and predictions' rows in bulk (3.7M rows at 10M input
  /// rows): in the sqlite3 shell (3.40) a 10M-row run's rows went into
  /// fresh tables in 2.05–2.27 s with 16 KiB pages against 2.41–3.37 s with
  /// SQLite's default 4 KiB (three runs each), and a second `koi run` on
  /// the 10M-row file spent 3,138 samples in SQLite against 3,586 (one
  /// 1 kHz profile each).
  static let pageSize = 16_384

  public init(path: String) throws {
    do {
      var configuration = Configuration()
      configuration.prepareDatabase { db in
        // Set before the first table is made, so only a new file gets it;
        // an existing one keeps its size (it would take a VACUUM).
        try db.execute(sql: "PRAGMA page_size = \(RunHistory.pageSize)")
      }
      db = try DatabaseQueue(path: path, configuration: configuration)
      try RunHistory.migrator.migrate(db)
    } catch {
      throw OutputError(path: path, message: "cannot open the run history (\(error))")
    }
  }

  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1: runs and customer segments") { db in
      try db.execute(
        sql: """
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
    // Each run's 30-day repurchase predictions, kept until a later run
    // checks them against the purchases of their window, and the checks
    // (`PredictionChecks`; report.html section 7, run.json
    // prediction_checks).
    m.registerMigration("v3: predictions and their checks") { db in
      try db.execute(
        sql: """
          CREATE TABLE run_predictions (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            customer_id TEXT NOT NULL,
            category TEXT NOT NULL,
            probability_30d REAL NOT NULL,
            due_listed INTEGER NOT NULL,
            PRIMARY KEY (run_id, customer_id, category)
          ) WITHOUT ROWID;
          CREATE TABLE prediction_checks (
            run_id TEXT PRIMARY KEY NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            checked_in TEXT NOT NULL,
            as_of TEXT NOT NULL,
            brier REAL NOT NULL,
            check_json TEXT NOT NULL
          );
          """)
    }
    // Each run's customers per segment, for report.html's segment sizes
    // over the last runs: a JSON object (segment → customers, customers
    // without a segment left out), NULL for runs recorded before this
    // migration, whose sizes are counted from run_customers. Counting them
    // there read a 10M-row run's 1.47M rows again, 0.86 s a run (sqlite3
    // 3.40, one query), up to 11 runs a report.
    m.registerMigration("v4: segment sizes") { db in
      try db.execute(sql: "ALTER TABLE runs ADD COLUMN segment_sizes TEXT")
    }
    return m
  }

  func wrap<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as OutputError { throw e } catch {
      throw OutputError(path: db.path, message: "run history: \(error)")
    }
  }

  /// Marks runs left `running` by a killed process as `abandoned`, and drops
  /// the predictions of every run that did not succeed: a run killed after
  /// recording its predictions (2.2M rows at 10M rows) left them for good,
  /// as no check reads an unsuccessful run's. Call with the output lock
  /// held, when no run can really be running.
  func abandonStale() throws {
    let status = Column(RunRecord.CodingKeys.status)
    try wrap {
      try db.writeDeletingChildRows { db in
        _ = try RunRecord.filter(status == "running").updateAll(db, status.set(to: "abandoned"))
        try db.execute(
          sql: "DELETE FROM run_predictions WHERE run_id IN (SELECT id FROM runs WHERE status <> 'succeeded')")
      }
    }
  }

  func begin(id: String, asOf: String, startedAt: String, inputPath: String) throws {
    try wrap {
      try db.write {
        try RunRecord(id: id, asOf: asOf, startedAt: startedAt, status: "running", inputPath: inputPath).insert($0)
      }
    }
  }

  /// Marks a run failed and drops any customer rows it recorded (a run that
  /// failed after `succeed`, while being published).
  public func fail(id: String, message: String, finishedAt: String) throws {
    try wrap {
      try db.write { db in
        if var run = try RunRecord.fetchOne(db, key: id) {
          try run.updateChanges(db) {
            $0.status = "failed"
            $0.message = message
            $0.finishedAt = finishedAt
          }
        }
        try RunHistory.deleteCustomers(ofRun: id, db)
        try db.execute(sql: "DELETE FROM run_predictions WHERE run_id = ?", arguments: [id])
      }
    }
  }

  /// Records a finished run and its customers' segments (and tiers, and
  /// tags) in one transaction.
  public func succeed(
    id: String, manifest: RunManifest, customerIDs: [String], segments: [String?], tiers: [Int?]?,
    message: String? = nil,
    tags: CustomerTags? = nil, order: [Int32]? = nil
  ) throws {
    let seconds = String(
      decoding: (try? JSONEncoder.koiCompact.encode(manifest.seconds)) ?? Data("{}".utf8), as: UTF8.self)
    var sizes: [String: Int] = [:]
    for case let s? in segments { sizes[s, default: 0] += 1 }
    // NULL if it could not be encoded: the report then counts them.
    let segmentSizes = (try? JSONEncoder.koiCompact.encode(sizes)).map { String(decoding: $0, as: UTF8.self) }
    try wrap {
      try db.write { db in
        if var run = try RunRecord.fetchOne(db, key: id) {
          try run.updateChanges(db) {
            $0.status = "succeeded"
            $0.finishedAt = manifest.finishedAt
            $0.inputSHA256 = manifest.input.sha256
            $0.rowsRead = manifest.rows.read
            $0.rowsUsed = manifest.rows.used
            $0.rowsRejected = manifest.rows.rejected
            $0.customers = manifest.customers
            $0.seconds = seconds
            $0.segmentSizes = segmentSizes
            $0.message = message
          }
        }
        // Rows in the key's order (by id bytes), added at the end of the
        // B-tree, many a statement (`RowInserter`).
        var insert = RowInserter(
          db, table: "run_customers", columns: ["run_id", "customer_id", "segment", "tier", "tags"],
          rows: customerIDs.count)
        for c in (order ?? RadixSort.utf8Order(customerIDs)).lazy.map(Int.init) {
          try insert.text(id)
          try insert.text(customerIDs[c])
          try insert.text(segments[c])
          try insert.int(tiers?[c])
          if let tags {
            try insert.text(joining: tags.ids[c].lazy.map { tags.names[Int($0)] }, separator: 10)
          } else {
            try insert.null()
          }
          try insert.endRow()
        }
        insert.finish()
      }
    }
  }

  /// Drops the per-customer rows of runs whose directories were deleted.
  func forgetCustomers(ofRuns ids: [String]) throws {
    guard !ids.isEmpty else { return }
    try wrap {
      try db.writeDeletingChildRows { db in
        for id in ids { try RunHistory.deleteCustomers(ofRun: id, db) }
      }
    }
  }

  /// All runs, oldest first.
  public func runs() throws -> [RunRecord] {
    try wrap {
      try db.read { db in
        try RunRecord.order(Column(RunRecord.CodingKeys.startedAt), Column(RunRecord.CodingKeys.id)).fetchAll(db)
      }
    }
  }

  /// Each customer's segment and tier in one run.
  public func customers(ofRun id: String) throws -> [String: (segment: String?, tier: Int?)] {
    try wrap {
      try db.read { db in
        var out: [String: (segment: String?, tier: Int?)] = [:]
        let rows = try RunCustomerRecord.filter(Column(RunCustomerRecord.CodingKeys.runID) == id).fetchCursor(db)
        while let r = try rows.next() {
          out[r.customerID] = (r.segment, r.tier)
        }
        return out
      }
    }
  }

  static func deleteCustomers(ofRun id: String, _ db: Database) throws {
    _ = try RunCustomerRecord.filter(Column(RunCustomerRecord.CodingKeys.runID) == id).deleteAll(db)
  }
}

extension RunHistory {
  /// The tags of succeeded run `id`'s customers, matched to `customerIDs`
  /// (another run's, in their order), or nil when the run's tags are not
  /// all there: recorded by a Koi before tags were kept, or its rows dropped
  /// with its directory.
  ///
  /// The rows are read in key order and matched by a merge over the ids'
  /// bytes (`KeyOrderMatch`), as the report's history is: read into a
  /// dictionary of the run's 1.47M ids, they took 1,170 samples in a 1 kHz
  /// profile of a second 10M-row `koi run`, and 363 matched in key order.
  ///
  /// - Parameter order: `RadixSort.utf8Order(customerIDs)`, when the caller
  ///   has it.
  func tags(ofRun id: String, customerIDs: [String], order: [Int32]? = nil) throws -> PreviousTags? {
    try wrap {
      try db.read { db in
        let expected = try Int.fetchOne(
          db, sql: "SELECT customers FROM runs WHERE id = ? AND status = 'succeeded'", arguments: [id])
        guard let expected else { return nil }
        var previous = PreviousTags(lists: [[String]?](repeating: nil, count: customerIDs.count), gone: [])
        var match = KeyOrderMatch(ids: customerIDs, order: order)
        var read = 0
        var complete = true
        let rows = try db.makeStatement(
          sql: "SELECT customer_id, tags FROM run_customers WHERE run_id = ? ORDER BY customer_id")
        rows.arguments = [id]
        try rows.forEachRow { st in
          read += 1
          guard complete, sqlite3_column_type(st, 1) != SQLITE_NULL else {
            complete = false
            return
          }
          // Split on the byte: tag names have no control characters.
          let joined = rows.textBytes(1)
          let tags =
            joined.isEmpty
            ? []
            : joined.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
          let key = rows.textBytes(0)
          if let c = match.customer(key) {
            previous.lists[c] = tags
          } else {
            previous.gone.append((String(decoding: key, as: UTF8.self), tags))
          }
        }
        return complete && read == expected ? previous : nil
      }
    }
  }
}

extension DatabaseQueue {
  /// A write transaction with SQLite's foreign-key checks off, for deleting
  /// a run's rows from run_customers and run_predictions in bulk. Deleting
  /// a row that references `runs` cannot break a reference, but with the
  /// checks on SQLite looks up the parent of every deleted row: deleting a
  /// 10M-row run's 2.2M predictions took 3.6–3.9 s with them and 1.0–1.2 s
  /// without (sqlite3 3.40, two runs each). The checks are off for all of
  /// `body`: a row it inserts must reference a run known to be there, and
  /// it must not delete from `runs` (nothing would cascade).
  func writeDeletingChildRows<T>(_ body: (Database) throws -> T) throws -> T {
    try writeWithoutTransaction { db in
      try db.execute(sql: "PRAGMA foreign_keys = OFF")
      defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
      var result: T?
      try db.inTransaction {
        result = try body(db)
        return .commit
      }
      guard let result else { preconditionFailure("a committed transaction ran its body") }
      return result
    }
  }
}
