import Foundation

/// One chart of a section with its caption.
struct ReportFigure: Sendable {
  var title: String
  var chart: Chart
}

/// A row of figures, charts side by side (`columns` per row: small
/// multiples use 2 or 3).
struct ReportFigureGroup: Sendable {
  var columns: Int
  var figures: [ReportFigure]
  /// A heading over small multiples.
  var title: String? = nil
}

/// One section of report.html: a title, its one-sentence reading guide,
/// and key figures, charts, tables and notes — or why it is missing.
struct ReportSection: Sendable {
  var id: String
  var title: String
  var guide: String
  var missing: [String] = []
  var figures: [(label: String, value: String)] = []
  var groups: [ReportFigureGroup] = []
  var tables: [(title: String, table: ReportTable)] = []
  var notes: [String] = []

  /// Charts in the section (for tests: none may be empty).
  var charts: [Chart] { groups.flatMap { $0.figures.map(\.chart) } }
}

/// Builds the sections of report.html from a run directory's contents.
struct ReportContent {
  let inputs: ReportInputs
  let history: ReportHistory?
  let language: ReportLanguage
  var svg: SVGCharts { SVGCharts(language: language) }

  private func t(_ p: ReportPhrase) -> String { language(p) }
  private func ran(_ stage: String) -> Bool { inputs.run.stages?.contains(stage) ?? false }

  var sections: [ReportSection] {
    [overview(), rfm(), tiers(), repurchase(), lifetime(), change(), predictions(), quality()]
  }

  // MARK: - Overview

  func overview() -> ReportSection {
    var s = ReportSection(id: "overview", title: t(.overview), guide: t(.overviewGuide))
    let c = inputs.customers
    s.figures.append((t(.customers), language.count(inputs.run.customers ?? c.customers)))
    s.figures.append((t(.netRevenue), language.money(inputs.segments.revenue ?? c.revenue)))
    if let top = inputs.segments.rfm?.top20PercentRevenueShare {
      s.figures.append((t(.top20Share), language.percent(top)))
    }
    if ran("lifetime"), c.withLifetime > 0 {
      s.figures.append((t(.activeCustomers), language.count(c.active)))
      let days = inputs.segments.lifetime?.horizonDays ?? 365
      s.figures.append(
        (t(.expectedRevenue).replacingOccurrences(of: "%d", with: String(days)), language.money(c.expectedRevenue)))
      s.figures.append((t(.totalCLV), language.money(c.clv.total)))
    }
    let rows = inputs.run.rows
    s.figures.append((t(.rowsRead), language.count(rows?.read ?? 0)))
    s.figures.append((t(.rowsUsed), language.count(rows?.used ?? 0)))
    s.figures.append((t(.rowsRejected), language.count(rows?.rejected ?? 0)))
    s.figures.append(
      (t(.stagesRun), (inputs.run.stages ?? []).map(language.stageName).joined(separator: language == .zh ? "、" : ", "))
    )
    if c.customers == 0 { s.missing.append(t(.noCustomers)) }
    for w in (inputs.run.warnings ?? []).prefix(10) { s.notes.append(t(.warnings) + ": " + w) }
    return s
  }

  // MARK: - RFM

  func rfm() -> ReportSection {
    var s = ReportSection(id: "rfm", title: t(.rfm), guide: t(.rfmGuide))
    guard ran("rfm"), let r = inputs.segments.rfm, let segs = r.segments else {
      s.missing.append(ran("rfm") ? t(.missingPrefix) + "segments.json rfm" : t(.stageLeftOut))
      return s
    }
    guard inputs.customers.customers > 0 else {
      s.missing.append(t(.noCustomers))
      return s
    }
    let bins = inputs.customers.bins
    let rows = (1...bins).reversed().map { String($0) }
    let cols = (0..<(2 * bins - 1)).map { language.number(Double($0 + 2) / 2, decimals: 1) }
    let grid = inputs.customers.gridCustomers.reversed().map { $0 }
    let revenue = inputs.customers.gridRevenue.reversed().map { $0 }
    let cw = min(72, (svg.width - 300) / Double(cols.count))
    s.groups.append(
      ReportFigureGroup(
        columns: 1,
        figures: [
          ReportFigure(
            title: t(.gridCustomers),
            chart: svg.heatMap(
              rows: rows, columns: cols, values: grid, unit: .count, rowTitle: t(.recencyScore),
              columnTitle: t(.fmScore), label: t(.gridCustomers), cellWidth: cw)),
          ReportFigure(
            title: t(.gridRevenue),
            chart: svg.heatMap(
              rows: rows, columns: cols, values: revenue, unit: .money, rowTitle: t(.recencyScore),
              columnTitle: t(.fmScore), label: t(.gridRevenue), cellWidth: cw)),
        ]))
    let names = segs.map { language.segmentName($0.segment) }
    s.groups.append(
      ReportFigureGroup(
        columns: 1,
        figures: [
          ReportFigure(
            title: t(.segmentShares),
            chart: svg.bars(
              categories: names,
              series: [
                (t(.shareOfCustomers), segs.map { $0.shareOfCustomers ?? 0 }),
                (t(.shareOfRevenue), segs.map { $0.shareOfRevenue ?? 0 }),
              ], unit: .share, axisTitle: t(.share) + " (%)", label: t(.segmentShares)))
        ]))
    return s
  }

