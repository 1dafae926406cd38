import Foundation
import Testing

@testable import Koi

/// Scheduled runs over one generated file and three as-of dates.
@Suite struct ScheduledRunTests {
  let dir = TemporaryDirectory()
  var out: String { dir.path("out") }

  func run(_ asOf: String, hooks: ScheduledRun.Hooks = .init(), keep: Int = 5, exports: String = "") throws
    -> ScheduledRunResult
  {
    var c = try ScheduledRunFixture.config(out: out, extra: "runs_to_keep = \(keep)", exports: exports)
    c.asOf = .date(DayNumber.parse(asOf) ?? 0)
    return try ScheduledRun.run(c, hooks: hooks)
  }

  func latestTarget() throws -> String {
    try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest")
  }

  @Test func threeScheduledRunsKeepHistoryLatestAndWarmStart() throws {
    var results: [ScheduledRunResult] = []
    for d in ScheduledRunFixture.asOfDates { results.append(try run(d)) }
    let ids = results.map(\.runID)
    #expect(ids == ids.sorted())
    #expect(Set(ids).count == 3)
    #expect(try latestTarget() == "runs/" + ids[2])

    // Warm start: each run is handed the previous run's model.
    #expect(results[0].warmStartModelPath == nil)
    #expect(results[1].warmStartModelPath == out + "/runs/\(ids[0])/model.json")
    #expect(results[2].warmStartModelPath == out + "/runs/\(ids[1])/model.json")

    let history = try RunHistory(path: out + "/history.sqlite")
    let runs = try history.runs()
    #expect(runs.map(\.id) == ids)
    #expect(runs.map(\.status) == ["succeeded", "succeeded", "succeeded"])
    #expect(runs.map(\.asOf) == ScheduledRunFixture.asOfDates)
    for (r, res) in zip(runs, results) {
      let m = res.scoring.manifest
      #expect(r.customers == m.customers)
      #expect(r.rowsRead == m.rows.read && r.rowsUsed == m.rows.used && r.rowsRejected == m.rows.rejected)
      #expect(r.inputSHA256 == m.input.sha256)
      #expect(r.seconds?.contains("\"total\"") == true)
      #expect(m.command == "run")
    }
    // Later as-of dates see more customers.
    #expect(runs[0].customers! < runs[2].customers!)

    // Migration matrix: every customer of either run counted once.
    let d = try RunDiff(from: ids[1], to: ids[2], history: history)
    let a = try history.customers(ofRun: ids[1]), b = try history.customers(ofRun: ids[2])
    #expect(d.segments.total == Set(a.keys).union(b.keys).count)
    let absent = d.segments.labels.count - 1
    #expect(d.segments.counts[absent].reduce(0, +) == b.count - a.count)  // customers new in run 3
    // Tier matrix: the same customers as the segment matrix.
    #expect(d.tiers?.total == d.segments.total)
    let risk = Set(RunDiff.atRiskSegments.map(\.rawValue))
    for m in d.movedIntoAtRisk {
      #expect(risk.contains(m.to) && !risk.contains(m.from))
      #expect(a[m.customerID]?.segment == m.from && b[m.customerID]?.segment == m.to)
    }

    // Exports: contact cap respected across the lists of the run.
    var perCustomer: [String: Int] = [:]
    for kind in CampaignListKind.allCases {
      let data = try Data(contentsOf: URL(fileURLWithPath: out + "/latest/exports/\(kind.rawValue).json"))
      let list = try JSONDecoder.koi.decode(CampaignList.self, from: data)
      #expect(list.entries.map(\.priority) == list.entries.map(\.priority).sorted(by: >))
      for e in list.entries { perCustomer[e.customerID, default: 0] += 1 }
    }
    #expect(!perCustomer.isEmpty)
    #expect(perCustomer.values.allSatisfy { $0 <= 2 })
  }

  @Test func aFailedRunLeavesLatestOnThePreviousRun() throws {
    let first = try run("2025-01-01")
    struct Injected: Error {}
    var hooks = ScheduledRun.Hooks()
    hooks.beforeRepoint = { throw Injected() }
    #expect(throws: Injected.self) { try run("2025-04-01", hooks: hooks) }
    #expect(try latestTarget() == "runs/" + first.runID)
    // Everything under latest is complete: run.json is written last.
    #expect(FileManager.default.fileExists(atPath: out + "/latest/run.json"))
    let left = try FileManager.default.contentsOfDirectory(atPath: out + "/runs").filter { $0.hasPrefix(".") }
    #expect(left.isEmpty)
    let history = try RunHistory(path: out + "/history.sqlite")
    let runs = try history.runs()
    #expect(runs.map(\.status) == ["succeeded", "failed"])
    // It had recorded its customers before the failure; a failed run keeps none.
    #expect(try history.customers(ofRun: runs[1].id).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: out + "/runs/" + runs[1].id))
    // The next run warm-starts from the last good run, not the failed one.
    let next = try run("2025-07-01")
    #expect(next.warmStartModelPath == out + "/runs/\(first.runID)/model.json")
    #expect(try latestTarget() == "runs/" + next.runID)
  }

