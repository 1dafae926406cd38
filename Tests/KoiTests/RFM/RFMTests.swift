import Testing

@testable import Koi

@Suite struct RFMTests {
  /// Five customers whose scores are worked out by hand in the comments.
  /// With N = 5 and 5 bins, score = 1 + #{customers strictly worse}.
  static func handTable() -> CustomerTable {
    var rows: [Ledger.Row] = []
    func add(_ id: String, _ days: [Int32], _ amount: Double) {
      for d in days { rows.append(.init(customerID: id, day: d, item: "x", amount: amount)) }
    }
    add("A", [10, 50, 99], 100)  // recency 1, F 3, M 300
    add("B", [90], 100)  // recency 10, F 1, M 100
    add("C", [80, 90], 150)  // recency 10, F 2, M 300
    add("D", [50], 50)  // recency 50, F 1, M 50
    add("E", [20, 40, 60, 80, 99], 200)  // recency 1, F 5, M 1000
    return CustomerTable(ledger: Ledger(rows: rows), asOfDay: 100)
  }

  @Test func scoresAndSegmentsMatchHandComputation() {
    let t = Self.handTable()
    let cols = RFMStage.score(t, model: RFMStage.fit(t))
    #expect(cols.recencyDays == [1, 10, 10, 50, 1])
    #expect(cols.frequency == [3, 1, 2, 1, 5])
    #expect(cols.monetary == [300, 100, 300, 50, 1000])
    // R: worse = larger recency. A,E: 3 worse → 4; B,C: 1 worse → 2; D → 1.
    #expect(cols.rScore == [4, 2, 2, 1, 4])
    // F: A 3 smaller → 4; B,D 0 → 1; C 2 → 3; E 4 → 5.
    #expect(cols.fScore == [4, 1, 3, 1, 5])
    // M: A,C 2 smaller → 3; B 1 → 2; D → 1; E → 5.
    #expect(cols.mScore == [3, 2, 3, 1, 5])
    // Grid: A R4 F+M 7 loyal; B R2 F+M 3 about to sleep; C R2 F+M 6 at risk;
    // D R1 F+M 2 lost; E R4 F+M 10 champions.
    #expect(cols.segment == [.loyal, .aboutToSleep, .atRisk, .lost, .champions])
  }

  @Test func distinctValuesFillQuintilesEvenly() {
    let cuts = RFMStage.cutPoints((1...10).map(Double.init), bins: 5)
    #expect(cuts == [3, 5, 7, 9])
    let scores = (1...10).map { RFMStage.score(Double($0), cuts, higherIsBetter: true) }
    #expect(scores == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
  }

  @Test func tiesShareAScoreAndMaySkipScores() {
    // 6 of 10 customers bought once: all F = 1; the next value jumps to 4.
    let values: [Double] = [1, 1, 1, 1, 1, 1, 2, 2, 3, 8]
    let cuts = RFMStage.cutPoints(values, bins: 5)
    let scores = values.map { RFMStage.score($0, cuts, higherIsBetter: true) }
    #expect(scores == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5])
    #expect(cuts == [2, 2, 2, 3])
  }

  @Test func allEqualValuesScoreOne() {
    let cuts = RFMStage.cutPoints([7, 7, 7], bins: 5)
    #expect(cuts.allSatisfy { $0 == nil })
    #expect(RFMStage.score(7, cuts, higherIsBetter: true) == 1)
  }

  @Test func scoringAnotherPopulationUsesTheFittedCutPoints() {
    let t = Self.handTable()
    let model = RFMStage.fit(t)
    // Recencies 1, 10, 10, 50, 1: R ≥ 2 from 10 days, R ≥ 3 and ≥ 4 from
    // 1 day; no recency reaches 5 (the best tie group holds 2 of 5).
    #expect(model.recency == [10, 1, 1, nil])
    #expect(RFMStage.score(0, model.recency, higherIsBetter: false) == 4)
    #expect(RFMStage.score(10, model.recency, higherIsBetter: false) == 2)
    #expect(RFMStage.score(30, model.recency, higherIsBetter: false) == 1)
  }

  @Test func segmentGridCoversEveryCellExactlyOnce() {
    var seen = Set<RFMSegment>()
    for r in 1...5 {
      for fm in 2...10 {
        let matches = SegmentGrid.standard.rules.filter {
          $0.recency.contains(r) && $0.frequencyPlusMonetary.contains(fm)
        }
        #expect(matches.count == 1, "R=\(r) F+M=\(fm) matched \(matches.count) rules")
        if let m = matches.first { seen.insert(m.segment) }
      }
    }
    #expect(seen == Set(RFMSegment.allCases))
  }

  @Test func segmentOrdinalsAreAllCasesPositions() {
    #expect(RFMSegment.allCases.map(\.ordinal) == Array(RFMSegment.allCases.indices))
  }

  @Test func otherBinCountsMapOntoTheFivePointGrid() {
    #expect((1...10).map { SegmentGrid.toFivePoint($0, bins: 10) } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    #expect((1...3).map { SegmentGrid.toFivePoint($0, bins: 3) } == [1, 2, 4])
    let t = Self.handTable()
    let cols = RFMStage.score(t, model: RFMStage.fit(t, options: .init(bins: 10)))
    #expect(cols.rScore.allSatisfy { (1...10).contains($0) })
  }

  @Test func reportSharesAddUp() {
    let t = Self.handTable()
    let cols = RFMStage.score(t, model: RFMStage.fit(t))
    let report = RFMReport(columns: cols, bins: 5)
    #expect(report.segments.map(\.customers).reduce(0, +) == 5)
    #expect(abs(report.segments.map(\.shareOfRevenue).reduce(0, +) - 1) < 1e-5)
    // Top 20% (1 customer, E) holds 1000 of 1750.
    #expect(report.top20PercentRevenueShare == rounded(1000.0 / 1750, 6))
    #expect(report.frequency.map(\.customers) == [2, 0, 1, 1, 1])
  }
}
