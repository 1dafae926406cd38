import Foundation
import Testing

@testable import Koi

/// `koi report`, and report.html from `koi score`, through the real binary.
@Suite struct ReportCommandTests {
  let dir = TemporaryDirectory()

  func koi(_ arguments: [String]) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments)
  }

  @Test func scoreWritesTheReportUnlessToldNotTo() throws {
    let out = dir.path("out")
    let r = try koi(["score", ReportTests.sample, "--out", out, "--quiet", "--lang", "en"])
    #expect(r.status == 0, "\(r.stderr)")
    let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
    #expect(html.contains("Customer segments and value report"))
    let bare = dir.path("bare")
    #expect(try koi(["score", ReportTests.sample, "--out", bare, "--quiet", "--no-report"]).status == 0)
    #expect(!FileManager.default.fileExists(atPath: bare + "/report.html"))
    // koi report writes it again, in Chinese, where asked.
    let again = try koi(["report", out, "--out", dir.path("zh.html")])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.contains("zh.html"))
    #expect(try String(contentsOfFile: dir.path("zh.html"), encoding: .utf8).contains("客户分层与价值报告"))
  }

  @Test func badInputGivesOneLineAndTheDocumentedExitCode() throws {
    let missing = try koi(["report", dir.path("nowhere")])
    #expect(missing.status == 3)
    #expect(missing.stderr.hasPrefix("koi: error: ") && missing.stderr.split(separator: "\n").count == 1)
    #expect(!missing.stderr.contains("Fatal") && !missing.stderr.contains("Stack"))
    let lang = try koi(["report", dir.path("nowhere"), "--lang", "fr"])
    #expect(lang.status == 64)
    #expect(lang.stderr.contains("--lang 'fr'"))
    // A truncated customers.jsonl: exit 2, one line, no page.
    let out = dir.path("out")
    #expect(try koi(["score", ReportTests.sample, "--out", out, "--quiet", "--no-report"]).status == 0)
    let path = out + "/customers.jsonl"
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
    let truncated = try koi(["report", out])
    #expect(truncated.status == 2)
    #expect(truncated.stderr.contains("customers.jsonl:") && truncated.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: out + "/report.html"))
  }
}