  @Test func aKilledRunIsAbandonedAndItsLeftoversRemoved() throws {
    let first = try run("2025-01-01")
    // What a kill -9 between start and repoint leaves: a partial directory
    // and a history row still "running".
    try FileManager.default.createDirectory(atPath: out + "/runs/.partial-x", withIntermediateDirectories: true)
    try RunHistory(path: out + "/history.sqlite").begin(
      id: "x", asOf: "2025-04-01", startedAt: "2099-01-01T00:00:00Z", inputPath: "t")
    #expect(try latestTarget() == "runs/" + first.runID)
    _ = try run("2025-04-01")
    #expect(!FileManager.default.fileExists(atPath: out + "/runs/.partial-x"))
    let runs = try RunHistory(path: out + "/history.sqlite").runs()
    #expect(runs.first { $0.id == "x" }?.status == "abandoned")
  }

  /// What a kill between repointing `latest` and recording success left
  /// with Koi before the history became the commit point: the published
  /// run `running` (or, after the next run, `abandoned`) with no customer
  /// rows. The next run records it from its directory.
  @Test(arguments: ["running", "abandoned"])
  func aPublishedButUnrecordedRunIsRecoveredFromItsDirectory(status: String) throws {
    _ = try run("2025-01-01")
    let second = try run("2025-04-01")
    let history = try RunHistory(path: out + "/history.sqlite")
    func rows(_ id: String) throws -> [String: String] {
      try history.customers(ofRun: id).mapValues { "\($0.segment ?? "-") \($0.tier.map(String.init) ?? "-")" }
    }
    let recorded = try rows(second.runID)
    let recordedTags = try #require(try history.tagsByID(ofRun: second.runID))
    let record = try #require(try history.runs().last)
    try history.db.write { db in
      try db.execute(
        sql: "UPDATE runs SET status = ?, finished_at = NULL, customers = NULL WHERE id = ?",
        arguments: [status, second.runID])
      try db.execute(sql: "DELETE FROM run_customers WHERE run_id = ?", arguments: [second.runID])
    }
    #expect(try latestTarget() == "runs/" + second.runID)

    let third = try run("2025-07-01")
    let r = try #require(try history.runs().first { $0.id == second.runID })
    #expect(r.status == "succeeded")
    #expect(r.customers == record.customers && r.rowsRead == record.rowsRead && r.finishedAt == record.finishedAt)
    #expect(r.message?.contains("recorded by a later run") == true)
    #expect(try rows(second.runID) == recorded)
    // Its tags too (from customers.jsonl), so the third run's tag changes compare with it.
    #expect(try history.tagsByID(ofRun: second.runID) == recordedTags)
    #expect(third.scoring.manifest.tagChanges?.previousRun == second.runID)
    #expect(recorded.count == record.customers)
    #expect(third.warmStartModelPath == out + "/runs/\(second.runID)/model.json")
    #expect(try latestTarget() == "runs/" + third.runID)
    #expect(try RunDiff(from: second.runID, to: third.runID, history: history).segments.total > 0)
  }

  @Test func aSecondRunOnTheSameOutputIsRefused() throws {
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let held = try RunLock(directory: out)
    #expect(throws: RunLockedError.self) { try run("2025-01-01") }
    withExtendedLifetime(held) {}
  }

  @Test func onlyTheNewestRunsAreKept() throws {
    var ids: [String] = []
    for d in ScheduledRunFixture.asOfDates { ids.append(try run(d, keep: 2).runID) }
    #expect(ScheduledRun.runDirectories(in: out + "/runs") == Array(ids.suffix(2)))
    let history = try RunHistory(path: out + "/history.sqlite")
    #expect(try history.runs().count == 3)
    #expect(try history.customers(ofRun: ids[0]).isEmpty)
  }

  @Test func hashedIDsInExports() throws {
    let r = try run("2025-07-01", exports: "hash_ids_salt = \"s3cret\"")
    let data = try Data(contentsOf: URL(fileURLWithPath: r.runDirectory + "/exports/win_back.json"))
    let list = try JSONDecoder.koi.decode(CampaignList.self, from: data)
    #expect(list.ids == "hmac-sha256-16")
    let raw = Set(r.scoring.ledger.customerIDs)
    let p = Pseudonymizer(salt: "s3cret")
    let expected = Set(raw.map(p.pseudonym))
    #expect(!list.entries.isEmpty)
    for e in list.entries {
      #expect(!raw.contains(e.customerID))
      #expect(expected.contains(e.customerID))
    }
  }
}
