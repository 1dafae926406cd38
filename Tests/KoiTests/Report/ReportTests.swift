import Foundation
import GRDB
import Testing

@testable import Koi

/// report.html from real runs: content, language, size, privacy, and what
/// it does with incomplete or damaged run directories.
@Suite struct ReportTests {
  let dir = TemporaryDirectory()

  static let sample = repositoryRoot.appendingPathComponent("datasets/sample/transactions.csv").path

  /// Scores `input` into `name` with the given stages; returns the directory.
  func score(_ input: String = ReportTests.sample, stages: [StageName] = StageName.allCases, name: String = "out")
    throws -> String
  {
    var o = ScoreOptions(inputPath: input, outputDirectory: dir.path(name))
    o.stages = stages
    _ = try ScoringRun.run(o)
    return dir.path(name)
  }

  func content(_ d: String, _ language: ReportLanguage = .zh) throws -> ReportContent {
    ReportContent(inputs: try ReportInputs.read(directory: d), history: nil, language: language)
  }

  @Test func theSampleReportIsSelfContainedBilingualAndSmall() throws {
    let d = try score()
    let ids = try String(contentsOfFile: d + "/customers.jsonl", encoding: .utf8)
      .split(separator: "\n").prefix(50).map { String($0.split(separator: "\"")[3]) }
    for language in ReportLanguage.allCases {
      let w = try RunReport.write(directory: d, to: dir.path("r-\(language.rawValue).html"), language: language)
      let html = try String(contentsOfFile: w.path, encoding: .utf8)
      #expect(w.bytes < 2_000_000)
      #expect(html.contains("Content-Security-Policy"))
      #expect(html.contains("default-src 'none'"))
      #expect(!html.lowercased().contains("<script"))
      // The only URL is SVG's namespace name, which is never fetched.
      let urls = html.components(separatedBy: "://").count - 1
      let namespaces = html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1
      #expect(urls == namespaces)
      #expect(!html.contains("NaN") && !html.contains("nan\"") && !html.contains("inf\""))
      for id in ids { #expect(!html.contains(id), "customer id \(id) in the report") }
      // Money with ¥ and thousands separators.
      #expect(html.contains("¥34,781,805"))
      if language == .zh {
        #expect(html.contains("重要价值客户") && html.contains("很懂，在意产品服务品质") && html.contains("逾期"))
        #expect(html.contains("lang=\"zh-CN\""))
      } else {
        #expect(html.contains("Champions") && html.contains("Savvy and quality-focused") && html.contains("overdue"))
        #expect(!html.unicodeScalars.contains { $0.value >= 0x4E00 && $0.value <= 0x9FFF })
      }
    }
    // Every section has a reading guide, and no chart of the sample is empty.
    let c = try content(d)
    for s in c.sections {
      #expect(!s.guide.isEmpty)
      for chart in s.charts { #expect(chart.marks > 0, "an empty chart in \(s.id)") }
    }
    let charts = c.sections.flatMap(\.charts)
    #expect(charts.count >= 15)
    let rfm = c.sections.first { $0.id == "rfm" }
    #expect(rfm?.missing.isEmpty == true)
    // The R × FM grid holds every customer and all the revenue.
    let inputs = c.inputs.customers
    #expect(inputs.gridCustomers.flatMap { $0 }.reduce(0, +) == 3000)
    #expect(abs(inputs.gridRevenue.flatMap { $0 }.reduce(0, +) - 34_781_805) < 0.01)
  }

  /// `koi score` makes its page from the run's columns instead of reading
  /// customers.jsonl back: the same aggregates to the bit and the same page
  /// to the byte, whichever stages ran.
  @Test func thePageFromTheColumnsIsThePageFromTheFiles() throws {
    for stages in [StageName.allCases, [.rfm], [.rfm, .intervals], [.tiers, .lifetime]] {
      var o = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("columns"))
      o.stages = stages
      let result = try ScoringRun.run(o)
      let a = try ReportInputs.read(directory: o.outputDirectory, scoring: result).customers
      let b = try ReportInputs.read(directory: o.outputDirectory).customers
      #expect(a.customers == b.customers && a.withLifetime == b.withLifetime && a.active == b.active)
      #expect(a.withRepurchase == b.withRepurchase && a.pAlive == b.pAlive && a.clv == b.clv)
      #expect(
        a.revenue.bitPattern == b.revenue.bitPattern && a.expectedRevenue.bitPattern == b.expectedRevenue.bitPattern)
      #expect(a.gridCustomers == b.gridCustomers && a.gridRevenue == b.gridRevenue && a.dueWeeks == b.dueWeeks)
      #expect(
        a.clvByTier.mapValues { [Double($0.customers), $0.clv] }
          == b.clvByTier.mapValues { [Double($0.customers), $0.clv] })
      #expect(
        a.clvBySegment.mapValues { [Double($0.customers), $0.clv] }
          == b.clvBySegment.mapValues { [Double($0.customers), $0.clv] })
      for language in [ReportLanguage.zh, .en] {
        let fromColumns = try RunReport.render(directory: o.outputDirectory, language: language, scoring: result)
        let fromFiles = try RunReport.render(directory: o.outputDirectory, language: language)
        #expect(fromColumns == fromFiles, "\(stages), \(language)")
      }
    }
  }

  @Test func aStageLeftOutIsSaidInItsSection() throws {
    let d = try score(stages: [.rfm])
    let c = try content(d, .en)
    for id in ["tiers", "repurchase", "lifetime"] {
      let s = c.sections.first { $0.id == id }
      #expect(s?.missing == [ReportLanguage.en(.stageLeftOut)], "\(id)")
      #expect(s?.charts.isEmpty == true)
    }
    #expect(c.sections.first { $0.id == "rfm" }?.missing.isEmpty == true)
    let html = try RunReport.render(directory: d, language: .zh)
    #expect(html.contains(ReportLanguage.zh(.stageLeftOut)))
  }

  @Test func aRunOfOneCustomerReportsWithoutBreaking() throws {
    let csv = try dir.write(
      "one.csv",
      "customer_id,date,item,amount\nC1,2025-01-05,botox,1200\nC1,2025-04-02,botox,1300\nC1,2025-07-01,filler,5000\n")
    let d = try score(csv)
    let html = try RunReport.render(directory: d, language: .en)
    #expect(!html.contains("NaN") && !html.contains("inf\""))
    #expect(!html.contains("C1<") && !html.contains(">C1"))
    let c = try content(d, .en)
    #expect(c.inputs.customers.customers == 1)
    for s in c.sections { for chart in s.charts { #expect(!chart.svg.contains("nan")) } }
  }

  @Test func zeroCustomersGiveAReportThatSaysSo() throws {
    let d = try score()
    // A run of no customers (koi score itself stops before writing one):
    // run.json and customers.jsonl agree on 0.
    var run =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/run.json")))
      as? [String: Any] ?? [:]
    run["customers"] = 0
    try JSONSerialization.data(withJSONObject: run).write(to: URL(fileURLWithPath: d + "/run.json"))
    try Data().write(to: URL(fileURLWithPath: d + "/customers.jsonl"))
    let c = try content(d, .en)
    for id in ["rfm", "tiers", "repurchase", "lifetime"] {
      #expect(c.sections.first { $0.id == id }?.missing == [ReportLanguage.en(.noCustomers)], "\(id)")
    }
    _ = try RunReport.render(directory: d, language: .zh)
  }

  @Test func aTruncatedCustomersFileIsAnErrorAndNoPageIsWritten() throws {
    let d = try score()
    let path = d + "/customers.jsonl"
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 200).write(to: URL(fileURLWithPath: path))
    #expect {
      try RunReport.write(directory: d, language: .zh)
    } throws: { e in
      guard let e = e as? ReportError else { return false }
      return e.kind == .invalid && e.path.hasSuffix("customers.jsonl:3000") && e.description.contains("truncated")
    }
    let left = try FileManager.default.contentsOfDirectory(atPath: d)
    #expect(!left.contains { $0.contains("report.html") }, "\(left)")
  }

  @Test func missingFilesAndOlderRunDirectoriesAreNamed() throws {
    #expect {
      try RunReport.render(directory: dir.path("nowhere"), language: .zh)
    } throws: { ($0 as? ReportError)?.kind == .missing }
    let d = try score()
    // An older Koi's segments.json (no name_zh) still reads.
    try FileManager.default.removeItem(atPath: d + "/model.json")
    let c = try content(d, .en)
    #expect(c.inputs.missing == ["model.json"])
    #expect(c.sections.first { $0.id == "lifetime" }?.missing.contains { $0.contains("model.json") } == true)
    // run.json without row counts: from a Koi this one cannot read.
    try Data(#"{"koi_version":"0.0.1","as_of":"2025-01-01"}"#.utf8).write(to: URL(fileURLWithPath: d + "/run.json"))
    #expect {
      try RunReport.render(directory: d, language: .zh)
    } throws: { e in
      guard let e = e as? ReportError else { return false }
      return e.kind == .invalid && e.path.hasSuffix("run.json") && e.message.contains("older")
    }
    try FileManager.default.removeItem(atPath: d + "/run.json")
    #expect {
      try RunReport.render(directory: d, language: .zh)
    } throws: { ($0 as? ReportError)?.kind == .missing }
  }

  @Test func scheduledRunsReportTheChangeSinceThePreviousRun() throws {
    var c = try ScheduledRunFixture.config(out: dir.path("runs"), exports: "")
    c.asOf = .date(DayNumber.parse("2025-01-01") ?? 0)
    let first = try ScheduledRun.run(c)
    let firstHTML = try String(contentsOfFile: first.runDirectory + "/report.html", encoding: .utf8)
    #expect(firstHTML.contains(ReportLanguage.zh(.noPreviousRun)))
    c.asOf = .date(DayNumber.parse("2025-07-01") ?? 0)
    c.reportLanguage = .en
    let second = try ScheduledRun.run(c)
    let html = try String(contentsOfFile: second.runDirectory + "/report.html", encoding: .utf8)
    #expect(!html.contains(ReportLanguage.en(.noPreviousRun)))
    #expect(html.contains(ReportLanguage.en(.migration)))
    #expect(html.contains(ReportLanguage.en(.segmentSizesOverRuns)))
    // koi report on the run directory finds the same history.
    let again = try RunReport.render(directory: second.runDirectory, language: .en)
    #expect(again == html)
    // The migration matrix counts every customer of both runs.
    let h = try ReportHistory.load(path: dir.path("runs") + "/history.sqlite", runID: second.runID)
    #expect(h.previousRunID == first.runID)
    let inputs = try ReportInputs.read(directory: second.runDirectory, previous: h.previousCustomers)
    let moved = inputs.customers.segmentMoves.values.reduce(0, +)
    #expect(moved + inputs.customers.newCustomers == second.scoring.manifest.customers)
    #expect(inputs.customers.segmentMoves.count > 1 && inputs.customers.tierMoves.count > 1)
    // Matched to the run's customers in key order (as koi run does), the
    // previous customers give the same matrices as looked up by id.
    let db = try DatabaseQueue(path: dir.path("runs") + "/history.sqlite")
    let matched = try ReportHistory.load(db, runID: second.runID, customerIDs: second.scoring.ledger.customerIDs)
    guard case .byCustomer(let byCustomer) = matched.previousCustomers else {
      Issue.record("koi run's history is matched to its customers")
      return
    }
    #expect(byCustomer.count == second.scoring.ledger.customerCount && byCustomer.contains { $0 != nil })
    let columns = try ReportInputs.read(
      directory: second.runDirectory, previous: matched.previousCustomers, scoring: second.scoring)
    #expect(columns.customers.segmentMoves == inputs.customers.segmentMoves)
    #expect(columns.customers.tierMoves == inputs.customers.tierMoves)
    #expect(columns.customers.newCustomers == inputs.customers.newCustomers)
    // The segment sizes recorded with each run are those counted from its
    // customers, as for runs recorded before they were kept; and a history
    // from before the column (read-only, not migrated) still reports.
    try db.write { try $0.execute(sql: "UPDATE runs SET segment_sizes = NULL") }
    let counted = try ReportHistory.load(db, runID: second.runID)
    #expect(!counted.segmentSizes.isEmpty)
    #expect(counted.segmentSizes.map(\.asOf) == matched.segmentSizes.map(\.asOf))
    #expect(counted.segmentSizes.map(\.counts) == matched.segmentSizes.map(\.counts))
    try db.write { try $0.execute(sql: "ALTER TABLE runs DROP COLUMN segment_sizes") }
    let old = try ReportHistory.load(path: dir.path("runs") + "/history.sqlite", runID: second.runID)
    #expect(old.segmentSizes.map(\.counts) == matched.segmentSizes.map(\.counts))
  }

  @Test func theConfigurationChoosesTheReportLanguage() throws {
    let base = "output_directory = \"out\"\n[input]\npath = \"t.csv\"\n"
    #expect(try RunConfig.parse(base, path: "/k/koi.toml").reportLanguage == .zh)
    #expect(try RunConfig.parse(base + "[report]\nlang = \"en\"\n", path: "/k/koi.toml").reportLanguage == .en)
    #expect(try RunConfig.parse(base + "[report]\nenabled = false\n", path: "/k/koi.toml").reportLanguage == nil)
    #expect {
      try RunConfig.parse(base + "[report]\nlang = \"fr\"\n", path: "/k/koi.toml")
    } throws: { "\($0)".contains("report.lang") && "\($0)".contains("\"fr\"") }
  }

  @Test func segmentsJSONCarriesTheChineseNames() throws {
    let d = try score()
    let json =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/segments.json")))
      as? [String: Any]
    let segs = (json?["rfm"] as? [String: Any])?["segments"] as? [[String: Any]] ?? []
    #expect(segs.count == 11)
    #expect(segs.first { $0["segment"] as? String == "champions" }?["name_zh"] as? String == "重要价值客户")
    let tiers = (json?["tiers"] as? [String: Any])?["tiers"] as? [[String: Any]] ?? []
    #expect(tiers.map { $0["name_zh"] as? String } == PriceSensitivityTier.allCases.map(\.nameZH))
  }

  @Test func aBacktestDirectoryGetsItsOwnReport() throws {
    let out = dir.path("bt")
    _ = try BacktestRun.run(
      BacktestOptions(inputPath: Self.sample, outputDirectory: out, cutoffDay: DayNumber.parse("2025-07-01") ?? 0))
    let b = try BacktestInputs.read(directory: out)
    for language in ReportLanguage.allCases {
      let sections = BacktestContent(inputs: b, language: language).sections
      #expect(sections.allSatisfy { $0.missing.isEmpty })
      let charts = sections.flatMap(\.charts)
      // Three calibration plots (30/60/90 days) and one per lifetime model.
      #expect(charts.count >= 5)
      for c in charts { #expect(c.marks >= 2) }
      let html = try RunReport.render(directory: out, language: language)
      #expect(html.contains(language(.backtestTitle)))
      #expect(html.contains(language(.calibrationWithin).replacingOccurrences(of: "%d", with: "90")))
      #expect(!html.lowercased().contains("<script"))
    }
    try Data("{\"cutoff\": 3}".utf8).write(to: URL(fileURLWithPath: out + "/backtest.json"))
    #expect {
      try RunReport.render(directory: out, language: .zh)
    } throws: { ($0 as? ReportError)?.kind == .invalid }
  }

  @Test func aLongCatalogueKeepsThePageSmall() throws {
    // 60 treatments, each bought twice by 40 customers.
    var csv = "customer_id,date,item,amount\n"
    for item in 0..<60 {
      for c in 0..<40 {
        csv += "C\(c),2025-0\(1 + c % 5)-1\(item % 10),item_\(item),\(100 + item)\n"
        csv += "C\(c),2025-0\(6 + c % 3)-2\(item % 8),item_\(item),\(100 + item)\n"
      }
    }
    let d = try score(try dir.write("many.csv", csv))
    let c = try content(d, .en)
    let s = try #require(c.sections.first { $0.id == "repurchase" })
    #expect(s.charts.count <= ReportContent.treatmentsCharted + 2)
    #expect(s.notes.contains { $0.contains("36 more") })
    let html = try RunReport.render(directory: d, language: .zh)
    #expect(html.utf8.count < 2_000_000)
  }

  @Test func theSegmentsSchemaRequiresTheChineseNames() throws {
    let golden = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/golden/sample/segments.json")
    let schemas = SchemaTests()
    #expect(try schemas.validate("segments", [golden.path]).status == 0)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as? [String: Any] ?? [:]
    func without(_ edit: (inout [String: Any]) -> Void) throws -> String {
      var copy = json
      edit(&copy)
      let path = dir.path("seg-\(UUID().uuidString).json")
      try JSONSerialization.data(withJSONObject: copy).write(to: URL(fileURLWithPath: path))
      return path
    }
    let noSegmentName = try without { j in
      var rfm = j["rfm"] as? [String: Any] ?? [:]
      var segs = rfm["segments"] as? [[String: Any]] ?? []
      segs[0]["name_zh"] = nil
      rfm["segments"] = segs
      j["rfm"] = rfm
    }
    #expect(try schemas.validate("segments", [noSegmentName]).status == 1)
    let wrongTierName = try without { j in
      var tiers = j["tiers"] as? [String: Any] ?? [:]
      var list = tiers["tiers"] as? [[String: Any]] ?? []
      list[1]["name_zh"] = "高端客户"
      tiers["tiers"] = list
      j["tiers"] = tiers
    }
    #expect(try schemas.validate("segments", [wrongTierName]).status == 1)
  }
}
