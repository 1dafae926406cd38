import Foundation
import Testing

@testable import Koi

/// The stage shape: a stage added in one place runs, writes and reports
/// like the standard ones, and statistics of customer-disjoint batches
/// merge into the statistics of all.
@Suite struct StageShapeTests {
  let dir = TemporaryDirectory()
  static let sample = repositoryRoot.appendingPathComponent("datasets/sample/transactions.csv").path

  /// A toy fifth stage, written as a newcomer would: everything is here,
  /// and the run picks it up from the stage list.
  struct VisitStage: Stage {
    static let name = StageName("visits")
    static let reads = [StageName.rfm]
    static let files = ["visits.txt"]

    struct Statistics: StageStatistics {
      var visits: [Int32]
      mutating func merge(_ later: Statistics) { visits += later.visits }
    }
    struct Section: StageSection, Equatable { var meanVisits: Double }
    struct Report: StageReportSection { var aboveMean: Int; var withSegment: Int }
    struct Fields: CustomerRecordFields {
      let visits: [Int32]
      let mean: Double
      func write(customer c: Int, into w: inout JSONWriter) {
        w.key("visits_vs_mean"); w.number(Double(visits[c]) / mean, decimals: 3)
      }
    }

    init(options: ScoreOptions) {}
    func statistics(of batch: StageBatch) -> Statistics { Statistics(visits: batch.table.purchaseDays) }
    func fit(_ s: Statistics, context: StageContext) throws -> Section {
      Section(meanVisits: Double(s.visits.reduce(0) { $0 + Int($1) }) / Double(max(1, s.visits.count)))
    }
    func section(of fitted: Section) -> Section { fitted }
    func score(_ batch: StageBatch, statistics: Statistics, fitted: Section, upstream: StageOutputs) -> [Int32] {
      statistics.visits
    }
    func recordFields(_ batch: StageBatch, fitted: Section, columns: [Int32]) -> any CustomerRecordFields {
      Fields(visits: columns, mean: fitted.meanVisits)
    }
    func report(
      _ batch: StageBatch, fitted: Section, columns: [Int32], upstream: StageOutputs, context: StageContext
    ) -> (any StageReportSection)? {
      Report(
        aboveMean: columns.filter { Double($0) > fitted.meanVisits }.count,
        withSegment: upstream[RFMStage.self]?.segment.count ?? 0)
    }
    func warnings(fitted: Section, columns: [Int32], context: StageContext) -> [RunWarning] {
      [
        RunWarning(
          "visits: mean \(fitted.meanVisits)",
          advice: .init(lead: "See", commandLine: "--help", configuration: "koi init"))
      ]
    }
    func writeFiles(
      _ batch: StageBatch, fitted: Section, columns: [Int32], to directory: String, context: StageContext
    ) throws -> [String] {
      try AtomicFile.write(Array("\(columns.count)\n".utf8), to: directory + "/visits.txt")
      return ["visits.txt"]
    }
  }

