import Foundation
import GRDB
import GRDBSQLite

/// How one earlier scheduled run's 30-day repurchase predictions fared
/// against the purchases that arrived in its window: run.json
/// `prediction_checks[]`, history.sqlite `prediction_checks`.
///
/// For the run's pairs (customer, treatment) with a probability p of buying
/// within 30 days of its as-of date A, the outcome y is 1 when the customer
/// bought the treatment on a day in [A, A + 30), as the later run's ledger
/// shows; a run is checked once the later run's as-of date is ≥ A + 30.
///
/// ```
/// Brier = (1/n) Σ (p − y)²        (0 perfect; always saying the base rate ȳ scores ȳ(1 − ȳ))
/// calibration: pairs by decile of p (p in [d/10, (d+1)/10)), mean p against mean y
/// due-list hit rate = due-listed pairs with y = 1 / due-listed pairs
/// ```
public struct PredictionCheck: Sendable, Codable, Equatable {
  public struct Decile: Sendable, Codable, Equatable {
    public var decile: Int
    public var pairs: Int
    public var meanPredicted: Double
    public var observedRate: Double
  }
  /// The run whose predictions were checked, its as-of date, and the end
  /// of its window (exclusive).
  public var runId: String
  public var asOf: String
  public var windowEnd: String
  public var pairs: Int
  public var brier: Double
  /// Share of pairs that bought in the window (ȳ).
  public var baseRate: Double
  public var dueListed: Int
  public var dueBought: Int
  public var calibration: [Decile]
}

/// Keeps each scheduled run's predictions and checks earlier ones (the
/// `v3` migration's tables). Predictions are what the run's files say
/// (customers.jsonl `probability_30d`, due.json), taken from its columns;
/// outcomes come from the later run's ledger.
enum PredictionChecks {
  static let windowDays: Int32 = 30

  /// One pair's prediction as history.sqlite keeps it.
  struct Prediction: Equatable {
    var customerID: String
    var category: String
    var probability30d: Double
    var dueListed: Bool
  }

  /// The pairs of a run with a finite 30-day probability, in the order of
  /// run_predictions' key (customer id, then category, by their bytes), so
  /// that each row is added at the end of the table's B-tree: in
  /// customers.jsonl order every row went to a random page, and a later
  /// run's 2.2M rows took 5.3 s. The probability is its text as it reads
  /// back (`JSONWriter.valueAsRead`); a pair is due-listed when due.json
  /// lists it. Empty without the interval stage. (Reading the files back
  /// took 6.5 s of a 10M-row `koi run`.) `order`: `RadixSort.utf8Order`
  /// of the ledger's customer ids, when the caller has it.
  static func predictions(scoring: ScoringResult, order: [Int32]? = nil) -> [Prediction] {
    var out: [Prediction] = []
    forEachPrediction(scoring: scoring, order: order) { out.append($0) }
    return out
  }

  /// `predictions(scoring:order:)`, one at a time, without the array (2.2M
  /// rows at 10M rows: about 100 MB, alive beside the exports).
  static func forEachPrediction(scoring: ScoringResult, order: [Int32]? = nil, _ body: (Prediction) throws -> Void)
    rethrows
  {
    guard let scores = scoring.outputs[IntervalStage.self], let model = scoring.model[IntervalStage.self] else {
      return
    }
    let columns = scores.columns
    // due.json has the lists of the categories that predict (`DueListWriter`).
    var listed = [Bool](repeating: false, count: columns.pairCount)
    for (k, list) in scores.dueLists.enumerated() where model.categories[k].predicts {
      for e in list { listed[e.pair] = true }
    }
    let names = model.categories.map(\.name)
    var rank = [Int](repeating: 0, count: names.count)
    for (r, k) in RadixSort.utf8Order(names).enumerated() { rank[Int(k)] = r }
    let ids = scoring.ledger.customerIDs
    // The columns read here, apart: a closure that captured `columns`
    // copied the whole struct (about 0.8 CPU-s in a 10M-row run's profile).
    let (pairStart, category, probability30) = (columns.pairStart, columns.category, columns.probability30)
    var pairs: [Int] = []
    for c in (order ?? RadixSort.utf8Order(ids)).lazy.map(Int.init) {
      pairs.removeAll(keepingCapacity: true)
      pairs.append(contentsOf: pairStart[c]..<pairStart[c + 1])
      pairs.sort { rank[Int(category[$0])] < rank[Int(category[$1])] }
      for p in pairs {
        guard let probability = JSONWriter.valueAsRead(probability30[p], decimals: 4) else { continue }
        try body(
          Prediction(
            customerID: ids[c], category: names[Int(category[p])], probability30d: probability, dueListed: listed[p]))
      }
    }
  }

  /// Records the run's predictions (in one transaction).
  static func record(runID: String, scoring: ScoringResult, db: DatabaseQueue, order: [Int32]? = nil) throws {
    guard let scores = scoring.outputs[IntervalStage.self], scoring.model[IntervalStage.self] != nil else { return }
    // The rows `forEachPrediction` gives: every pair with a finite probability.
    let rows = scores.columns.probability30.lazy.filter(\.isFinite).count
    try db.write { db in
      var insert = RowInserter(
        db, table: "run_predictions", columns: ["run_id", "customer_id", "category", "probability_30d", "due_listed"],
        rows: rows)
      try forEachPrediction(scoring: scoring, order: order) { r in
        try insert.text(runID)
        try insert.text(r.customerID)
        try insert.text(r.category)
        try insert.double(r.probability30d)
        try insert.int(r.dueListed ? 1 : 0)
        try insert.endRow()
      }
      insert.finish()
    }
  }

