import Foundation
import GRDB
import Testing

@testable import Koi

@Suite struct RunHistoryTests {
  let dir = TemporaryDirectory()

  func manifest(customers: Int) throws -> RunManifest {
    let json = """
      {"koi_version":"0","command":"score","started_at":"2026-01-01T02:00:00Z","finished_at":"2026-01-01T02:00:05Z",
       "input":{"path":"t.csv","sha256":"ab","bytes":1,"encoding":"utf8","encoding_detected":false,"columns":{}},
       "as_of":"2026-01-01","as_of_source":"option","rows":{"read":3,"used":3,"rejected":0,"blank_lines":0,"rejected_by_reason":{}},
       "customers":\(customers),"categories":1,"stages":["rfm"],"options":{},"seconds":{"total":1.5},"outputs":[],"warnings":[]}
      """
    return try JSONDecoder.koi.decode(RunManifest.self, from: Data(json.utf8))
  }

  @Test func tierMatrixAppearsWhenBothRunsHaveTiers() throws {
    let h = try RunHistory(path: dir.path("history.sqlite"))
    try h.begin(id: "a", asOf: "2026-01-01", startedAt: "2026-01-01T02:00:00Z", inputPath: "t.csv")
    try h.succeed(
      id: "a", manifest: manifest(customers: 3), customerIDs: ["x", "y", "z"],
      segments: ["loyal", "champions", "lost"], tiers: [1, 2, 2])
    try h.begin(id: "b", asOf: "2026-01-02", startedAt: "2026-01-02T02:00:00Z", inputPath: "t.csv")
    try h.succeed(
      id: "b", manifest: manifest(customers: 3), customerIDs: ["x", "y", "w"],
      segments: ["at_risk", "champions", "new_customers"], tiers: [1, 3, 4])
    let d = try RunDiff(from: "a", to: "b", history: h)
    #expect(d.segments.total == 4)
    #expect(d.movedIntoAtRisk == [RunDiff.Move(customerID: "x", from: "loyal", to: "at_risk")])
    let t = try #require(d.tiers)
    #expect(
      t.labels == [
        "savvy_price_sensitive", "savvy_quality_focused", "novice_crowd_follower", "novice_deal_seeker", "absent",
      ])
    #expect(t.total == 4)
    #expect(t.counts[1][2] == 1)  // y: tier 2 → 3
    #expect(t.counts[1][4] == 1)  // z: gone
    #expect(t.counts[4][3] == 1)  // w: new, tier 4
    #expect(try h.runs().map(\.status) == ["succeeded", "succeeded"])
    // Reopening applies no migration twice.
    #expect(try RunHistory(path: dir.path("history.sqlite")).runs().count == 2)
  }

  /// A history.sqlite written before RunHistory used GRDB records: the v1
  /// schema exactly as its migration created it (statements copied from
  /// that code), GRDB's migration table, and rows with every nullable
  /// column null and set. It opens without a migration, reads through the
  /// records, takes new runs, and keeps its schema.
  @Test func aHistoryWrittenWithTheV1SchemaReadsAndWrites() throws {
    let path = dir.path("history.sqlite")
    do {
      let q = try DatabaseQueue(path: path)
      try q.write { db in
        try db.execute(
          sql: """
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1: runs and customer segments');
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
            INSERT INTO runs VALUES ('b', '2026-01-02', '2026-01-02T02:00:00Z', '2026-01-02T02:00:07Z', 'succeeded',
              '/in/t.csv', 'cd', 5, 4, 1, 2, '{"total":2.5}', NULL);
            INSERT INTO runs VALUES ('a', '2026-01-01', '2026-01-01T02:00:00Z', '2026-01-01T02:00:01Z', 'failed',
              '/in/t.csv', NULL, NULL, NULL, NULL, NULL, NULL, 'disk full');
            INSERT INTO runs VALUES ('c', '2026-01-03', '2026-01-03T02:00:00Z', NULL, 'running',
              '/in/t.csv', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            INSERT INTO run_customers VALUES ('b', 'x', 'loyal', 2), ('b', 'y', NULL, NULL);
            """)
      }
    }
    func schema() throws -> [Row] {
      try DatabaseQueue(path: path).read {
        try Row.fetchAll($0, sql: "SELECT type, name, sql FROM sqlite_master ORDER BY name")
      }
    }
    let before = try schema()
    let pageSize = try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "PRAGMA page_size") }
    let h = try RunHistory(path: path)
    #expect(
      try h.runs() == [
        RunRecord(
          id: "a", asOf: "2026-01-01", startedAt: "2026-01-01T02:00:00Z", finishedAt: "2026-01-01T02:00:01Z",
          status: "failed", inputPath: "/in/t.csv", message: "disk full"),
        RunRecord(
          id: "b", asOf: "2026-01-02", startedAt: "2026-01-02T02:00:00Z", finishedAt: "2026-01-02T02:00:07Z",
          status: "succeeded", inputPath: "/in/t.csv", inputSHA256: "cd", rowsRead: 5, rowsUsed: 4,
          rowsRejected: 1, customers: 2, seconds: "{\"total\":2.5}"),
        RunRecord(
          id: "c", asOf: "2026-01-03", startedAt: "2026-01-03T02:00:00Z", status: "running", inputPath: "/in/t.csv"),
      ])
    let customers = try h.customers(ofRun: "b")
    #expect(customers.count == 2)
    #expect(customers["x"]?.segment == "loyal" && customers["x"]?.tier == 2)
    #expect(customers["y"].map { $0.segment == nil && $0.tier == nil } == true)

    try h.abandonStale()
    try h.begin(id: "d", asOf: "2026-01-04", startedAt: "2026-01-04T02:00:00Z", inputPath: "t.csv")
    try h.succeed(id: "d", manifest: manifest(customers: 1), customerIDs: ["x"], segments: ["champions"], tiers: nil)
    try h.fail(id: "b", message: "published late", finishedAt: "2026-01-04T03:00:00Z")
    let runs = try h.runs()
    #expect(runs.map(\.status) == ["failed", "failed", "abandoned", "succeeded"])
    #expect(
      runs[1].message == "published late" && runs[1].finishedAt == "2026-01-04T03:00:00Z" && runs[1].rowsRead == 5)
    #expect(
      runs[3]
        == RunRecord(
          id: "d", asOf: "2026-01-04", startedAt: "2026-01-04T02:00:00Z", finishedAt: "2026-01-01T02:00:05Z",
          status: "succeeded", inputPath: "t.csv", inputSHA256: "ab", rowsRead: 3, rowsUsed: 3, rowsRejected: 0,
          customers: 1, seconds: "{\"total\":1.5}", segmentSizes: "{\"champions\":1}"))
    #expect(try h.customers(ofRun: "b").isEmpty)
    let d = try h.customers(ofRun: "d")
    #expect(d.count == 1 && d["x"]?.segment == "champions" && d["x"]?.tier == nil)
    // The v1 tables are as they were but for the v2 migration's tags column
    // and the v4 migration's segment sizes; the v3 migration adds the
    // prediction tables.
    let after = try schema()
    let v3 = ["run_predictions", "prediction_checks", "sqlite_autoindex_prediction_checks_1"]
    let altered = ["run_customers", "runs"]
    #expect(
      after.filter { !altered.contains($0["name"] as String? ?? "") && !v3.contains($0["name"] as String? ?? "") }
        == before.filter { !altered.contains($0["name"] as String? ?? "") })
    #expect(v3.allSatisfy { name in after.contains { $0["name"] == name } })
    func columns(_ table: String) throws -> [String] {
      try DatabaseQueue(path: path).read {
        try Row.fetchAll($0, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }
      }
    }
    #expect(try columns("run_customers") == ["run_id", "customer_id", "segment", "tier", "tags"])
    #expect(
      try columns("runs") == [
        "id", "as_of", "started_at", "finished_at", "status", "input_path", "input_sha256", "rows_read", "rows_used",
        "rows_rejected", "customers", "seconds", "message", "segment_sizes",
      ])
    // An existing file keeps its pages (SQLite's default when it was made);
    // a new one gets `RunHistory.pageSize`.
    #expect(pageSize != RunHistory.pageSize)
    #expect(try h.db.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == pageSize)
    let fresh = try RunHistory(path: dir.path("new.sqlite"))
    #expect(try fresh.db.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == RunHistory.pageSize)
  }

  @Test func warmStartPathReachesTheScoreOptions() throws {
    let c = try ScheduledRunFixture.config(out: dir.path("out"))
    let o = ScheduledRun.scoreOptions(
      c, asOfDay: 20_000, outputDirectory: "p", warmStartModelPath: "/o/runs/r/model.json")
    #expect(o.initModelPath == "/o/runs/r/model.json")
    #expect(o.ingest.asOfDay == 20_000)
    #expect(o.inputPath == ScheduledRunFixture.transactions)
  }
}
