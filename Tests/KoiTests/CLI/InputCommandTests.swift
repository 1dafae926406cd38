import Foundation
import Testing

@testable import Koi

/// The real `koi` with several inputs, a glob it expands itself, standard
/// input through a pipe, workbooks, and the errors of issue 17's "Bad
/// input", each with its exit code and one line.
@Suite struct InputCommandTests {
  let dir = TemporaryDirectory()

  func koi(_ arguments: [String], stdin: [UInt8]? = nil) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments, stdin: stdin)
  }

  func json(_ path: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
  }

  /// The one error line (after progress lines).
  func errorLine(_ r: EndToEndTests.Outcome) -> String {
    let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("koi: error:") }
    #expect(lines.count == 1, "\(r.stderr)")
    #expect(!r.stderr.contains("Backtrace") && !r.stderr.contains("Fatal error"))
    return lines.first.map(String.init) ?? ""
  }

  @Test func quotedGlobStdinAndRunJSON() throws {
    try FileManager.default.createDirectory(atPath: dir.path("ex"), withIntermediateDirectories: true)
    try dir.write("ex/2025-02.csv", "item,amount,customer_id,date\ny,50,b,2025-01-31\nx,70,a,2025-02-01\n")
    try dir.write(
      "ex/2025-01.csv", "customer_id,date,item,amount\na,2025-01-01,x,100\nb,2025-01-31,y,50\nc,2025-01-03,x,oops\n")
    let out = dir.path("out")
    // The pattern reaches koi unexpanded (no shell here), as when quoted.
    let r = try koi([
      "score", dir.path("ex") + "/2025-*.csv", "--out", out, "--stages", "rfm", "--quiet", "--duplicates",
      "drop-across-files",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let m = try json(out + "/run.json")
    let input = try #require(m["input"] as? [String: Any])
    let files = try #require(input["files"] as? [[String: Any]])
    #expect(
      files.compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } } == [
        "2025-01.csv", "2025-02.csv",
      ])
    #expect(files.allSatisfy { ($0["sha256"] as? String)?.count == 64 && ($0["bytes"] as? Int ?? 0) > 0 })
    let dups = try #require(input["duplicates_across_files"] as? [String: Any])
    #expect(dups["rows"] as? Int == 1 && dups["action"] as? String == "dropped")
    let rows = try #require(m["rows"] as? [String: Any])
    #expect(rows["read"] as? Int == 5 && rows["used"] as? Int == 3 && rows["rejected"] as? Int == 2)
    #expect((m["options"] as? [String: String])?["duplicates"] == "drop-across-files")
    let rejects = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/rejects.csv")), as: UTF8.self)
      .split(separator: "\n")
    #expect(rejects[0] == "\u{FEFF}file,sheet,line,reason,field,detail,raw")
    #expect(rejects.count == 3)
    #expect(rejects[1].hasPrefix(dir.path("ex/2025-01.csv") + ",,4,bad_amount"))
    #expect(rejects[2].hasPrefix(dir.path("ex/2025-02.csv") + ",,2,duplicate_across_files"))
    // The run.json of several files validates against the schema.
    let v = try SchemaTests().validate("run", [out + "/run.json"])
    #expect(v.status == 0, "\(v.output)")

    // Standard input: the same rows through a pipe, plain and gzip-compressed.
    let text = Array("customer_id,date,item,amount\na,2025-01-01,x,100\nb,2025-01-31,y,50\n".utf8)
    let s = try koi(["score", "-", "--out", dir.path("stdin"), "--stages", "rfm", "--quiet"], stdin: text)
    #expect(s.status == 0, "\(s.stderr)")
    let sm = try json(dir.path("stdin/run.json"))
    #expect((sm["input"] as? [String: Any])?["path"] as? String == "-")
    #expect((sm["rows"] as? [String: Any])?["used"] as? Int == 2)
    let plain = try dir.write("p.csv", bytes: text)
    let gz = try MultiFileInputTests().gzip(plain)
    let z = try koi(
      ["score", "-", "--out", dir.path("stdin-gz"), "--stages", "rfm", "--quiet"],
      stdin: Array(Data(contentsOf: URL(fileURLWithPath: gz))))
    #expect(z.status == 0, "\(z.stderr)")
    #expect(
      try String(contentsOfFile: dir.path("stdin-gz/customers.jsonl"), encoding: .utf8)
        == String(contentsOfFile: dir.path("stdin/customers.jsonl"), encoding: .utf8))
    let empty = try koi(["score", "-", "--out", dir.path("stdin-empty"), "--quiet"], stdin: [])
    #expect(empty.status == 2 && errorLine(empty).contains("-: the file is empty"))
  }

  @Test func workbookThroughTheCommand() throws {
    let out = dir.path("wb")
    let r = try koi([
      "score", WorkbookTests.fixture("two-sheets.xlsx"), "--sheet", "all", "--out", out, "--stages", "rfm",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("koi: warning: ") && r.stderr.contains("hidden sheet 'lookup' was not read"))
    #expect(r.stderr.contains("1 row repeats a row of an earlier file exactly"))
    let files = (try json(out + "/run.json")["input"] as? [String: Any])?["files"] as? [[String: Any]]
    #expect(files?.compactMap { $0["sheet"] as? String } == ["2024", "2025"])
    #expect(files?.compactMap { $0["format"] as? String } == ["xlsx", "xlsx"])
    let v = try SchemaTests().validate("run", [out + "/run.json"])
    #expect(v.status == 0, "\(v.output)")
  }

  @Test func badInputErrorsAndExitCodes() throws {
    let good = try dir.write("good.csv", "customer_id,date,item,amount\na,2025-01-01,x,1\n")
    func check(_ args: [String], _ status: Int32, _ text: String, stdin: [UInt8]? = nil) throws {
      let r = try koi(["score"] + args + ["--out", dir.path("o")], stdin: stdin)
      #expect(r.status == status, "\(args): \(r.stderr)")
      let line = errorLine(r)
      #expect(line.contains(text), "\(args): \(line)")
    }
    try check([dir.path("exports") + "/2025-*.csv"], 3, "no file matches this pattern")
    try FileManager.default.createDirectory(atPath: dir.path("none"), withIntermediateDirectories: true)
    try check([dir.path("none")], 3, "the directory has no .csv, .csv.gz or .xlsx files")
    try check([good, good], 2, "this file is named twice")
    let store = try dir.write("store.csv", "customer_id,date,item,amount,store\na,2025-01-01,x,1,s\n")
    try check([good, store], 2, "store.csv:1: its columns map to")
    let cut = try dir.write("cut.csv.gz", bytes: [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0x4B, 0x4C])
    try check([cut], 2, "cut.csv.gz: cannot read this .gz file")
    try check(
      [WorkbookTests.fixture("two-sheets.xlsx"), "--sheet", "2023"], 2,
      "the workbook has no sheet '2023'; its sheets are 1 'lookup' (hidden), 2 '2024', 3 '2025'")
    let locked = try dir.write("locked.xlsx", bytes: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0])
    try check([locked], 2, "password-protected")
    let notBook = try dir.write("notes.xlsx", "hello")
    try check([notBook], 2, "not an Excel workbook")
    try check(
      ["-"], 3, "Koi reads a workbook from a file",
      stdin: Array(try Data(contentsOf: URL(fileURLWithPath: WorkbookTests.fixture("formulas.xlsx")))))
    try check([WorkbookTests.fixture("chinese.xlsx")], 2, "[消费明细]:1: missing required columns")
    // Usage errors: 64.
    #expect(try koi(["score", good, "--out", dir.path("o"), "--header-row", "0"]).status == 64)
    #expect(try koi(["score", good, "--out", dir.path("o"), "--duplicates", "drop"]).status == 64)
  }

  @Test func helpNamesTheInputOptions() throws {
    let help = try koi(["score", "--help"])
    for option in ["--sheet", "--header-row", "--duplicates", "drop-across-files", "standard input"] {
      #expect(help.stdout.contains(option), "score --help lacks \(option)")
    }
  }
}