  /// Checks every earlier run whose window has passed by `asOfDay` and
  /// that is not checked yet, against `ledger`; records the checks and
  /// drops those runs' predictions. Returns the checks made, oldest first.
  static func checkEarlier(
    db: DatabaseQueue, currentRunID: String, asOfDay: Int32, ledger: Ledger, order: [Int32]? = nil
  ) throws
    -> [PredictionCheck]
  {
    let due = try db.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT r.id AS id, r.as_of AS as_of FROM runs r
          WHERE r.id < ? AND r.status = 'succeeded'
            AND EXISTS (SELECT 1 FROM run_predictions p WHERE p.run_id = r.id)
            AND NOT EXISTS (SELECT 1 FROM prediction_checks c WHERE c.run_id = r.id)
          ORDER BY r.id
          """, arguments: [currentRunID]
      ).compactMap { row -> (String, Int32)? in
        guard let d = DayNumber.parse(row["as_of"] as String) else { return nil }
        return (row["id"], d)
      }
    }.filter { $0.1 + windowDays <= asOfDay }
    guard !due.isEmpty else { return [] }
    let order = order ?? RadixSort.utf8Order(ledger.customerIDs)
    let categories = ledger.categories.map { Array($0.utf8) }
    var checks: [PredictionCheck] = []
    for (runID, start) in due {
      let end = start + windowDays
      var n = 0
      var sq = 0.0
      var bought = 0
      var dueListed = 0
      var dueBought = 0
      var bins = Array(repeating: (pairs: 0, p: 0.0, y: 0), count: 10)
      var customers = KeyOrderMatch(ids: ledger.customerIDs, order: order)
      try db.read { db in
        // In key order, matched to the ledger's customers by `KeyOrderMatch`.
        let rows = try db.makeStatement(
          sql: """
            SELECT customer_id, category, probability_30d, due_listed FROM run_predictions
            WHERE run_id = ? ORDER BY customer_id, category
            """)
        rows.arguments = [runID]
        try rows.forEachRow { st in
          let p = sqlite3_column_double(st, 2)
          var y = 0
          let category = rows.textBytes(1)
          if let c = customers.customer(rows.textBytes(0)),
            let k = categories.firstIndex(where: { $0.withUnsafeBytes { KeyOrderMatch.compare($0, category) == 0 } })
          {
            for row in ledger.rows(of: c) where ledger.category[row] == Int32(k) {
              let d = ledger.day[row]
              if d >= start && d < end { y = 1; break }
            }
          }
          n += 1
          sq += (p - Double(y)) * (p - Double(y))
          bought += y
          let b = min(9, max(0, Int(p * 10)))
          bins[b].pairs += 1
          bins[b].p += p
          bins[b].y += y
          if sqlite3_column_int64(st, 3) == 1 {
            dueListed += 1
            dueBought += y
          }
        }
      }
      guard n > 0 else { continue }
      let check = PredictionCheck(
        runId: runID, asOf: DayNumber.format(start), windowEnd: DayNumber.format(end), pairs: n,
        brier: rounded(sq / Double(n), 6), baseRate: rounded(Double(bought) / Double(n), 6), dueListed: dueListed,
        dueBought: dueBought,
        calibration: bins.enumerated().filter { $0.element.pairs > 0 }.map {
          PredictionCheck.Decile(
            decile: $0.offset + 1, pairs: $0.element.pairs,
            meanPredicted: rounded($0.element.p / Double($0.element.pairs), 6),
            observedRate: rounded(Double($0.element.y) / Double($0.element.pairs), 6))
        })
      let json = String(decoding: try JSONEncoder.koiCompact.encode(check), as: UTF8.self)
      // The check and the deletion of the checked predictions are one
      // transaction; `runID` was read from `runs` under the output lock.
      try db.writeDeletingChildRows { db in
        try db.execute(
          sql: "INSERT INTO prediction_checks (run_id, checked_in, as_of, brier, check_json) VALUES (?, ?, ?, ?, ?)",
          arguments: [runID, currentRunID, check.asOf, check.brier, json])
        // When the run's predictions are the only ones kept (runs a month
        // or more apart), SQLite clears the table by pages (its truncate
        // optimisation, with foreign keys off) instead of row by row:
        // 0.82 against 1.40 s for a 10M-row run's 2.2M rows (sqlite3 3.40).
        let others = try Bool.fetchOne(
          db, sql: "SELECT EXISTS (SELECT 1 FROM run_predictions WHERE run_id < ? OR run_id > ?)",
          arguments: [runID, runID])
        if others == false {
          try db.execute(sql: "DELETE FROM run_predictions")
        } else {
          try db.execute(sql: "DELETE FROM run_predictions WHERE run_id = ?", arguments: [runID])
        }
      }
      checks.append(check)
    }
    return checks
  }

  /// Every check recorded for runs before `runID` (plus the ones
  /// `including` made now), oldest run first.
  static func all(_ db: any DatabaseReader, before runID: String) throws -> [PredictionCheck] {
    let decoder = JSONDecoder.koi
    return try db.read { db in
      guard try db.tableExists("prediction_checks") else { return [] }
      return try String.fetchAll(
        db, sql: "SELECT check_json FROM prediction_checks WHERE run_id < ? ORDER BY run_id", arguments: [runID]
      ).compactMap { try? decoder.decode(PredictionCheck.self, from: Data($0.utf8)) }
    }
  }
}
