import Foundation
import GRDB

/// What report.html shows of earlier scheduled runs, read from
/// history.sqlite: the previous run's customers (for the migration
/// matrices) and segment sizes over the last runs.
public struct ReportHistory: Sendable {
  /// The previous succeeded run whose customers are still recorded.
  var previousRunID: String?
  var previousAsOf: String?
  var previousCustomers: [String: (segment: String?, tier: Int?)]?
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

  static func load(_ db: any DatabaseReader, runID: String) throws -> ReportHistory {
    var h = try loadRuns(db, runID: runID)
    h.predictionChecks = try PredictionChecks.all(db, before: runID)
    return h
  }

  static func loadRuns(_ db: any DatabaseReader, runID: String) throws -> ReportHistory {
    try db.read { db in
      var h = ReportHistory()
      let runs = try Row.fetchAll(
        db,
        sql: """
          SELECT r.id AS id, r.as_of AS as_of, EXISTS(SELECT 1 FROM run_customers c WHERE c.run_id = r.id) AS kept
          FROM runs r WHERE r.status = 'succeeded' AND r.id < ? ORDER BY r.id
          """, arguments: [runID])
      let kept = runs.filter { ($0["kept"] as Int?) == 1 }
      if let last = kept.last {
        let id: String = last["id"]
        h.previousRunID = id
        h.previousAsOf = last["as_of"]
        var map: [String: (segment: String?, tier: Int?)] = [:]
        let rows = try Row.fetchCursor(
          db, sql: "SELECT customer_id, segment, tier FROM run_customers WHERE run_id = ?", arguments: [id])
        while let r = try rows.next() { map[r["customer_id"]] = (r["segment"], r["tier"]) }
        h.previousCustomers = map
      }
      for run in kept.suffix(runsShown) {
        let id: String = run["id"]
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
