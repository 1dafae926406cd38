import Foundation
import GRDB
import Testing

@testable import Koi

/// A real `koi run` killed with SIGKILL while it writes: the history, the
/// run directories and `latest` agree again after the next run, and no
/// published run loses its customer rows.
@Suite struct KilledRunTests {
  let dir = TemporaryDirectory()

  @Test func aKilledChildLeavesLatestOnThePreviousRun() throws {
    var g = GeneratorOptions()
    g.customers = 5_000
    _ = try TransactionGenerator.generate(g, outputDirectory: dir.path("data"))
    let config = try dir.write(
      "koi.toml",
      """
      output_directory = "out"
      as_of = 2025-07-01
      [input]
      path = "data/transactions.csv"
      """)
    let first = try EndToEndTests().koi(["run", "--config", config, "--quiet"])
    #expect(first.status == 0, "\(first.stderr)")
    let out = dir.path("out")
    let before = try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest")

    let p = Process()
    p.executableURL = EndToEndTests.koiBinary
    p.arguments = ["run", "--config", config, "--quiet", "--as-of", "2025-10-01"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Kill it as soon as it has started writing its run directory.
    let deadline = Date().addingTimeInterval(20)
    var sawPartial = false
    while p.isRunning && Date() < deadline {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: out + "/runs")) ?? []
      if names.contains(where: { $0.hasPrefix(".partial-") }) { sawPartial = true; break }
      usleep(500)
    }
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    try #require(sawPartial, "the run finished before it could be killed")

    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest") == before)
    let underLatest = try FileManager.default.contentsOfDirectory(atPath: out + "/latest")
    #expect(underLatest.allSatisfy { !$0.hasPrefix(".") })
    #expect(underLatest.contains("run.json"))

