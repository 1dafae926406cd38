import Foundation

/// The report of a `koi backtest` directory (backtest.json): calibration of
/// the 30/60/90-day repurchase probabilities for Koi and the naive
/// baseline, and predicted against actual purchases by calibration repeat
/// count for each lifetime model.
struct BacktestInputs: Decodable, Sendable {
  struct Horizon: Decodable, Sendable {
    struct Decile: Decodable, Sendable {
      var decile: Int
      var count: Int
      var meanPredicted: Double
      var observedRate: Double
    }
    var days: Int
    var brierScore: Double?
    var auc: Double?
    var logLoss: Double?
    var nPairs: Int?
    var observedRate: Double?
    var calibration: [Decile]?
  }
  struct Predictor: Decodable, Sendable {
    var horizons: [Horizon]?
    var nextPurchaseMaeDays: Double?
  }
  struct Intervals: Decodable, Sendable {
    var model: Predictor?
    var baseline: Predictor?
    var nEvaluatedPairs: Int?
  }
  struct LifetimeModel: Decodable, Sendable {
    struct Row: Decodable, Sendable {
      var calibrationRepeats: Int
      var customers: Int
      var meanActual: Double
      var meanPredicted: Double
    }
    var model: String
    var predictedPurchases: Double?
    var meanAbsoluteError: Double?
    var rootMeanSquaredError: Double?
    var byCalibrationRepeats: [Row]?
  }
  struct Lifetime: Decodable, Sendable {
    var chosen: String?
    var customers: Int?
    var holdoutDays: Int?
    var actualPurchases: Int?
    var models: [LifetimeModel]?
  }
  var cutoff: String?
  var koiVersion: String?
  var intervals: Intervals?
  var lifetime: Lifetime?

  static func read(directory: String) throws -> BacktestInputs {
    let path = directory + "/backtest.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ReportError(kind: .missing, path: path, message: "cannot be read; check its permissions")
    }
    do { return try ReportInputs.decoder().decode(BacktestInputs.self, from: data) } catch {
      throw ReportError(
        kind: .invalid, path: path,
        message:
          "is not a backtest.json this version can read (\(ReportInputs.describe(error))); run koi backtest again")
    }
  }
}

/// The sections of a backtest report.
struct BacktestContent {
  let inputs: BacktestInputs
  let language: ReportLanguage
  private func t(_ p: ReportPhrase) -> String { language(p) }

  var sections: [ReportSection] {
    [repurchase(), lifetime()]
  }

  func repurchase() -> ReportSection {
    var s = ReportSection(id: "backtest-repurchase", title: t(.backtestRepurchase), guide: t(.backtestRepurchaseGuide))
    s.figures.append((t(.cutoff), inputs.cutoff ?? "—"))
    guard let model = inputs.intervals?.model?.horizons, !model.isEmpty else {
      s.missing.append(t(.missingPrefix) + "backtest.json intervals")
      return s
    }
    let baseline = inputs.intervals?.baseline?.horizons ?? []
    var rows: [[String]] = []
    var figures: [ReportFigure] = []
    for h in model {
      let b = baseline.first { $0.days == h.days }
      rows.append([
        "\(h.days)", h.brierScore.map { language.number($0, decimals: 4) } ?? "—",
        b?.brierScore.map { language.number($0, decimals: 4) } ?? "—",
        h.auc.map { language.number($0, decimals: 3) } ?? "—", b?.auc.map { language.number($0, decimals: 3) } ?? "—",
        language.count(h.nPairs ?? 0),
      ])
      var series: [(name: String, points: [(x: Double, y: Double)])] = [
        (
          "Koi",
          (h.calibration ?? []).sorted { $0.meanPredicted < $1.meanPredicted }.map {
            ($0.meanPredicted, $0.observedRate)
          }
        )
      ]
      if let bc = b?.calibration, !bc.isEmpty {
        series.append(
          (t(.baseline), bc.sorted { $0.meanPredicted < $1.meanPredicted }.map { ($0.meanPredicted, $0.observedRate) }))
      }
      let title = t(.calibrationWithin).replacingOccurrences(of: "%d", with: String(h.days))
      figures.append(
        ReportFigure(
          title: title,
          chart: SVGCharts(language: language, width: 420).lines(
            series: series, xUnit: .probability, yUnit: .probability, xTitle: t(.predicted), yTitle: t(.observed),
            label: title, height: 220, diagonal: true)))
    }
    s.groups.append(ReportFigureGroup(columns: 3, figures: figures))
    s.tables.append(
      (
        t(.backtestScores),
        ReportTable(
          headers: [
            t(.windowDays), "Brier (Koi)", "Brier (" + t(.baseline) + ")", "AUC (Koi)", "AUC (" + t(.baseline) + ")",
            t(.pairs),
          ],
          rows: rows, numeric: Array(repeating: true, count: 6))
      ))
    if let mae = inputs.intervals?.model?.nextPurchaseMaeDays {
      s.figures.append((t(.maeNextPurchase), language.value(mae, unit: .days)))
    }
    if let mae = inputs.intervals?.baseline?.nextPurchaseMaeDays {
      s.figures.append((t(.maeNextPurchase) + " (" + t(.baseline) + ")", language.value(mae, unit: .days)))
    }
    return s
  }

  func lifetime() -> ReportSection {
    var s = ReportSection(id: "backtest-lifetime", title: t(.backtestLifetime), guide: t(.backtestLifetimeGuide))
    guard let life = inputs.lifetime, let models = life.models, !models.isEmpty else {
      s.missing.append(t(.missingPrefix) + "backtest.json lifetime")
      return s
    }
    s.figures.append((t(.customers), language.count(life.customers ?? 0)))
    s.figures.append((t(.actualPurchases), language.count(life.actualPurchases ?? 0)))
    for m in models {
      s.figures.append(
        (t(.predictedPurchases) + " · " + m.model, language.number(m.predictedPurchases ?? .nan, decimals: 0)))
    }
    var figures: [ReportFigure] = []
    for m in models {
      let rows = m.byCalibrationRepeats ?? []
      guard !rows.isEmpty else { continue }
      let cats = rows.map { $0.calibrationRepeats >= 7 ? "7+" : "\($0.calibrationRepeats)" }
      figures.append(
        ReportFigure(
          title: m.model + (m.model.hasPrefix(life.chosen ?? "-") ? " ✓" : ""),
          chart: SVGCharts(language: language, width: 560).bars(
            categories: cats,
            series: [(t(.meanPredicted), rows.map(\.meanPredicted)), (t(.meanActual), rows.map(\.meanActual))],
            unit: .count, axisTitle: t(.purchasesPerCustomer), label: m.model)))
    }
    if !figures.isEmpty {
      s.groups.append(ReportFigureGroup(columns: 2, figures: figures, title: t(.byRepeats)))
    }
    return s
  }
}
