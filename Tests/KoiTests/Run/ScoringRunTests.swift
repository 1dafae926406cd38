import Foundation
import Testing

@testable import Koi

/// Whole runs on the bundled sample, measured against the generator's
/// ground truth (datasets/sample/truth.csv).
@Suite struct ScoringRunTests {
  let dir = TemporaryDirectory()
  static let sample = repositoryRoot.appendingPathComponent("datasets/sample")

  /// truth.csv as rows of named fields.
  static func truth() throws -> [[String: String]] {
    let lines = try String(contentsOf: sample.appendingPathComponent("truth.csv"), encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = lines[0]
    return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
  }

  func score(_ configure: (inout ScoreOptions) -> Void = { _ in }) throws -> ScoringResult {
    var o = ScoreOptions(
      inputPath: Self.sample.appendingPathComponent("transactions.csv").path, outputDirectory: dir.path("out"))
    configure(&o)
    return try ScoringRun.run(o)
  }

  /// The columns no step after the tier stage reads are released (their
  /// memory reused by the later stages); the tiers still had them.
  @Test func releasesTheLedgerColumnsOnlyTiersRead() throws {
    let result = try score()
    let l = result.ledger
    #expect(l.columns.listPrice && l.columns.promo && l.columns.channel && l.columns.store)
    #expect(l.listPrice.isEmpty && l.promo.isEmpty && l.channel.isEmpty && l.store.isEmpty)
    #expect(l.amount.count == l.rowCount && l.rowCount > 0)
    let tiers = try #require(result.tiers)
    #expect(tiers.tier.contains { $0 != nil })
    let ingest = try TransactionReader.read(path: Self.sample.appendingPathComponent("transactions.csv").path)
    let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
    #expect(result.model.tiers == (try TierStage.fit(ledger: ingest.ledger, table: table)))
  }

  @Test func repurchaseCyclesAreRecoveredWithinFivePercent() throws {
    let result = try score { $0.stages = [.intervals] }
    let model = try #require(result.model.intervals)
    let truth = try Self.truth()
    for category in TreatmentCategory.catalog {
      let m = try #require(model.categories.first { $0.name == category.id })
      guard category.cycleDays != nil else {
        #expect(m.basis == .oneOff, "\(category.id) should be detected as one-off")
        continue
      }
      // The true mean gap of the category: the mean personal cycle of its customers.
      let cycles = truth.compactMap { Double($0["cycle_\(category.id)"] ?? "") }
      let trueMean = cycles.reduce(0, +) / Double(cycles.count)
      let fitted = try #require(m.meanGapDays)
      #expect(m.basis == .fitted)
      #expect(abs(fitted - trueMean) / trueMean < 0.05, "\(category.id): fitted mean gap \(fitted) vs true \(trueMean)")
    }
  }

  @Test func backtestBeatsTheNaiveBaseline() throws {
    let cutoff = DayNumber.from(year: 2025, month: 7, day: 1)
    let r = try BacktestRun.run(
      BacktestOptions(
        inputPath: Self.sample.appendingPathComponent("transactions.csv").path, outputDirectory: dir.path("bt"),
        cutoffDay: cutoff))
    let iv = r.report.intervals
    let mae = try #require(iv.model.nextPurchaseMeanAbsoluteErrorDays)
    let baseMAE = try #require(iv.baseline.nextPurchaseMeanAbsoluteErrorDays)
    #expect(mae < baseMAE)
    for (m, b) in zip(iv.model.horizons, iv.baseline.horizons) {
      #expect(try #require(m.brierScore) < #require(b.brierScore), "Brier \(m.days)d")
    }
    #expect(FileManager.default.fileExists(atPath: dir.path("bt/backtest.json")))
  }

  @Test func stagesCanBeRunAlone() throws {
    _ = try score()  // a full run first: its due.json must not survive the next
    let rfmOnly = try score { $0.stages = [.rfm] }
    #expect(rfmOnly.intervals == nil && rfmOnly.model.intervals == nil)
    #expect(!FileManager.default.fileExists(atPath: dir.path("out/due.json")))
    let line = try String(contentsOfFile: dir.path("out/customers.jsonl"), encoding: .utf8).split(separator: "\n")[0]
    #expect(!line.contains("repurchase"))
  }

  @Test func dueListsRespectTheirCapAndThreshold() throws {
    _ = try score {
      $0.dueLimit = 5; $0.dueMinimumProbability = 0.5
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: dir.path("out/due.json")))
    let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    for list in try #require(doc["categories"] as? [[String: Any]]) {
      let entries = try #require(list["entries"] as? [[String: Any]])
      #expect(entries.count <= 5)
      let p = entries.compactMap { $0["probability"] as? Double }
      #expect(p.allSatisfy { $0 >= 0.5 })
      #expect(p == p.sorted(by: >))
    }
  }

  @Test func lifetimeHoldoutScoresBothModelsAndTheChosenOneIsNotWorse() throws {
    let cutoff = DayNumber.from(year: 2025, month: 1, day: 1)
    let r = try BacktestRun.run(
      BacktestOptions(
        inputPath: Self.sample.appendingPathComponent("transactions.csv").path, outputDirectory: dir.path("bt"),
        cutoffDay: cutoff))
    let lt = r.report.lifetime
    #expect(lt.holdoutDays == 365)
    #expect(lt.models.map { $0.model.hasPrefix("mbg_cnbd_k") || $0.model == "bg_nbd" } == [true, true])
    let chosen = try #require(lt.models.first { $0.model.hasPrefix(lt.chosen) })
    #expect(lt.models.allSatisfy { chosen.meanAbsoluteError <= $0.meanAbsoluteError })
    // Predictions are within 20% of what happened in total.
    #expect(abs(chosen.predictedPurchases - lt.actualPurchases) / lt.actualPurchases < 0.2)
  }

  @Test func lifetimeFieldsAreFiniteProbabilitiesAndNonNegativeValues() throws {
    let result = try score { $0.stages = [.rfm, .lifetime] }
    let cols = try #require(result.lifetime)
    #expect(result.model.lifetime?.chosen != LifetimeModelKind.none)
    for c in 0..<cols.clv.count {
      let p = try #require(cols.probabilityAlive[c])
      #expect(p >= 0 && p <= 1)
      #expect(try #require(cols.clv[c]) >= 0)
      #expect(try #require(cols.expectedPurchases[c]) >= 0)
    }
    // Customers who stopped long ago are worth less than recent champions.
    let rfm = try #require(result.rfm)
    func meanCLV(_ s: RFMSegment) -> Double {
      let m = (0..<cols.clv.count).filter { rfm.segment[$0] == s }.map { cols.clv[$0] ?? 0 }
      return m.reduce(0, +) / Double(max(1, m.count))
    }
    #expect(meanCLV(.champions) > meanCLV(.lost))
  }
}