    // The lock died with the process: the next run goes ahead and marks the killed one abandoned.
    let next = try EndToEndTests().koi(["run", "--config", config, "--quiet", "--as-of", "2025-10-01"])
    #expect(next.status == 0, "\(next.stderr)")
    let statuses = try RunHistory(path: out + "/history.sqlite").runs().map(\.status)
    #expect(statuses == ["succeeded", "abandoned", "succeeded"])
  }

  /// Starts `koi run` with `arguments` (and `environment` added), kills it
  /// with SIGKILL after `delay` seconds or as soon as `until` holds (polled
  /// every 0.2 ms) unless it has finished, and returns whether it was
  /// killed.
  static func killedRun(
    _ arguments: [String], after delay: Double? = nil, until: (() -> Bool)? = nil, environment: [String: String] = [:]
  ) throws -> Bool {
    let p = Process()
    p.executableURL = EndToEndTests.koiBinary
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    if delay != nil || until != nil {
      let deadline = Date().addingTimeInterval(delay ?? 60)
      while p.isRunning && Date() < deadline && !(until?() ?? false) { usleep(200) }
      if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }
    p.waitUntilExit()
    return p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL
  }

  /// What must hold whenever no run is in progress, after a killed run has
  /// been followed by a successful one: every run directory is a succeeded
  /// run, `latest` is the newest, and every succeeded run still on disk has
  /// one history row per customer (those deleted by runs_to_keep have none).
  static func expectConsistent(out: String, keep: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws
  {
    let history = try RunHistory(path: out + "/history.sqlite")
    let runs = try history.runs()
    #expect(!runs.contains { $0.status == "running" }, "\(runs.map(\.status))", sourceLocation: sourceLocation)
    let entries = try FileManager.default.contentsOfDirectory(atPath: out + "/runs")
    #expect(entries.allSatisfy { !$0.hasPrefix(".") }, "leftovers: \(entries)", sourceLocation: sourceLocation)
    let succeeded = runs.filter { $0.status == "succeeded" }
    // Only succeeded runs keep predictions for a later check.
    let predicting = try history.db.read {
      try String.fetchAll($0, sql: "SELECT DISTINCT run_id FROM run_predictions")
    }
    #expect(
      Set(predicting).isSubset(of: succeeded.map(\.id)), "predictions of runs that did not succeed: \(predicting)",
      sourceLocation: sourceLocation)
    let onDisk = Set(entries)
    #expect(
      onDisk.isSubset(of: succeeded.map(\.id)), "a run directory the history does not call succeeded",
      sourceLocation: sourceLocation)
    #expect(onDisk.count <= keep, sourceLocation: sourceLocation)
    let newest = try #require(succeeded.last, sourceLocation: sourceLocation)
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest") == "runs/" + newest.id,
      sourceLocation: sourceLocation)
    for r in succeeded {
      let rows = try history.customers(ofRun: r.id)
      if onDisk.contains(r.id) {
        let lines = try String(contentsOfFile: out + "/runs/\(r.id)/customers.jsonl", encoding: .utf8).split(
          separator: "\n"
        ).count
        #expect(
          rows.count == lines && r.customers == lines, "run \(r.id): \(rows.count) rows, \(lines) customers",
          sourceLocation: sourceLocation)
      } else {
        #expect(rows.isEmpty, "run \(r.id) was deleted but kept its rows", sourceLocation: sourceLocation)
      }
    }
  }

  /// Kills a real `koi run` at each step that leaves a different state
  /// (`ScheduledRun.Checkpoint`, via KOI_TEST_KILL_AT), then runs again.
  @Test(arguments: ScheduledRun.Checkpoint.allCases)
  func aKillAtEveryStepIsReconciledByTheNextRun(at point: ScheduledRun.Checkpoint) throws {
    let keep = 2
    let config = try dir.write(
      "koi.toml",
      """
      output_directory = "out"
      as_of = 2025-01-01
      runs_to_keep = \(keep)
      [input]
      path = "\(ScheduledRunFixture.transactions)"
      """)
    let out = dir.path("out")
    func run(_ asOf: String) throws -> ScheduledRunResult {
      var c = try RunConfig.load(path: config)
      c.asOf = .date(DayNumber.parse(asOf) ?? 0)
      return try ScheduledRun.run(c)
    }
    _ = try run("2025-01-01")
    let second = try run("2025-04-01")
    let killed = try Self.killedRun(
      ["run", "--config", config, "--quiet", "--as-of", "2025-07-01"],
      environment: ["KOI_TEST_KILL_AT": point.rawValue])
    try #require(killed, "koi run was not killed at \(point)")
    let history = try RunHistory(path: out + "/history.sqlite")
    let x = try #require(try history.runs().last)
    #expect(x.id != second.runID)
    let recorded = ![.begun, .written].contains(point)
    #expect(x.status == (recorded ? "succeeded" : "running"))

    // Right after the kill, whatever `latest` shows is a recorded run with all its rows.
    let target = try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest")
    let shown = String(target.dropFirst("runs/".count))
    #expect(shown == ([.published, .pruned].contains(point) ? x.id : second.runID))
    let shownRecord = try #require(try history.runs().first { $0.id == shown })
    #expect(shownRecord.status == "succeeded")
    #expect(try history.customers(ofRun: shown).count == shownRecord.customers)

    // The next run finishes the killed one's publication or abandons it, and warm-starts from the newest.
    let next = try run("2025-10-01")
    let after = try history.runs()
    #expect(after.first { $0.id == x.id }?.status == (recorded ? "succeeded" : "abandoned"))
    #expect(next.warmStartModelPath == out + "/runs/\(recorded ? x.id : second.runID)/model.json")
    try Self.expectConsistent(out: out, keep: keep)
    if recorded {
      // `koi diff` takes the killed run as `previous`.
      let diff = try EndToEndTests().koi(["diff", "previous", "latest", "--out", out, "--json"])
      #expect(diff.status == 0, "\(diff.stderr)")
      #expect(diff.stdout.contains("\"from\" : \"\(x.id)\""))
    }
  }

  /// SIGKILL at delays spread over a whole run, and at the moments its
  /// files appear in the last few percent of it (the partial directory, the
  /// run directory, `latest` repointed), each followed by a successful run:
  /// the history and the run directories agree every time, and the killed
  /// runs that got recorded keep all their customer rows.
  @Test func killsSpreadOverARunNeverLoseHistory() throws {
    var g = GeneratorOptions()
    g.customers = 1_000
    _ = try TransactionGenerator.generate(g, outputDirectory: dir.path("data"))
    let keep = 3
    let config = try dir.write(
      "koi.toml",
      """
      output_directory = "out"
      as_of = 2025-07-01
      runs_to_keep = \(keep)
      [input]
      path = "data/transactions.csv"
      """)
    let out = dir.path("out")
    let arguments = ["run", "--config", config, "--quiet"]
    let start = Date()
    #expect(try !Self.killedRun(arguments))
    let duration = Date().timeIntervalSince(start)

    let fm = FileManager.default
    func entries() -> [String] { (try? fm.contentsOfDirectory(atPath: out + "/runs")) ?? [] }
    func latest() -> String { (try? fm.destinationOfSymbolicLink(atPath: out + "/latest")) ?? "" }
    var moments: [(String, Double?, (() -> Bool)?)] = [0.15, 0.4, 0.65, 0.8, 0.9, 0.97].map {
      ("\($0) of a run", duration * $0, nil)
    }
    moments.append(("the partial directory appears", nil, { entries().contains { $0.hasPrefix(".partial-") } }))
    var runsBefore = Set(entries()), latestBefore = latest()
    moments.append(
      ("the run directory appears", nil, { !Set(entries()).filter { !$0.hasPrefix(".") }.isSubset(of: runsBefore) }))
    moments.append(("latest is repointed", nil, { latest() != latestBefore }))

    var outcomes: [String: Int] = [:]
    for (moment, delay, until) in moments {
      runsBefore = Set(entries())
      latestBefore = latest()
      let before = Set(try RunHistory(path: out + "/history.sqlite").runs().map(\.id))
      let killed = try Self.killedRun(arguments, after: delay, until: until)
      let history = try RunHistory(path: out + "/history.sqlite")
      let x = try history.runs().first { !before.contains($0.id) }
      outcomes[killed ? "killed, \(x?.status ?? "not begun")" : "finished", default: 0] += 1
      #expect(try !Self.killedRun(arguments), "the run after a kill when \(moment)")
      try Self.expectConsistent(out: out, keep: keep)
      if let x {
        // Recorded before the kill: still succeeded; not recorded: abandoned.
        let status = try history.runs().first { $0.id == x.id }?.status
        #expect(
          status == (x.status == "running" ? "abandoned" : "succeeded"),
          "kill when \(moment): \(x.status) → \(status ?? "-")")
      }
    }
    // The kills hit both sides of the commit point.
    #expect(outcomes["killed, running", default: 0] > 0, "\(outcomes)")
    #expect(outcomes["killed, succeeded", default: 0] > 0, "\(outcomes)")
  }
}
