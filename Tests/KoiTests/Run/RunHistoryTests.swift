import Foundation
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
    return try JSONDecoder().decode(RunManifest.self, from: Data(json.utf8))
  }

  @Test func tierMatrixAppearsWhenBothRunsHaveTiers() throws {
    let h = try RunHistory(path: dir.path("history.sqlite"))
    try h.begin(id: "a", asOf: "2026-01-01", startedAt: "2026-01-01T02:00:00Z", inputPath: "t.csv")
    try h.succeed(id: "a", manifest: manifest(customers: 3), customerIDs: ["x", "y", "z"],
                  segments: ["loyal", "champions", "lost"], tiers: [1, 2, 2])
    try h.begin(id: "b", asOf: "2026-01-02", startedAt: "2026-01-02T02:00:00Z", inputPath: "t.csv")
    try h.succeed(id: "b", manifest: manifest(customers: 3), customerIDs: ["x", "y", "w"],
                  segments: ["at_risk", "champions", "new_customers"], tiers: [1, 3, 4])
    let d = try RunDiff(from: "a", to: "b", history: h)
    #expect(d.segments.total == 4)
    #expect(d.movedIntoAtRisk == [RunDiff.Move(customerID: "x", from: "loyal", to: "at_risk")])
    let t = try #require(d.tiers)
    #expect(t.labels == ["savvy_price_sensitive", "savvy_quality_focused", "novice_crowd_follower", "novice_deal_seeker", "absent"])
    #expect(t.total == 4)
    #expect(t.counts[1][2] == 1)  // y: tier 2 → 3
    #expect(t.counts[1][4] == 1)  // z: gone
    #expect(t.counts[4][3] == 1)  // w: new, tier 4
    #expect(try h.runs().map(\.status) == ["succeeded", "succeeded"])
    // Reopening applies no migration twice.
    #expect(try RunHistory(path: dir.path("history.sqlite")).runs().count == 2)
  }

  @Test func warmStartPathReachesTheScoreOptions() throws {
    let c = try ScheduledRunFixture.config(out: dir.path("out"))
    let o = ScheduledRun.scoreOptions(c, asOfDay: 20_000, outputDirectory: "p", warmStartModelPath: "/o/runs/r/model.json")
    #expect(o.initModelPath == "/o/runs/r/model.json")
    #expect(o.ingest.asOfDay == 20_000)
    #expect(o.inputPath == ScheduledRunFixture.transactions)
  }
}
