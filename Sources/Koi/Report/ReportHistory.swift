import Foundation
import GRDB
import GRDBSQLite

/// What report.html shows of earlier scheduled runs, read from
/// history.sqlite: the previous run's customers (for the migration
/// matrices) and segment sizes over the last runs.
public struct ReportHistory: Sendable {
  /// The previous succeeded run whose customers are still recorded.
  var previousRunID: String?
  var previousAsOf: String?
  var previousCustomers: PreviousCustomers?
  /// Earlier runs, oldest first: as-of date and customers per segment.
  var segmentSizes: [(asOf: String, counts: [String: Int])] = []
  /// Earlier runs' predictions checked so far, oldest run first.
  var predictionChecks: [PredictionCheck] = []

  /// At most this many earlier runs in the segment-size chart.
  static let runsShown = 11

  /// Reads the history at `path` (read-only: a report never changes it)
  /// for the run `runID`: the runs before it.
  public static func load(path: String, runID: String) throws -> ReportHistory {
    var config = Configuration()
    config.readonly = true
    do {
      let db = try DatabaseQueue(path: path, configuration: config)
      return try load(db, runID: runID)
    } catch let e as ReportError { throw e } catch {
      throw ReportError(kind: .invalid, path: path, message: "cannot read the run history (\(error))")
    }
  }

  /// - Parameter customerIDs: the customers of the run `runID`, when the
  ///   caller holds it: the previous run's customers are then matched to
  ///   them (`PreviousCustomers.byCustomer`); `order` is
  ///   `RadixSort.utf8Order(customerIDs)`, when the caller has it.
  static func load(
    _ db: any DatabaseReader, runID: String, customerIDs: [String]? = nil, order: [Int32]? = nil
  ) throws -> ReportHistory {
    var h = try loadRuns(db, runID: runID, customerIDs: customerIDs, order: order)
    h.predictionChecks = try PredictionChecks.all(db, before: runID)
    return h
  }

  static func loadRuns(
    _ db: any DatabaseReader, runID: String, customerIDs: [String]?, order: [Int32]? = nil
  ) throws -> ReportHistory {
    try db.read { db in
      var h = ReportHistory()
      // A history not yet migrated to `v4` (`koi report` opens it
      // read-only) has no segment_sizes column.
      let sizes = try db.columns(in: "runs").contains { $0.name == "segment_sizes" } ? "r.segment_sizes" : "NULL"
      let runs = try Row.fetchAll(
        db,
        sql: """
          SELECT r.id AS id, r.as_of AS as_of, \(sizes) AS segment_sizes,
            EXISTS(SELECT 1 FROM run_customers c WHERE c.run_id = r.id) AS kept
          FROM runs r WHERE r.status = 'succeeded' AND r.id < ? ORDER BY r.id
          """, arguments: [runID])
      let kept = runs.filter { ($0["kept"] as Int?) == 1 }
      if let last = kept.last {
        let id: String = last["id"]
        h.previousRunID = id
        h.previousAsOf = last["as_of"]
        let sql = "SELECT customer_id, segment, tier FROM run_customers WHERE run_id = ? ORDER BY customer_id"
        if let customerIDs {
          // In key order, matched to the run's customers without a hash
          // (`KeyOrderMatch`): a dictionary of the previous run's 1.47M
          // customers was most of this load's 2.3 s on a 10M-row run.
          var matched = [PreviousCustomer?](repeating: nil, count: customerIDs.count)
          var match = KeyOrderMatch(ids: customerIDs, order: order)
          let rows = try db.makeStatement(sql: sql)
          rows.arguments = [id]
          try rows.forEachRow { st in
            if let c = match.customer(rows.textBytes(0)) {
              matched[c] = PreviousCustomer(
                segment: sqlite3_column_type(st, 1) == SQLITE_NULL
                  ? nil : String(decoding: rows.textBytes(1), as: UTF8.self),
                tier: sqlite3_column_type(st, 2) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(st, 2)))
            }
          }
          h.previousCustomers = .byCustomer(matched)
        } else {
          var map: [String: PreviousCustomer] = [:]
          let rows = try Row.fetchCursor(db, sql: sql, arguments: [id])
          while let r = try rows.next() {
            map[r["customer_id"]] = PreviousCustomer(segment: r["segment"], tier: r["tier"])
          }
          h.previousCustomers = .byID(map)
        }
      }
      for run in kept.suffix(runsShown) {
        let id: String = run["id"]
        // Recorded with the run since the `v4` migration; counted for
        // runs recorded before it.
        if let json: String = run["segment_sizes"],
          let counts = try? JSONDecoder().decode([String: Int].self, from: Data(json.utf8))
        {
          h.segmentSizes.append((run["as_of"], counts))
          continue
        }
        var counts: [String: Int] = [:]
        for r in try Row.fetchAll(
          db, sql: "SELECT segment, COUNT(*) AS n FROM run_customers WHERE run_id = ? GROUP BY segment", arguments: [id]
        ) {
          if let s: String = r["segment"] { counts[s] = r["n"] }
        }
        h.segmentSizes.append((run["as_of"], counts))
      }
      return h
    }
  }
}

/// A customer of the previous run: its segment and tier.
struct PreviousCustomer: Sendable, Equatable {
  var segment: String?
  var tier: Int?
}

/// The previous run's customers, for the migration matrices: by customer id
/// (a report of a run directory), or matched to the customers of the run
/// being reported, in its order (a run that holds its columns).
enum PreviousCustomers: Sendable {
  case byID([String: PreviousCustomer])
  /// Per customer of the run; nil for a customer new since.
  case byCustomer([PreviousCustomer?])
}
