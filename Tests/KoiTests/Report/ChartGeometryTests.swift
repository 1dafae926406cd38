import Foundation
import Testing

@testable import Koi

/// The pure geometry behind report.html's charts.
@Suite struct ChartGeometryTests {
  @Test func aLinearScaleMapsTheDomainOntoTheRangeEvenDownwards() {
    let x = LinearScale(domain: 0...10, range: (100, 300))
    #expect(x(0) == 100)
    #expect(x(10) == 300)
    #expect(x(2.5) == 150)
    let y = LinearScale(domain: 0...1, range: (220, 20))
    #expect(y(0) == 220)
    #expect(y(1) == 20)
  }

  @Test(arguments: [0.0, 7.0, -3.0])
  func aDegenerateDomainPutsItsValueMidAxis(v: Double) {
    // One customer: every value is the same.
    let x = LinearScale(domain: v...v, range: (0, 100))
    #expect(x(v).isFinite)
    #expect(abs(x(v) - (v == 0 ? 0 : 50)) < 1e-9)
  }

  @Test func ticksAreNiceAndCoverTheData() {
    #expect(AxisTicks.nice(low: 0, high: 97) == [0, 20, 40, 60, 80, 100])
    #expect(AxisTicks.nice(low: 0, high: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
    #expect(AxisTicks.nice(low: 0, high: 0.37).last == 0.4)
    #expect(AxisTicks.nice(low: -12, high: 30) == [-20, -10, 0, 10, 20, 30])
    #expect(AxisTicks.niceStep(0.0301) == 0.05)
    #expect(AxisTicks.niceStep(7) == 10)
  }

