import Foundation
import Testing
@testable import Koi

/// A real `koi run` killed with SIGKILL while it writes.
@Suite struct KilledRunTests {
  let dir = TemporaryDirectory()

  @Test func aKilledChildLeavesLatestOnThePreviousRun() throws {
    var g = GeneratorOptions()
    g.customers = 5_000
    _ = try TransactionGenerator.generate(g, outputDirectory: dir.path("data"))
    let config = try dir.write("koi.toml", """
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
}
