/// Holdout check of the lifetime models: fit on the purchases before a
/// cutoff, predict each customer's purchases in the holdout window
/// `[cutoff, end)`, and compare with what happened.
///
/// A customer's actual count is the number of distinct purchase days in the
/// window, the unit the models predict (purchase occasions). Both BG/NBD and
/// the regular-timing model (MBG/CNBD-k) are scored whichever the
/// calibration likelihood chose, so they can be compared.
enum LifetimeBacktest {
  public static func run(ledger: Ledger, cutoffDay: Int32, options: LifetimeOptions = LifetimeOptions())
    -> LifetimeBacktestReport
  {
    let (calibration, originalCustomer) = ledger.purchasesBefore(cutoffDay)
    let endDay = (ledger.day.max() ?? cutoffDay) + 1
    let horizon = Double(endDay - cutoffDay)
    let table = CustomerTable(ledger: calibration, asOfDay: cutoffDay)
    let summary = LifetimeSummary(ledger: calibration, table: table)
    let model = LifetimeStage.fit(summary, options: options)

    var actual = [Double](repeating: 0, count: summary.count)
    for c in 0..<summary.count {
      var last = Int32.min
      for i in ledger.rows(of: Int(originalCustomer[c]))
      where ledger.day[i] >= cutoffDay && isPurchase(ledger.amount[i]) {
        if ledger.day[i] != last { actual[c] += 1; last = ledger.day[i] }
      }
    }

    func evaluate(_ name: String, _ predict: (Int) -> Double) -> LifetimeBacktestReport.ModelHoldout {
      var predicted = [Double](repeating: .nan, count: summary.count)
      for c in 0..<summary.count where summary.isValid(c) { predicted[c] = predict(c) }
      return .init(model: name, predicted: predicted, actual: actual, frequency: summary.frequency)
    }
    var models: [LifetimeBacktestReport.ModelHoldout] = []
    if let fit = model.bgnbd, fit.diagnostics.converged {
      models.append(
        evaluate(LifetimeModelKind.bgnbd.rawValue) { c in
          BGNBD.expectedPurchases(
            fit.parameters, x: Double(summary.frequency[c]), tx: summary.recency[c], t: summary.age[c], horizon: horizon
          )
        })
    }
    if let fit = model.regularTiming, fit.diagnostics.converged {
      models.append(
        evaluate(LifetimeModelKind.regularTiming.rawValue + "_\(fit.parameters.k)") { c in
          RegularTimingMBG.expectedPurchases(
            fit.parameters, x: Double(summary.frequency[c]), tx: summary.recency[c], t: summary.age[c], horizon: horizon
          )
        })
    }
    return LifetimeBacktestReport(
      cutoffDay: cutoffDay, endDay: endDay, holdoutDays: Int(horizon), customers: summary.count,
      actualPurchases: actual.reduce(0, +), chosen: model.chosen.rawValue, models: models, model: model)
  }
}

/// What `LifetimeBacktest.run` measured.
public struct LifetimeBacktestReport: Sendable, Codable {
  struct Bucket: Sendable, Codable {
    /// Repeat purchase days in the calibration window (the last bucket is "this or more").
    var calibrationRepeats: Int
    public var customers: Int
    var meanActual: Double
    var meanPredicted: Double
  }

  struct ModelHoldout: Sendable, Codable {
    public var model: String
    var predictedPurchases: Double
    /// Per-customer errors of predicted against actual purchase days.
    var meanAbsoluteError: Double
    var rootMeanSquaredError: Double
    /// Mean actual and predicted purchases by calibration repeat count 0 … 7+.
    var byCalibrationRepeats: [Bucket]

    init(model: String, predicted: [Double], actual: [Double], frequency: [Int32]) {
      self.model = model
      var total = 0.0, abs = 0.0, sq = 0.0, n = 0.0
      var bucketN = [Int](repeating: 0, count: 8)
      var bucketActual = [Double](repeating: 0, count: 8), bucketPredicted = [Double](repeating: 0, count: 8)
      for c in predicted.indices where predicted[c].isFinite {
        let e = predicted[c] - actual[c]
        total += predicted[c]; abs += Swift.abs(e); sq += e * e; n += 1
        let b = min(7, Int(frequency[c]))
        bucketN[b] += 1; bucketActual[b] += actual[c]; bucketPredicted[b] += predicted[c]
      }
      predictedPurchases = rounded(total, 1)
      meanAbsoluteError = n > 0 ? rounded(abs / n, 4) : .nan
      rootMeanSquaredError = n > 0 ? rounded((sq / n).squareRoot(), 4) : .nan
      byCalibrationRepeats = (0..<8).filter { bucketN[$0] > 0 }.map { b in
        Bucket(
          calibrationRepeats: b, customers: bucketN[b],
          meanActual: rounded(bucketActual[b] / Double(bucketN[b]), 4),
          meanPredicted: rounded(bucketPredicted[b] / Double(bucketN[b]), 4))
      }
    }
  }

  public var cutoffDay: Int32
  public var endDay: Int32
  var holdoutDays: Int
  public var customers: Int
  /// Purchase days in the holdout, all customers.
  var actualPurchases: Double
  /// The model the calibration likelihood chose.
  public var chosen: String
  var models: [ModelHoldout]
  /// The models fitted on the calibration window.
  public var model: LifetimeModel
}
