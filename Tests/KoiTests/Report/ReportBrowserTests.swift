import Foundation
import Testing

@testable import Koi

/// report.html of the sample, opened by a real browser: Debian's chromium,
/// headless, at 1280 px, in both languages. Fails — never skips — when
/// chromium or the CJK fonts are missing (README's set-up command and
/// .ci/run install them: `apt-get install -y chromium fonts-noto-cjk`).
///
/// A render fails on any console message (a Content-Security-Policy
/// violation is one), on any request the page makes that leaves the file
/// (Chromium's net log: requests whose initiator is the page), and on an
/// empty chart in the DOM Chromium built. The screenshots are kept as CI
/// artefacts in `.build/report-screenshots/report-zh.png` and
/// `report-en.png`.
@Suite(.serialized) struct ReportBrowserTests {
  let dir = TemporaryDirectory()

  static let screenshots = repositoryRoot.appendingPathComponent(".build/report-screenshots")

  static var chromium: String? {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  func run(_ tool: String, _ arguments: [String]) throws -> Outcome {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    let out = Pipe()
    // stderr (chromium's log, long) goes to a file: two pipes read one
    // after the other could fill and block the browser.
    let errPath = dir.path("stderr-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let err = FileHandle(forWritingAtPath: errPath)
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try? err?.close()
    let e = FileManager.default.contents(atPath: errPath) ?? Data()
    return Outcome(
      status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
      stderr: String(decoding: e, as: UTF8.self))
  }

  /// What one headless render of `page` found.
  struct Render {
    var consoleMessages: [String]
    var requestsLeavingTheFile: [String]
    var dom: String
  }

  func render(_ page: String, screenshot: String) throws -> Render {
    guard let chromium = Self.chromium else {
      throw BrowserMissing()
    }
    let profile = dir.path("profile-\(UUID().uuidString)")
    let netLog = dir.path("net-\(UUID().uuidString).json")
    let common = [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
      "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
      "--disable-default-apps", "--enable-logging=stderr", "--v=0",
    ]
    let shot = try run(
      chromium,
      common + [
        "--window-size=1280,10000", "--screenshot=\(screenshot)", "--log-net-log=\(netLog)",
        URL(fileURLWithPath: page).absoluteString,
      ])
    #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(2000))")
    let console = shot.stderr.split(separator: "\n").filter {
      $0.contains(":CONSOLE") || $0.contains("Content Security Policy") || $0.contains("Refused to")
    }.map(String.init)
    // Requests the page made: initiator "null" (a file:// page's opaque
    // origin) or a file URL; the browser's own (updates, time) have none.
    var leaving: [String] = []
    if let data = FileManager.default.contents(atPath: netLog),
      let log = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let constants = log["constants"] as? [String: Any],
      let types = constants["logEventTypes"] as? [String: Int],
      let events = log["events"] as? [[String: Any]]
    {
      let start = types["URL_REQUEST_START_JOB"]
      for e in events where e["type"] as? Int == start {
        guard let p = e["params"] as? [String: Any], let url = p["url"] as? String else { continue }
        let initiator = p["initiator"] as? String ?? ""
        let fromPage = initiator == "null" || initiator.hasPrefix("file:")
        if fromPage && !url.hasPrefix("file:") && !url.hasPrefix("data:") { leaving.append(url) }
      }
    } else {
      Issue.record("chromium wrote no readable net log at \(netLog)")
    }
    let dom = try run(
      chromium, common + ["--window-size=1280,900", "--dump-dom", URL(fileURLWithPath: page).absoluteString])
    return Render(consoleMessages: console, requestsLeavingTheFile: leaving, dom: dom.stdout)
  }

  struct BrowserMissing: Error, CustomStringConvertible {
    var description: String {
      "chromium is not installed: the browser test needs it. Install it (and the CJK fonts) with `apt-get update && apt-get install -y chromium fonts-noto-cjk`, as README's set-up command and .ci/run do."
    }
  }

  /// The `<svg>…</svg>` elements of a DOM.
  static func svgs(_ dom: String) -> [Substring] {
    var out: [Substring] = []
    var rest = dom[...]
    while let a = rest.range(of: "<svg"), let b = rest.range(of: "</svg>", range: a.upperBound..<rest.endIndex) {
      out.append(rest[a.lowerBound..<b.upperBound])
      rest = rest[b.upperBound...]
    }
    return out
  }

  @Test(arguments: ReportLanguage.allCases)
  func theSampleReportRendersCleanlyInChromium(language: ReportLanguage) throws {
    guard Self.chromium != nil else {
      Issue.record(Comment(rawValue: BrowserMissing().description))
      return
    }
    // Chinese needs a CJK font, or every character is a box.
    let fonts = try run("/usr/bin/env", ["fc-list", ":lang=zh", "family"])
    #expect(
      !fonts.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
      "no Chinese font: apt-get install -y fonts-noto-cjk")
    var o = ScoreOptions(inputPath: ReportTests.sample, outputDirectory: dir.path("out"))
    o.stages = StageName.allCases
    _ = try ScoringRun.run(o)
    let page = try RunReport.write(directory: dir.path("out"), language: language).path
    try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
    let png = Self.screenshots.appendingPathComponent("report-\(language.rawValue).png").path
    try? FileManager.default.removeItem(atPath: png)
    let r = try render(page, screenshot: png)
    #expect(r.consoleMessages.isEmpty, "console: \(r.consoleMessages)")
    #expect(r.requestsLeavingTheFile.isEmpty, "requests: \(r.requestsLeavingTheFile)")
    // The screenshot: a PNG 1280 px wide with something on it.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
    #expect(bytes.count > 100_000)
    #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
    #expect(width == 1280)
    // Every chart the browser built has marks.
    let svgs = Self.svgs(r.dom)
    #expect(svgs.count >= 15, "\(svgs.count) charts in the DOM")
    for s in svgs { #expect(s.contains("class=\"mark\""), "an empty chart: \(s.prefix(300))") }
    #expect(r.dom.contains(language == .zh ? "客户分层与价值报告" : "Customer segments and value report"))
  }

  /// The checks above would catch a page that broke the rules.
  @Test func aPageThatFetchesOrRunsScriptIsCaught() throws {
    guard Self.chromium != nil else {
      Issue.record(Comment(rawValue: BrowserMissing().description))
      return
    }
    let withCSP = try dir.write(
      "csp.html",
      "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body><img src=\"https://example.invalid/x.png\"><script>document.title='x'</script></body></html>"
    )
    let blocked = try render(withCSP, screenshot: dir.path("csp.png"))
    #expect(blocked.consoleMessages.count >= 2, "\(blocked.consoleMessages)")
    let open = try dir.write("open.html", "<html><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>")
    let fetched = try render(open, screenshot: dir.path("open.png"))
    #expect(fetched.requestsLeavingTheFile == ["http://127.0.0.1:9/x.png"])
    #expect(Self.svgs("<svg><rect/></svg><p><svg><rect class=\"mark\"/></svg>").count == 2)
  }
}