  // MARK: - Tiers

  func tiers() -> ReportSection {
    var s = ReportSection(id: "tiers", title: t(.tiers), guide: t(.tiersGuide))
    guard ran("tiers"), let tiers = inputs.segments.tiers?.tiers else {
      s.missing.append(ran("tiers") ? t(.missingPrefix) + "segments.json tiers" : t(.stageLeftOut))
      return s
    }
    guard inputs.customers.customers > 0 else {
      s.missing.append(t(.noCustomers))
      return s
    }
    let names = tiers.map { language.tierName($0.id) }
    s.groups.append(
      ReportFigureGroup(
        columns: 1,
        figures: [
          ReportFigure(
            title: t(.tierShares),
            chart: svg.bars(
              categories: names,
              series: [
                (t(.shareOfCustomers), tiers.map { $0.share ?? 0 }),
                (t(.shareOfRevenue), tiers.map { $0.revenueShare ?? 0 }),
              ], unit: .share, axisTitle: t(.share) + " (%)", label: t(.tierShares)))
        ]))
    let features = inputs.segments.tiers?.features ?? []
    var small: [ReportFigure] = []
    for f in features {
      let unit = ReportLanguage.featureUnit(f)
      let values = tiers.map { $0.centroid?[f] ?? .nan }
      guard values.contains(where: \.isFinite) else { continue }
      let title = language.featureName(f)
      small.append(
        ReportFigure(
          title: title,
          chart: SVGCharts(language: language, width: 560).bars(
            categories: names, series: [(title, values.map { $0.isFinite ? $0 : 0 })], unit: unit,
            axisTitle: title, label: title)))
    }
    if !small.isEmpty { s.groups.append(ReportFigureGroup(columns: 2, figures: small, title: t(.tierProfiles))) }
    let points = tiers.compactMap { tier -> (String, Double, Double, Double)? in
      guard let a = tier.axes, let x = a.savvy, let y = a.priceSensitivity else { return nil }
      return (language.tierName(tier.id), x, y, tier.share ?? 0)
    }
    if !points.isEmpty {
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.tierPositions),
              chart: svg.quadrants(
                points: points.map { (name: $0.0, x: $0.1, y: $0.2, share: $0.3) },
                xTitle: (t(.novice), t(.savvy)), yTitle: (t(.qualityFocused), t(.priceSensitive)),
                label: t(.tierPositions)))
          ]))
    }
    return s
  }

  // MARK: - Repurchase

  /// At most this many treatments in the repurchase charts.
  static let treatmentsCharted = 24

  func repurchase() -> ReportSection {
    var s = ReportSection(id: "repurchase", title: t(.repurchase), guide: t(.repurchaseGuide))
    guard ran("intervals"), let allCategories = inputs.segments.intervals?.categories else {
      s.missing.append(ran("intervals") ? t(.missingPrefix) + "segments.json intervals" : t(.stageLeftOut))
      return s
    }
    guard inputs.customers.customers > 0, !allCategories.isEmpty else {
      s.missing.append(t(.noCustomers))
      return s
    }
    // The page stays small whatever the catalogue: the treatments with the
    // most customers are charted, the rest counted (segments.json has all).
    let cats = Array(
      allCategories.enumerated().sorted {
        ($0.element.customers ?? 0, -$0.offset) > ($1.element.customers ?? 0, -$1.offset)
      }
      .prefix(Self.treatmentsCharted).sorted { $0.offset < $1.offset }.map(\.element))
    if allCategories.count > cats.count {
      s.notes.append(
        t(.moreTreatments).replacingOccurrences(of: "%d", with: String(allCategories.count - cats.count)))
    }
    // Densities, one small chart per treatment with a fitted curve.
    let fits = Dictionary(
      (inputs.model?.intervals?.categories ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var small: [ReportFigure] = []
    var noCurve: [String] = []
    for c in cats {
      guard let fit = fits[c.category], let fam = fit.family.flatMap(IntervalFamily.init(rawValue:)),
        let mu = fit.coefficients?.first, let ls = fit.logScale, mu.isFinite, ls.isFinite
      else {
        noCurve.append("\(c.category) (\(c.basis.map(language.basisName) ?? "—"))")
        continue
      }
      let g = GapDensity(family: fam, mu: mu, sigma: Foundation.exp(ls))
      let (p10, p50, p90) = (g.quantile(0.1), g.quantile(0.5), g.quantile(0.9))
      let pts = g.curve()
      let band = "P10–P90: \(language.value(p10, unit: .days)) – \(language.value(p90, unit: .days))"
      let table = ReportTable(
        headers: ["P10", t(.median), "P90", t(.basis)],
        rows: [
          [
            language.value(p10, unit: .days), language.value(p50, unit: .days), language.value(p90, unit: .days),
            c.basis.map(language.basisName) ?? "",
          ]
        ], numeric: [true, true, true, false])
      small.append(
        ReportFigure(
          title: c.category,
          chart: SVGCharts(language: language, width: 420).lines(
            series: [(c.category, pts)], xUnit: .count, yUnit: .probability, xTitle: t(.gapDays),
            yTitle: t(.density), label: t(.gapDensity) + " " + c.category, height: 150, band: (p10, p90, band),
            markers: [(p50, t(.median) + " " + language.value(p50, unit: .days))], table: table,
            yTickLabels: false)))
    }
    if !small.isEmpty { s.groups.append(ReportFigureGroup(columns: 3, figures: small, title: t(.gapDensity))) }
    if !noCurve.isEmpty { s.notes.append(t(.noCurve) + ": " + noCurve.joined(separator: ", ")) }
    // Status counts, stacked per treatment.
    let statuses = ["not_yet_due", "due", "overdue", "lapsed", "one_off", "unknown"].filter { st in
      cats.contains { ($0.status?[st] ?? 0) > 0 }
    }
    if !statuses.isEmpty {
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.statusCounts),
              chart: svg.bars(
                categories: cats.map(\.category),
                series: statuses.map { st in (language.statusName(st), cats.map { Double($0.status?[st] ?? 0) }) },
                unit: .count, axisTitle: t(.customers), stacked: true, label: t(.statusCounts)))
          ]))
    }
    // Due calendar.
    let weeks = inputs.customers.dueWeeks
    let withDue = cats.map(\.category).filter { weeks[$0] != nil }
    if !withDue.isEmpty {
      let cols = (1...12).map { language == .zh ? "第\($0)周" : "W\($0)" }
      var chart = svg.heatMap(
        rows: withDue, columns: cols, values: withDue.map { weeks[$0] ?? [] }, unit: .count, rowTitle: t(.treatment),
        columnTitle: t(.week), label: t(.dueCalendar))
      let within = inputs.segments.intervals?.dueWithinDays ?? 30
      let listed = Dictionary(cats.map { ($0.category, $0.dueListed ?? 0) }, uniquingKeysWith: { a, _ in a })
      chart.table.headers.append(t(.dueListed).replacingOccurrences(of: "%d", with: String(within)))
      chart.table.numeric.append(true)
      for i in chart.table.rows.indices { chart.table.rows[i].append(language.count(listed[withDue[i]] ?? 0)) }
      s.groups.append(ReportFigureGroup(columns: 1, figures: [ReportFigure(title: t(.dueCalendar), chart: chart)]))
      s.tables.append(
        (
          t(.dueListed).replacingOccurrences(of: "%d", with: String(within)),
          ReportTable(
            headers: [
              t(.treatment), t(.dueListed).replacingOccurrences(of: "%d", with: String(within)), t(.medianGap),
            ],
            rows: cats.map {
              [
                $0.category, language.count($0.dueListed ?? 0),
                $0.medianGapDays.map { language.value($0, unit: .days) } ?? "—",
              ]
            }, numeric: [false, true, true])
        ))
      s.notes.append(t(.dueCalendarNote))
      s.notes.append(t(.dueListNote))
    }
    return s
  }

  // MARK: - Lifetime

  func lifetime() -> ReportSection {
    var s = ReportSection(id: "lifetime", title: t(.lifetime), guide: t(.lifetimeGuide))
    guard ran("lifetime"), let life = inputs.segments.lifetime else {
      s.missing.append(ran("lifetime") ? t(.missingPrefix) + "segments.json lifetime" : t(.stageLeftOut))
      return s
    }
    let c = inputs.customers
    guard c.withLifetime > 0 else {
      s.missing.append(t(.noCustomers))
      return s
    }
    s.groups.append(
      ReportFigureGroup(
        columns: 1,
        figures: [
          ReportFigure(
            title: t(.pAliveHistogram),
            chart: svg.histogram(
              c.pAlive, xTitle: t(.pAlive), yTitle: t(.customers), label: t(.pAliveHistogram),
              binLabel: { i in
                let (a, b) = c.pAlive.edges(i)
                return language.number(a, decimals: 2) + "–" + language.number(b, decimals: 2)
              }))
        ]))
    let segOrder = RFMSegment.allCases.map(\.rawValue).filter { c.clvBySegment[$0] != nil }
    var pair: [ReportFigure] = []
    if !segOrder.isEmpty {
      pair.append(
        ReportFigure(
          title: t(.clvBySegment),
          chart: SVGCharts(language: language, width: 560).bars(
            categories: segOrder.map(language.segmentName),
            series: [(t(.clv), segOrder.map { c.clvBySegment[$0]!.clv })],
            unit: .money, axisTitle: t(.clv), label: t(.clvBySegment))))
    }
    let tierOrder = PriceSensitivityTier.allCases.filter { c.clvByTier[$0.rawValue] != nil }
    if !tierOrder.isEmpty {
      pair.append(
        ReportFigure(
          title: t(.clvByTier),
          chart: SVGCharts(language: language, width: 560).bars(
            categories: tierOrder.map { language.tierName($0.id) },
            series: [(t(.clv), tierOrder.map { c.clvByTier[$0.rawValue]!.clv })], unit: .money, axisTitle: t(.clv),
            label: t(.clvByTier))))
    }
    if !pair.isEmpty { s.groups.append(ReportFigureGroup(columns: 2, figures: pair)) }
    let lorenz = c.clv.lorenz()
    if !lorenz.isEmpty {
      let sampled = Self.sample(lorenz, max: 60)
      var chart = svg.lines(
        series: [(t(.lorenz), sampled)], xUnit: .share, yUnit: .share, xTitle: t(.cumCustomers), yTitle: t(.cumCLV),
        label: t(.lorenz), height: 260, diagonal: true)
      chart.table = ReportTable(
        headers: [t(.cumCustomers), t(.cumCLV)],
        rows: Self.sample(lorenz, max: 21).map { [language.percent($0.x), language.percent($0.y)] },
        numeric: [true, true])
      s.groups.append(ReportFigureGroup(columns: 1, figures: [ReportFigure(title: t(.lorenz), chart: chart)]))
      if let g = c.clv.gini() { s.figures.append((t(.gini), language.number(g, decimals: 3))) }
      if let top = c.clv.topShare(0.2) { s.figures.append((t(.top20Share) + " (CLV)", language.percent(top))) }
    }
    // Model table.
    var rows: [[String]] = []
    let chosen = life.chosen ?? inputs.model?.lifetime?.chosen ?? "none"
    rows.append([t(.model), chosen])
    let fit: ReportInputs.ModelFile.Fit? =
      chosen == "bg_nbd"
      ? inputs.model?.lifetime?.bgNbd : chosen == "mbg_cnbd_k" ? inputs.model?.lifetime?.mbgCnbdK : nil
    for (k, v) in (fit?.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
      rows.append([k, language.number(v, decimals: 4)])
    }
    for (k, v) in (inputs.model?.lifetime?.gammaGamma?.parameters ?? [:]).sorted(by: { $0.key < $1.key }) {
      rows.append(["gamma_gamma " + k, language.number(v, decimals: 4)])
    }
    if let h = life.horizonDays { rows.append([t(.horizon), language.count(h)]) }
    if let d = life.annualDiscountRate { rows.append([t(.discountRate), language.percent(d)]) }
    if let m = life.margin { rows.append([t(.margin), language.percent(m)]) }
    if inputs.model == nil { s.missing.append(t(.missingPrefix) + "model.json") }
    s.tables.append(
      (t(.modelTable), ReportTable(headers: [t(.parameter), t(.value)], rows: rows, numeric: [false, true])))
    return s
  }

  /// At most `max` points of a curve, always keeping the first and last.
  static func sample(_ pts: [(x: Double, y: Double)], max n: Int) -> [(x: Double, y: Double)] {
    guard pts.count > n, n >= 2 else { return pts }
    return (0..<n).map { pts[Int((Double($0) * Double(pts.count - 1) / Double(n - 1)).rounded())] }
  }

  // MARK: - Change since the previous run

  func change() -> ReportSection {
    var s = ReportSection(id: "change", title: t(.change), guide: t(.changeGuide))
    guard let h = history, h.previousRunID != nil, inputs.customers.previous != nil else {
      s.missing.append(t(.noPreviousRun))
      return s
    }
    let c = inputs.customers
    let segs = RFMSegment.allCases.map(\.rawValue)
    let names = segs.map(language.segmentName)
    let matrix = segs.map { p in segs.map { q in Double(c.segmentMoves["\(p)|\(q)"] ?? 0) } }
    s.figures.append((t(.previousRun), h.previousAsOf ?? "—"))
    s.figures.append((t(.newSinceLast), language.count(c.newCustomers)))
    // As `koi diff` counts it: into one of the slipping segments from none.
    let risk = Set(RunDiff.atRiskSegments.map(\.rawValue))
    var moved = 0
    for (k, v) in c.segmentMoves {
      let parts = k.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
      if parts.count == 2, !risk.contains(parts[0]), risk.contains(parts[1]) { moved += v }
    }
    s.figures.append((t(.movedIntoAtRisk), language.count(moved)))
    if ran("rfm") {
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.migration),
              chart: svg.heatMap(
                rows: names, columns: names, values: matrix, unit: .count,
                rowTitle: t(.previousRun), columnTitle: t(.thisRun), label: t(.migration)))
          ]))
    }
    if ran("tiers") {
      // "No tier" only when some customer had none in either run.
      let withNone = c.tierMoves.keys.contains { $0.hasPrefix("|") || $0.hasSuffix("|") }
      let ids = ["1", "2", "3", "4"] + (withNone ? [""] : [])
      let tierNames =
        PriceSensitivityTier.allCases.map { language.tierName($0.id) } + (withNone ? [t(.none)] : [])
      let m = ids.map { p in ids.map { q in Double(c.tierMoves["\(p)|\(q)"] ?? 0) } }
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.tierMigration),
              chart: svg.heatMap(
                rows: tierNames, columns: tierNames, values: m, unit: .count,
                rowTitle: t(.previousRun), columnTitle: t(.thisRun), label: t(.tierMigration)))
          ]))
    }
    // Segment sizes over runs, this run last.
    var runs = h.segmentSizes
    var current: [String: Int] = [:]
    for seg in inputs.segments.rfm?.segments ?? [] { current[seg.segment] = seg.customers }
    runs.append((inputs.run.asOf ?? "", current))
    if runs.count >= 2 {
      let series = segs.map { seg in
        (
          name: language.segmentName(seg),
          points: runs.indices.map { (x: Double($0), y: Double(runs[$0].counts[seg] ?? 0)) }
        )
      }
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.segmentSizesOverRuns),
              chart: svg.lines(
                series: series, xUnit: .count, yUnit: .count, xTitle: t(.run), yTitle: t(.customers),
                label: t(.segmentSizesOverRuns), height: 260, xLabels: runs.map(\.asOf)))
          ]))
    }
    return s
  }

  // MARK: - Predictions

  func predictions() -> ReportSection {
    var s = ReportSection(id: "predictions", title: t(.predictions), guide: t(.predictionsGuide))
    guard let checks = history?.predictionChecks, let last = checks.last else {
      s.missing.append(t(.predictionsNone))
      return s
    }
    s.figures.append((t(.checkedRun), last.asOf))
    s.figures.append((t(.pairs), language.count(last.pairs)))
    s.figures.append((t(.brier), language.number(last.brier, decimals: 4)))
    s.figures.append(
      (t(.baseRateBrier), language.number(last.baseRate * (1 - last.baseRate), decimals: 4)))
    s.figures.append((t(.baseRate), language.percent(last.baseRate)))
    if last.dueListed > 0 {
      s.figures.append((t(.dueHitRate), language.percent(Double(last.dueBought) / Double(last.dueListed))))
    }
    let labels = checks.map(\.asOf)
    if checks.count >= 2 {
      s.groups.append(
        ReportFigureGroup(
          columns: 2,
          figures: [
            ReportFigure(
              title: t(.brierOverRuns),
              chart: SVGCharts(language: language, width: 560).lines(
                series: [
                  (t(.brier), checks.indices.map { (Double($0), checks[$0].brier) }),
                  (
                    t(.baseRateBrier),
                    checks.indices.map { (Double($0), checks[$0].baseRate * (1 - checks[$0].baseRate)) }
                  ),
                ], xUnit: .count, yUnit: .probability, xTitle: t(.checkedRuns), yTitle: t(.brier),
                label: t(.brierOverRuns), xLabels: labels)),
            ReportFigure(
              title: t(.hitRateOverRuns),
              chart: SVGCharts(language: language, width: 560).lines(
                series: [
                  (
                    t(.dueHitRate),
                    checks.indices.map {
                      (
                        Double($0),
                        checks[$0].dueListed > 0 ? Double(checks[$0].dueBought) / Double(checks[$0].dueListed) : 0
                      )
                    }
                  )
                ], xUnit: .count, yUnit: .share, xTitle: t(.checkedRuns), yTitle: t(.hitRate),
                label: t(.hitRateOverRuns), xLabels: labels)),
          ]))
    }
    if !last.calibration.isEmpty {
      var chart = svg.lines(
        series: [(t(.observed), last.calibration.map { ($0.meanPredicted, $0.observedRate) })], xUnit: .probability,
        yUnit: .probability, xTitle: t(.predicted), yTitle: t(.observed), label: t(.calibration), height: 260,
        diagonal: true)
      chart.table = ReportTable(
        headers: [t(.predicted), t(.observed), t(.pairs)],
        rows: last.calibration.map {
          [
            language.number($0.meanPredicted, decimals: 3), language.number($0.observedRate, decimals: 3),
            language.count($0.pairs),
          ]
        }, numeric: [true, true, true])
      s.groups.append(ReportFigureGroup(columns: 1, figures: [ReportFigure(title: t(.calibration), chart: chart)]))
    }
    return s
  }

  // MARK: - Data quality

  func quality() -> ReportSection {
    var s = ReportSection(id: "quality", title: t(.quality), guide: t(.qualityGuide))
    let byReason = (inputs.run.rows?.rejectedByReason ?? [:]).sorted { ($0.value, $1.key) > ($1.value, $0.key) }
    if byReason.isEmpty {
      s.notes.append(t(.noRejects))
    } else {
      s.groups.append(
        ReportFigureGroup(
          columns: 1,
          figures: [
            ReportFigure(
              title: t(.rejectsByReason),
              chart: svg.bars(
                categories: byReason.map { language.rejectReason($0.key) },
                series: [(t(.rows), byReason.map { Double($0.value) })], unit: .count,
                axisTitle: t(.rows), label: t(.rejectsByReason)))
          ]))
      if let ex = inputs.rejectExamples, !ex.isEmpty {
        let withFile = ex.contains { $0.file != nil }
        s.tables.append(
          (
            t(.firstExamples),
            ReportTable(
              headers: (withFile ? [t(.file)] : []) + [t(.line), t(.reason), t(.field)],
              rows: ex.map {
                (withFile ? [$0.file ?? ""] : []) + [$0.line, language.rejectReason($0.reason), $0.field]
              },
              numeric: (withFile ? [false] : []) + [true, false, false])
          ))
        s.notes.append(t(.rejectsNote))
      }
    }
    if inputs.missing.contains("rejects.csv") { s.missing.append(t(.missingPrefix) + "rejects.csv") }
    if let enc = inputs.run.input?.encoding {
      s.figures.append((t(.encoding), enc + ((inputs.run.input?.encodingDetected ?? false) ? t(.detected) : "")))
    }
    if let cols = inputs.run.input?.columns, !cols.isEmpty {
      s.tables.append(
        (
          t(.columns),
          ReportTable(
            headers: [t(.canonical), t(.header)], rows: cols.sorted { $0.key < $1.key }.map { [$0.key, $0.value] },
            numeric: [false, false])
        ))
    }
    return s
  }
}