  @Test func aFifthStageRunsFromOneRegistrationLine() throws {
    var o = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("out"))
    o.stages = [.rfm, VisitStage.name]
    let result = try ScoringRun.run(o, stages: StageRegistry.standard + [VisitStage.self])
    let out = URL(fileURLWithPath: dir.path("out"))
    func json(_ name: String) throws -> [String: Any] {
      try #require(
        JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(name))) as? [String: Any])
    }
    let section = try #require(result.model[VisitStage.self])
    #expect(section.meanVisits > 1)
    let model = try json("model.json")
    #expect((model["visits"] as? [String: Any])?["mean_visits"] as? Double == section.meanVisits)
    #expect(model["tiers"] == nil)
    let report = try #require(try json("segments.json")["visits"] as? [String: Any])
    #expect(report["with_segment"] as? Int == result.table.count)
    #expect((report["above_mean"] as? Int ?? 0) > 0)
    let first = try String(contentsOf: out.appendingPathComponent("customers.jsonl"), encoding: .utf8)
      .prefix { $0 != "\n" }
    // After the RFM fields, before the tags.
    let visits = try #require(first.range(of: "\"visits_vs_mean\":"))
    #expect(try #require(first.range(of: "\"segment\":")).lowerBound < visits.lowerBound)
    #expect(try #require(first.range(of: "\"tags\":")).lowerBound > visits.lowerBound)
    #expect(
      try String(contentsOf: out.appendingPathComponent("visits.txt"), encoding: .utf8) == "\(result.table.count)\n")
    let run = try json("run.json")
    #expect((run["seconds"] as? [String: Any])?["visits"] != nil)
    #expect((run["outputs"] as? [String])?.contains("visits.txt") == true)
    #expect((run["warnings"] as? [String])?.contains("visits: mean \(section.meanVisits) See --help.") == true)

    // Without the stage its file is stale and goes.
    o.stages = [.rfm]
    _ = try ScoringRun.run(o, stages: StageRegistry.standard + [VisitStage.self])
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("visits.txt").path))
  }

  /// The sample's batch, read once.
  static let batch: StageBatch = {
    let ingest = try! TransactionReader.read(path: sample, options: IngestOptions())
    return StageBatch(ledger: ingest.ledger, table: CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay))
  }()

  /// The statistics of `shards` customer-contiguous batches, merged in order.
  static func merged<S: Stage>(_ stage: S, shards: Int) -> S.Statistics {
    let n = batch.table.count
    let bounds = (0...shards).map { $0 * n / shards }
    var s = stage.statistics(of: batch.slice(customers: bounds[0]..<bounds[1]))
    for k in 1..<shards { s.merge(stage.statistics(of: batch.slice(customers: bounds[k]..<bounds[k + 1]))) }
    return s
  }

  @Test(arguments: [1, 2, 7])
  func mergedStatisticsFitTheSameModels(shards: Int) throws {
    let options = ScoreOptions(inputPath: Self.sample, outputDirectory: dir.path("unused"))
    let context = StageContext(options: options)

    let rfm = RFMStage(options: options)
    #expect(Self.merged(rfm, shards: shards) == rfm.statistics(of: Self.batch))
    #expect(
      rfm.fit(Self.merged(rfm, shards: shards), context: context)
        == rfm.fit(rfm.statistics(of: Self.batch), context: context))

    let lifetime = LifetimeStage(options: options)
    #expect(
      lifetime.fit(Self.merged(lifetime, shards: shards), context: context)
        == lifetime.fit(lifetime.statistics(of: Self.batch), context: context))

    var tierOptions = options
    tierOptions.tiers.restarts = 1
    let tiers = TierStage(options: tierOptions)
    #expect(
      try tiers.fit(Self.merged(tiers, shards: shards), context: context).model
        == tiers.fit(tiers.statistics(of: Self.batch), context: context).model)

    var intervalOptions = options
    intervalOptions.intervals.propensity = false
    let intervals = IntervalStage(options: intervalOptions)
    let m = Self.merged(intervals, shards: shards)
    let whole = intervals.statistics(of: Self.batch)
    #expect(m.histories.gaps == whole.histories.gaps && m.histories.pairStart == whole.histories.pairStart)
    #expect(
      m.histories.pairCustomer == whole.histories.pairCustomer && m.histories.gapStart == whole.histories.gapStart)
    #expect(intervals.fit(m, context: context).model == intervals.fit(whole, context: context).model)
  }

  @Test func valueCountsCutPointsMatchTheSortedRule() {
    var g = SeededGenerator(seed: 11)
    for trial in 0..<200 {
      let n = Int.random(in: 0...60, using: &g)
      let values = (0..<n).map { _ in Double(Int.random(in: -5...12, using: &g)) / 2 }
      let bins = Int.random(in: 2...9, using: &g)
      // The rule on the sorted list: the least value above the m-th smallest.
      let sorted = values.sorted()
      let expected: [Double?] = (2...bins).map { s in
        let m = ((s - 1) * n + bins - 1) / bins
        guard n > 0, m >= 1, m <= n else { return nil }
        return sorted.first { $0 > sorted[m - 1] }
      }
      #expect(ValueCounts(values).cutPoints(bins: bins) == expected, "trial \(trial)")
      // Merged halves count the same.
      var a = ValueCounts(values.prefix(n / 2))
      a.merge(ValueCounts(values.suffix(n - n / 2)))
      #expect(a == ValueCounts(values))
    }
  }
}

