import Foundation
import Testing

@testable import Koi

/// A run that cannot write all its results (a full disk, simulated with
/// `WriteFaults`) leaves the previous results byte-identical and no
/// temporary file behind.
@Suite struct FailedWriteTests {
  let dir = TemporaryDirectory()
  static let sample = repositoryRoot.appendingPathComponent("datasets/sample/transactions.csv").path
  var out: String { dir.path("out") }

  /// Every entry under `path` (hidden ones included), relative path → bytes
  /// (directories as an empty marker).
  static func snapshot(_ path: String) throws -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    let root = URL(fileURLWithPath: path)
    for name in try FileManager.default.subpathsOfDirectory(atPath: path) {
      let url = root.appendingPathComponent(name)
      var isDirectory: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
      files[name] = isDirectory.boolValue ? [] : Array(try Data(contentsOf: url))
    }
    return files
  }

  func score(asOf: String, stages: [StageName] = StageName.allCases) throws -> ScoringResult {
    var o = ScoreOptions(inputPath: Self.sample, outputDirectory: out)
    o.ingest.asOfDay = DayNumber.parse(asOf)
    o.stages = stages
    o.intervals.propensity = false  // the boosted propensities take seconds in a debug build and write nothing else
    return try ScoringRun.run(o)
  }

  /// Sizes of the files a successful run as of 2025-12-01 writes.
  static func sizesWritten(stages: [StageName]) -> [String: Int] {
    let d = TemporaryDirectory()
    var o = ScoreOptions(inputPath: sample, outputDirectory: d.path("out"))
    o.ingest.asOfDay = DayNumber.parse("2025-12-01")
    o.stages = stages
    o.intervals.propensity = false
    _ = try? ScoringRun.run(o)
    return ((try? snapshot(d.path("out"))) ?? [:]).mapValues(\.count)
  }

  static let sizesOfTheFailingRun = sizesWritten(stages: StageName.allCases)
  /// The files a run of every stage writes.
  static let outputs = ["customers.jsonl", "segments.json", "model.json", "rejects.csv", "due.json", "run.json"]

  /// The disk fills halfway through each output file in turn (or before
  /// the first byte of any). The files besides customers.jsonl are written
  /// while it is, so the fault is on the one file.
  @Test(arguments: ["", "customers.jsonl", "segments.json", "model.json", "rejects.csv", "due.json", "run.json"])
  func aFullDiskLeavesThePreviousResultsIntact(failingIn file: String) throws {
    let sizes = Self.sizesOfTheFailingRun
    try #require(Set(sizes.keys) == Set(Self.outputs))
    _ = try score(asOf: "2025-10-01")
    let before = try Self.snapshot(out)
    if file.isEmpty {
      WriteFaults.shared.failWrites(under: out, after: 0)
    } else {
      WriteFaults.shared.failWrites(under: out, after: sizes[file, default: 0] / 2, writing: file)
    }
    defer { WriteFaults.shared.removeFault(under: out) }
    let error = #expect(throws: OutputError.self) { _ = try score(asOf: "2025-12-01") }
    #expect(error?.message.contains("No space left on device") == true, "\(String(describing: error))")
    if !file.isEmpty { #expect(error?.path.hasSuffix("/" + file) == true, "\(String(describing: error))") }
    #expect(try Self.snapshot(out) == before)
  }

  /// A run without the interval stage removes the previous due.json only
  /// when it succeeds: here it fails in its last file, run.json.
  @Test func aFailedRunKeepsTheDueListItWouldHaveRemoved() throws {
    let total = Self.sizesWritten(stages: [.rfm]).values.reduce(0, +)
    _ = try score(asOf: "2025-10-01")
    let before = try Self.snapshot(out)
    #expect(before["due.json"] != nil)
    WriteFaults.shared.failWrites(under: out, after: total - 100)
    #expect(throws: OutputError.self) { _ = try score(asOf: "2025-12-01", stages: [.rfm]) }
    WriteFaults.shared.removeFault(under: out)
    #expect(try Self.snapshot(out) == before)
    // And when it succeeds, due.json goes and nothing else is left.
    let r = try score(asOf: "2025-12-01", stages: [.rfm])
    let after = try Self.snapshot(out)
    #expect(after["due.json"] == nil)
    #expect(Set(after.keys) == Set(r.manifest.outputs))
  }

  /// A rename that fails while publishing (here: model.json is a directory
  /// in the way) puts back the files already moved.
  @Test func aFailedPublishPutsBackTheFilesAlreadyMoved() throws {
    _ = try score(asOf: "2025-10-01")
    try FileManager.default.removeItem(atPath: out + "/model.json")
    try FileManager.default.createDirectory(atPath: out + "/model.json", withIntermediateDirectories: false)
    try Data("x".utf8).write(to: URL(fileURLWithPath: out + "/model.json/keep"))
    let before = try Self.snapshot(out)
    let error = #expect(throws: OutputError.self) { _ = try score(asOf: "2025-12-01") }
    #expect(error?.message.contains("previous results were kept") == true, "\(String(describing: error))")
    #expect(try Self.snapshot(out) == before)
  }

  /// A staging directory left by a killed `koi score` is removed by the next one.
  @Test func aKilledRunsStagingDirectoryIsRemovedByTheNextRun() throws {
    _ = try score(asOf: "2025-10-01")
    // A process id that is not running: the highest pid Linux can hand out, plus one.
    let stale = out + "/.koi-staging-4194305-1"
    try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
    try Data("partial".utf8).write(to: URL(fileURLWithPath: stale + "/.customers.jsonl.partial-4194305"))
    _ = try score(asOf: "2025-12-01")
    #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }.isEmpty)
  }

  /// `koi run`: a full disk fails the run, leaves latest and the kept runs
  /// as they were, and records the run as failed.
  @Test func aFullDiskFailsAScheduledRunAndKeepsLatest() throws {
    func run(_ asOf: String) throws -> ScheduledRunResult {
      var c = try ScheduledRunFixture.config(out: out)
      c.asOf = .date(DayNumber.parse(asOf) ?? 0)
      return try ScheduledRun.run(c)
    }
    let first = try run("2025-01-01")
    let before = try Self.snapshot(out + "/runs")
    for budget in [0, 50_000, 200_000] {
      WriteFaults.shared.failWrites(under: out, after: budget)
      #expect(throws: OutputError.self) { _ = try run("2025-04-01") }
      WriteFaults.shared.removeFault(under: out)
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/latest") == "runs/" + first.runID)
      #expect(try Self.snapshot(out + "/runs") == before)
    }
    #expect(
      try RunHistory(path: out + "/history.sqlite").runs().map(\.status) == ["succeeded", "failed", "failed", "failed"])
  }
}