  @Test(arguments: [(0.0, 0.0), (5.0, 5.0), (-2.0, -2.0), (0.0, 3e9), (1e-6, 2e-6), (.nan, 4)])
  func ticksOfAnyIntervalAreFiniteIncreasingAndCoverIt(low: Double, high: Double) {
    let t = AxisTicks.nice(low: low, high: high)
    #expect(t.count >= 2 && t.count <= 12, "\(t)")
    #expect(t.allSatisfy { $0.isFinite })
    let increasing = zip(t, t.dropFirst()).allSatisfy { $0 < $1 }
    #expect(increasing)
    if low.isFinite { #expect(t.first! <= low && t.last! >= high) }
  }

  @Test func binsCountEveryValueAndClampTheEnds() {
    var b = BinnedCounts(lower: 0, upper: 1, bins: 20)
    for v in [0, 0.049, 0.05, 0.5, 0.999, 1, 1.5, -0.1] { b.add(v) }
    b.add(.nan)
    #expect(b.total == 8)
    #expect(b.counts[0] == 3)  // 0, 0.049, −0.1
    #expect(b.counts[1] == 1)
    #expect(b.counts[10] == 1)
    #expect(b.counts[19] == 3)  // 0.999, 1, 1.5
    #expect(b.edges(1) == (0.05, 0.1))
  }

  @Test func equalValuesGiveTheDiagonalAndAGiniOfZero() {
    var l = LogBinnedSums()
    for _ in 0..<1000 { l.add(250) }
    let g = l.gini() ?? .nan
    #expect(abs(g) < 1e-9)
    #expect(abs((l.topShare(0.2) ?? 0) - 0.2) < 1e-9)
  }

  @Test func oneCustomerHoldingEverythingGivesAGiniNearOne() {
    var l = LogBinnedSums()
    for _ in 0..<999 { l.add(0) }
    l.add(1_000_000)
    let pts = l.lorenz()
    #expect(pts.first! == (0, 0))
    #expect(pts.last!.x == 1 && pts.last!.y == 1)
    #expect(abs((l.gini() ?? 0) - 0.999) < 1e-9)
    #expect(abs((l.topShare(0.2) ?? 0) - 1) < 1e-9)
  }

  @Test func aLorenzCurveFromBinsIsCloseToTheExactOne() {
    // Exponential values: exact Gini 0.5.
    var l = LogBinnedSums()
    let n = 20000
    for i in 0..<n { l.add(-1000 * Foundation.log(1 - (Double(i) + 0.5) / Double(n))) }
    #expect(abs((l.gini() ?? 0) - 0.5) < 0.01)
  }

  @Test func emptyAndAllZeroSumsHaveNoCurve() {
    var l = LogBinnedSums()
    #expect(l.lorenz().isEmpty && l.gini() == nil && l.topShare(0.2) == nil)
    l.add(0)
    #expect(l.lorenz().isEmpty)
  }

  @Test func theDueCalendarSplitsTheCumulativeProbabilityIntoWeeks() {
    let w = DueCalendar.weekly(p30: 0.3, p60: 0.45, p90: 0.6)
    #expect(w.count == 12)
    #expect(w.allSatisfy { $0 >= 0 })
    // 12 weeks = 84 days: F(84) = 0.45 + 0.15 × 24/30.
    #expect(abs(w.reduce(0, +) - 0.57) < 1e-12)
    #expect(abs(w[0] - 0.07) < 1e-12)
    // Inconsistent or missing inputs never give negative weeks.
    let odd = DueCalendar.weekly(p30: 0.5, p60: 0.2, p90: nil)
    #expect(odd.allSatisfy { $0 >= 0 })
    #expect(abs(odd.reduce(0, +) - 0.5) < 1e-12)
  }

  /// The report sums each pair's clamped probabilities and splits the sums
  /// into weeks once: the same weeks as summing every pair's weeks.
  @Test func theWeeksOfSummedProbabilitiesAreTheSummedWeeks() {
    var g = SeededGenerator(seed: 7)
    var sums = (0.0, 0.0, 0.0)
    var summedWeeks = Array(repeating: 0.0, count: 12)
    for _ in 0..<5_000 {
      let p30 = Double.random(in: -0.1...1.1, using: &g)
      let p60: Double? = Bool.random(using: &g) ? Double.random(in: -0.1...1.1, using: &g) : nil
      let p90: Double? = Bool.random(using: &g) ? Double.random(in: -0.1...1.1, using: &g) : nil
      let (a, b, c) = DueCalendar.clamped(p30: p30, p60: p60, p90: p90)
      sums = (sums.0 + a, sums.1 + b, sums.2 + c)
      for (w, v) in DueCalendar.weekly(p30: p30, p60: p60, p90: p90).enumerated() { summedWeeks[w] += v }
    }
    let weeks = DueCalendar.weekly(sums.0, sums.1, sums.2)
    for w in weeks.indices { #expect(abs(weeks[w] - summedWeeks[w]) < 1e-9 * max(1, summedWeeks[w]), "week \(w + 1)") }
  }

  @Test func binsMergedAreTheBinsOfAllTheValues() {
    var g = SeededGenerator(seed: 8)
    let values = (0..<10_000).map { _ in Foundation.exp(Double.random(in: -6...25, using: &g)) }
    var all = LogBinnedSums()
    var parts = [LogBinnedSums(), LogBinnedSums(), LogBinnedSums()]
    for (i, v) in values.enumerated() {
      all.add(v)
      parts[i % 3].add(v)
    }
    var merged = parts[2]
    merged.merge(parts[0])
    merged.merge(parts[1])
    #expect(merged == all && merged.sums.map(\.bitPattern) == all.sums.map(\.bitPattern))
  }

  @Test(arguments: [IntervalFamily.logNormal, .weibull])
  func aGapDensityHasItsQuantilesAndIntegratesToOne(family: IntervalFamily) {
    let g = GapDensity(family: family, mu: Foundation.log(60), sigma: 0.4)
    if family == .logNormal { #expect(abs(g.quantile(0.5) - 60) < 1e-9) }
    #expect(g.quantile(0.1) < g.quantile(0.5) && g.quantile(0.5) < g.quantile(0.9))
    // ∫₀^P99 f ≈ 0.99 (midpoint rule).
    let hi = g.quantile(0.99)
    let steps = 20000
    var area = 0.0
    for i in 0..<steps { area += g.density((Double(i) + 0.5) * hi / Double(steps)) * hi / Double(steps) }
    #expect(abs(area - 0.99) < 1e-3)
    #expect(g.curve().allSatisfy { $0.y.isFinite && $0.y >= 0 })
  }

  @Test func moneyCountsAndSharesAreWrittenForEachLanguage() {
    #expect(ReportLanguage.zh.money(34_781_805) == "¥34,781,805")
    #expect(ReportLanguage.en.money(-1234.4) == "-¥1,234")
    #expect(ReportLanguage.en.money(12.5) == "¥12.50")
    #expect(ReportLanguage.zh.count(1_000_000) == "1,000,000")
    #expect(ReportLanguage.zh.percent(0.599826) == "60.0%")
    #expect(ReportLanguage.zh.compactMoney(198_000) == "¥19.8万")
    #expect(ReportLanguage.en.compactMoney(198_000) == "¥198k")
    #expect(ReportLanguage.en.number(2.5, decimals: 2) == "2.5")
    #expect(ReportLanguage.zh.money(.nan) == "—")
  }

  @Test func everySegmentTierAndStatusHasANameInBothLanguages() {
    for s in RFMSegment.allCases {
      #expect(ReportLanguage.zh.segmentName(s.rawValue).unicodeScalars.contains { $0.value >= 0x4E00 })
      #expect(ReportLanguage.en.segmentName(s.rawValue) != s.rawValue)
    }
    for t in PriceSensitivityTier.allCases {
      #expect(ReportLanguage.zh.tierName(t.id) == t.nameZH)
      #expect(ReportLanguage.en.tierName(t.id) == t.name)
    }
    for st in ["not_yet_due", "due", "overdue", "one_off", "lapsed", "unknown"] {
      #expect(ReportLanguage.zh.statusName(st) != st)
      #expect(!ReportLanguage.en.statusName(st).contains("_"))
    }
  }

  @Test func textIsEscapedForHTMLAndSVG() {
    #expect(htmlEscaped("<b a=\"x\">&'") == "&lt;b a=&quot;x&quot;&gt;&amp;&#39;")
  }

  @Test func chartsOfNoDataDrawNoMarksAndStayWellFormed() {
    let svg = SVGCharts(language: .en)
    let bars = svg.bars(categories: [], series: [("a", [])], unit: .count, axisTitle: "x", label: "l")
    #expect(bars.marks == 0)
    #expect(!bars.svg.contains("nan") && !bars.svg.contains("inf"))
    let hist = svg.histogram(
      BinnedCounts(lower: 0, upper: 1, bins: 4), xTitle: "x", yTitle: "y", label: "l", binLabel: { "\($0)" })
    #expect(hist.marks == 4)
    #expect(!hist.svg.contains("nan"))
    let one = svg.bars(categories: ["only"], series: [("a", [5])], unit: .money, axisTitle: "x", label: "l")
    #expect(one.marks == 1)
    #expect(one.svg.contains("¥5"))
  }
}

extension DueCalendar {
  /// One pair's weeks.
  static func weekly(p30: Double, p60: Double?, p90: Double?) -> [Double] {
    let (a, b, c) = clamped(p30: p30, p60: p60, p90: p90)
    return weekly(a, b, c)
  }
}
