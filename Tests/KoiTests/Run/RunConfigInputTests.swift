import Foundation
import Testing

@testable import Koi

/// `[input]`: `path` as a string, a list or a glob; `sheet`, `header_row`,
/// `duplicates`.
@Suite struct RunConfigInputTests {
  func parse(_ input: String) throws -> RunConfig {
    try RunConfig.parse("output_directory = \"out\"\n[input]\n" + input + "\n", path: "/etc/koi/koi.toml")
  }

  @Test func pathIsAStringAListOrAGlob() throws {
    #expect(try parse(#"path = "tx.csv""#).inputs == ["/etc/koi/tx.csv"])
    let list = try parse(#"path = ["exports/2025-*.csv", "/data/extra.xlsx", "-"]"#)
    #expect(list.inputs == ["/etc/koi/exports/2025-*.csv", "/data/extra.xlsx", "-"])
    #expect(list.inputPath == "/etc/koi/exports/2025-*.csv /data/extra.xlsx -")
    let options = ScheduledRun.scoreOptions(list, asOfDay: 0, outputDirectory: "/tmp/x", warmStartModelPath: nil)
    #expect(options.inputs == list.inputs)
  }

  @Test func sheetHeaderRowAndDuplicates() throws {
    let c = try parse("path = \"a.xlsx\"\nsheet = \"all\"\nheader_row = 3\nduplicates = \"drop-across-files\"")
    #expect(c.ingest.sheet == "all" && c.ingest.headerRow == 3 && c.ingest.duplicates == .dropAcrossFiles)
    #expect(try parse("path = \"a.xlsx\"\nsheet = 2").ingest.sheet == "2")
    let example = try RunConfig.parse(RunConfig.exampleTOML, path: "/etc/koi/koi.toml")
    #expect(example.ingest.sheet == nil && example.ingest.headerRow == 1 && example.ingest.duplicates == .report)
  }

  @Test(arguments: [
    ("path = []", "input.path"),
    ("path = [1]", "input.path"),
    ("path = 3", "input.path"),
    ("path = \"a\"\nduplicates = \"drop\"", "input.duplicates"),
    ("path = \"a\"\nheader_row = 0", "input.header_row"),
    ("path = \"a\"\nsheet = 0", "input.sheet"),
  ])
  func badInputKeysNameTheKey(text: String, key: String) throws {
    let e = #expect(throws: ConfigError.self) { try parse(text) }
    #expect(e.map { "\($0)" }?.contains(key) == true, "\(String(describing: e))")
  }
}
