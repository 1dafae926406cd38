import Foundation
import Testing

@testable import Koi

/// An output path that cannot be a directory: one line naming the path and
/// what is wrong, exit code 4, for every command that writes a directory.
@Suite struct OutputPathTests {
  let dir = TemporaryDirectory()

  func koi(_ arguments: [String]) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments)
  }

  func expectFileInTheWay(_ r: EndToEndTests.Outcome, file: String, _ comment: Comment) {
    #expect(r.status == 4, comment)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(comment): \(r.stderr)")
    #expect(r.stderr.hasPrefix("koi: error: "), comment)
    #expect(r.stderr.contains("\(file) is a file, not a directory"), "\(comment): \(r.stderr)")
    // Foundation's words for it ("NSCocoaErrorDomain error 512"), not a bare
    // "512": the temporary path's random UUID may hold those digits.
    #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("error 512"), "\(comment): \(r.stderr)")
  }

  @Test func anOutputDirectoryUnderARegularFile() throws {
    let file = try dir.write("somefile.csv", "x")
    let sample = EndToEndTests.sample
    expectFileInTheWay(try koi(["score", sample, "--out", file + "/out", "--quiet"]), file: file, "score under a file")
    expectFileInTheWay(
      try koi(["score", sample, "--out", file + "/a/b", "--quiet"]), file: file, "score two levels under a file")
    expectFileInTheWay(try koi(["score", sample, "--out", file, "--quiet"]), file: file, "score onto a file")
    expectFileInTheWay(
      try koi(["backtest", sample, "--cutoff", "2025-07-01", "--out", file + "/bt", "--quiet"]), file: file, "backtest")
    expectFileInTheWay(
      try koi(["generate", "--customers", "10", "--out", file + "/gen", "--quiet"]), file: file, "generate")
    let config = try dir.write(
      "koi.toml",
      """
      output_directory = "somefile.csv/out"
      as_of = 2025-07-01
      [input]
      path = "\(ScheduledRunFixture.transactions)"
      """)
    expectFileInTheWay(try koi(["run", "--config", config, "--quiet"]), file: file, "run")
    #expect(try String(contentsOfFile: file, encoding: .utf8) == "x")
  }

  @Test func missingParentsAreMadeAndAFileInTheWayIsNamed() throws {
    try OutputDirectory.prepare(dir.path("f") + "/x/")
    var isDirectory: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: dir.path("f/x"), isDirectory: &isDirectory) && isDirectory.boolValue)
    let file = try dir.write("plain", "x")
    let e = #expect(throws: OutputError.self) { try OutputDirectory.prepare(file + "/x/y") }
    #expect(
      e?.description
        == "\(file)/x/y: cannot be used as the output directory: \(file) is a file, not a directory; choose another output directory"
    )
  }
}
