import Foundation
import Testing

@testable import Koi

/// `koi run`, `init`, `history` and `diff` as a user runs them.
@Suite struct RunCommandTests {
  let dir = TemporaryDirectory()

  func koi(_ arguments: [String]) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments)
  }

  func config() throws -> String {
    let text = RunConfig.exampleTOML
      .replacingOccurrences(of: "path = \"transactions.csv\"", with: "path = \"\(ScheduledRunFixture.transactions)\"")
      .replacingOccurrences(of: "as_of = \"today\"", with: "as_of = 2025-04-01")
    return try dir.write("koi.toml", text)
  }

  @Test func initWritesAConfigThatRuns() throws {
    let p = dir.path("new.toml")
    let r = try koi(["init", p])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try String(contentsOfFile: p, encoding: .utf8) == RunConfig.exampleTOML)
    #expect(try koi(["init", p]).status == 64)
  }

  @Test func runHistoryAndDiff() throws {
    let c = try config()
    let a = try koi(["run", "--config", c, "--quiet"])
    #expect(a.status == 0, "\(a.stderr)")
    let b = try koi(["run", "--config", c, "--quiet", "--as-of", "2025-07-01"])
    #expect(b.status == 0, "\(b.stderr)")
    // Every fact the default tag rules use is produced now.
    #expect(!b.stderr.contains("tag rules"), "\(b.stderr)")
    let h = try koi(["history", "--out", dir.path("out")])
    #expect(h.status == 0)
    #expect(h.stdout.split(separator: "\n").count == 3)
    let d = try koi(["diff", "previous", "latest", "--out", dir.path("out"), "--json"])
    #expect(d.status == 0, "\(d.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any]
    #expect(
      (json?["segments"] as? [String: Any])?["labels"] as? [String] == RFMSegment.allCases.map(\.rawValue) + ["absent"])
    let text = try koi(["diff", "previous", "latest", "--out", dir.path("out")])
    #expect(text.stdout.contains("moved into at-risk segments"))
  }

  @Test func configErrorsExitWithCode2() throws {
    let c = try dir.write("bad.toml", "output_directory = \"out\"\n[input]\npath = \"x.csv\"\nencodign = \"utf8\"\n")
    let r = try koi(["run", "--config", c])
    #expect(r.status == 2)
    #expect(r.stderr.contains("bad.toml: input.encodign: unknown key"))
  }

  @Test func aSecondRunExitsWithCode5() throws {
    let c = try config()
    let out = dir.path("out")
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let held = try RunLock(directory: out)
    let r = try koi(["run", "--config", c, "--quiet"])
    #expect(r.status == 5)
    #expect(r.stderr.contains("another koi run is using this output directory"))
    withExtendedLifetime(held) {}
    #expect(!FileManager.default.fileExists(atPath: out + "/latest"))
  }
}