/// One definition per option: the command line and koi.toml reject an
/// out-of-range value with the same sentence.
@Suite struct SettingsTests {
  @Test(arguments: [
    ("--k", "1", "[stages.tiers]\nk = 1", "k"),
    ("--horizon-days", "0", "[stages.lifetime]\nhorizon_days = 0", "horizon_days"),
    ("--next-within", "4000", "[stages.intervals]\nnext_within_days = 4000", "next_within_days"),
    ("--rfm-bins", "101", "[stages.rfm]\nbins = 101", "bins"),
  ])
  func theCommandLineAndTheConfigurationSayTheSame(flag: String, value: String, toml: String, key: String) throws {
    let dir = TemporaryDirectory()
    let cli = try EndToEndTests().koi(["score", "x.csv", "--out", dir.path("o"), flag, value])
    #expect(cli.status == 64)
    let text = "output_directory = \"out\"\n[input]\npath = \"x.csv\"\n\(toml)\n"
    var message = ""
    do { _ = try RunConfig.parse(text, path: dir.path("koi.toml")) } catch { message = "\(error)" }
    // "koi.toml: stages.tiers.k: expected …" and "--k: expected …".
    let sentence = try #require(message.components(separatedBy: ".\(key): ").last)
    #expect(sentence.hasPrefix("expected "), "\(message)")
    #expect(cli.stderr.contains("\(flag): \(sentence)"), "\(cli.stderr) vs \(message)")
  }
}

/// Warnings are values: the library never names a flag; each front end
/// words the setting its own way.
@Suite struct RunWarningTests {
  @Test func aRareTreatmentsWarningNamesThePriorAsEachFrontEndSpellsIt() throws {
    // Two customers, one gap: far too few to fit, no prior, nothing to pool.
    let dir = TemporaryDirectory()
    let path = try dir.write(
      "t.csv", "customer_id,date,item,amount\nc1,2025-01-01,peel,100\nc1,2025-02-01,peel,100\nc2,2025-01-05,peel,90\n")
    let ledger = try TransactionReader.read(path: path).ledger
    let table = CustomerTable(ledger: ledger, asOfDay: DayNumber.from(year: 2025, month: 6, day: 1))
    let options = ScoreOptions(inputPath: "-", outputDirectory: "-")
    let stage = IntervalStage(options: options)
    let batch = StageBatch(ledger: ledger, table: table)
    let statistics = stage.statistics(of: batch)
    let fitted = stage.fit(statistics, context: StageContext(options: options))
    let columns = stage.score(batch, statistics: statistics, fitted: fitted, upstream: StageOutputs())
    let warning = try #require(
      stage.warnings(fitted: fitted, columns: columns, context: StageContext(options: options)).first)
    #expect(!warning.message.contains("--"))
    #expect(
      warning.text(for: .commandLine).hasSuffix("If it repeats, give its typical cycle with --prior 'peel=DAYS'."))
    #expect(
      warning.text(for: .configuration).hasSuffix(
        "If it repeats, give its typical cycle with [category_priors] \"peel\" = DAYS in the configuration."))
    var run = options
    run.command = "run"
    #expect(run.frontend == .configuration && options.frontend == .commandLine)
  }
}

/// Errors that name an input option spell it as the user sets it.
@Suite struct OptionSpellingTests {
  @Test func tokensAreSpelledPerFrontEnd() {
    let text = "set {{encoding gb18030}}, {{header-row 3}}, {{strict}} or {{column customer_id=会员卡号}}; {{nope x}} stays"
    #expect(
      OptionSpelling.render(text, for: .commandLine)
        == "set --encoding gb18030, --header-row 3, --strict or --column customer_id=会员卡号; {{nope x}} stays")
    #expect(
      OptionSpelling.render(text, for: .configuration)
        == "set encoding = \"gb18030\" in [input], header_row = 3 in [input], strict = true in [input] or customer_id = \"会员卡号\" in [input.columns]; {{nope x}} stays"
    )
  }

  @Test func aScheduledRunsIngestErrorNamesTheConfigurationKey() throws {
    let dir = TemporaryDirectory()
    let path = try dir.write("t.csv", "who,date,item,amount\nc1,2025-01-01,peel,100\n")
    var o = ScoreOptions(inputPath: path, outputDirectory: dir.path("out"))
    o.command = "run"
    #expect {
      _ = try ScoringRun.run(o)
    } throws: { error in
      let text = "\(error)"
      return text.contains("customer_id = \"HEADER\" in [input.columns]") && !text.contains("--column")
    }
    o.command = "score"
    #expect { _ = try ScoringRun.run(o) } throws: { "\($0)".contains("--column customer_id=HEADER") }
  }
}
