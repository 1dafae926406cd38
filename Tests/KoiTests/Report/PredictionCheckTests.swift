import Foundation
import GRDB
import Testing

@testable import Koi

/// `koi run` checks earlier runs' 30-day predictions against the purchases
/// of their window; the figures are recomputed here from the files alone.
@Suite struct PredictionCheckTests {
  let dir = TemporaryDirectory()

  /// The predictions kept in history.sqlite come from the run's columns;
  /// they are what its files say, read here with `JSONSerialization`.
  @Test func thePredictionsKeptAreWhatTheFilesSay() throws {
    let o = ScoreOptions(inputPath: ScheduledRunFixture.transactions, outputDirectory: dir.path("score"))
    let result = try ScoringRun.run(o)
    func object(_ data: Data) throws -> [String: Any] {
      try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
    var listed = Set<String>()
    let due = try object(try Data(contentsOf: URL(fileURLWithPath: o.outputDirectory + "/due.json")))
    for case let c as [String: Any] in due["categories"] as? [Any] ?? [] {
      for case let e as [String: Any] in c["entries"] as? [Any] ?? [] {
        listed.insert("\(e["customer_id"] ?? "")|\(c["category"] ?? "")")
      }
    }
    var expected: [PredictionChecks.Prediction] = []
    let lines = try String(contentsOfFile: o.outputDirectory + "/customers.jsonl", encoding: .utf8)
    for line in lines.split(separator: "\n") {
      let r = try object(Data(line.utf8))
      let id = try #require(r["customer_id"] as? String)
      for case let p as [String: Any] in r["repurchase"] as? [Any] ?? [] {
        guard let p30 = (p["probability_30d"] as? NSNumber)?.doubleValue else { continue }
        let category = try #require(p["category"] as? String)
        expected.append(
          .init(
            customerID: id, category: category, probability30d: p30, dueListed: listed.contains("\(id)|\(category)")))
      }
    }
    let kept = PredictionChecks.predictions(scoring: result)
    #expect(kept.count == expected.count && kept.contains { $0.dueListed })
    // In the table's key order: customer id, then category, by bytes.
    let byKey = expected.sorted { a, b in
      let x = Array(a.customerID.utf8), y = Array(b.customerID.utf8)
      return x != y ? x.lexicographicallyPrecedes(y) : Array(a.category.utf8).lexicographicallyPrecedes(b.category.utf8)
    }
    #expect(kept == byKey)
  }

  @Test func aLaterRunScoresTheEarlierRunsPredictionsAgainstWhatArrived() throws {
    var c = try ScheduledRunFixture.config(out: dir.path("out"))
    c.asOf = .date(DayNumber.parse("2025-01-01") ?? 0)
    let first = try ScheduledRun.run(c)
    #expect(first.scoring.manifest.predictionChecks == [])
    // 20 days later the window has not passed: nothing is checked.
    c.asOf = .date(DayNumber.parse("2025-01-21") ?? 0)
    let early = try ScheduledRun.run(c)
    #expect(early.scoring.manifest.predictionChecks == [])
    c.asOf = .date(DayNumber.parse("2025-04-01") ?? 0)
    let later = try ScheduledRun.run(c)
    let checks = later.scoring.manifest.predictionChecks ?? []
    #expect(checks.map(\.runId) == [first.runID, early.runID])
    // The checked runs' predictions are gone (the first's by its rows, while
    // the second's were kept; the second's by clearing the table), this
    // run's are kept, every pair with a probability.
    let history = try RunHistory(path: dir.path("out") + "/history.sqlite")
    let kept = try history.db.read {
      try Row.fetchAll($0, sql: "SELECT run_id, COUNT(*) AS n FROM run_predictions GROUP BY run_id")
    }
    #expect(kept.map { $0["run_id"] as String } == [later.runID])
    #expect(kept.map { $0["n"] as Int } == [PredictionChecks.predictions(scoring: later.scoring).count])
    let check = try #require(checks.first)
    #expect(check.asOf == "2025-01-01" && check.windowEnd == "2025-01-31")

    // Independently: the first run's probabilities and due lists, and the
    // fixture's purchases dated in [2025-01-01, 2025-01-31).
    var bought = Set<String>()
    let csv = try String(contentsOfFile: ScheduledRunFixture.transactions, encoding: .utf8)
    for line in csv.split(separator: "\n").dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      guard f.count >= 3 else { continue }
      let day = String(f[1].prefix(10))
      if day >= "2025-01-01" && day < "2025-01-31" { bought.insert("\(f[0])|\(f[2])") }
    }
    var n = 0
    var sq = 0.0
    var positives = 0
    let lines = try String(contentsOfFile: first.runDirectory + "/customers.jsonl", encoding: .utf8)
    for line in lines.split(separator: "\n") {
      let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
      let id = r["customer_id"] as? String ?? ""
      for rep in r["repurchase"] as? [[String: Any]] ?? [] {
        guard let p = rep["probability_30d"] as? Double else { continue }
        let y = bought.contains("\(id)|\(rep["category"] as? String ?? "")") ? 1.0 : 0.0
        n += 1
        sq += (p - y) * (p - y)
        positives += Int(y)
      }
    }
    let due =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first.runDirectory + "/due.json")))
      as? [String: Any] ?? [:]
    var listed = 0
    var listedBought = 0
    for cat in due["categories"] as? [[String: Any]] ?? [] {
      for e in cat["entries"] as? [[String: Any]] ?? [] {
        listed += 1
        if bought.contains("\(e["customer_id"] as? String ?? "")|\(cat["category"] as? String ?? "")") {
          listedBought += 1
        }
      }
    }
    #expect(n > 100 && positives > 0)
    #expect(check.pairs == n)
    #expect(abs(check.brier - sq / Double(n)) < 1e-6)
    #expect(abs(check.baseRate - Double(positives) / Double(n)) < 1e-6)
    #expect(check.dueListed == listed && check.dueBought == listedBought)
    #expect(check.calibration.map(\.pairs).reduce(0, +) == n)
    // The model beats always saying the base rate.
    #expect(check.brier < check.baseRate * (1 - check.baseRate))

    // Checked once: the next run checks only the runs after these.
    c.asOf = .date(DayNumber.parse("2025-07-01") ?? 0)
    let next = try ScheduledRun.run(c)
    #expect(next.scoring.manifest.predictionChecks?.map(\.runId) == [later.runID])
    // The report charts them.
    let html = try String(contentsOfFile: next.runDirectory + "/report.html", encoding: .utf8)
    #expect(html.contains(ReportLanguage.zh(.brierOverRuns)))
    #expect(html.contains(ReportLanguage.zh(.calibration)))
    #expect(!html.contains(ReportLanguage.zh(.predictionsNone)))
  }
}
