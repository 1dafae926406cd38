import Testing

@Suite struct GoldenComparisonTests {
  @Test func lastBitNoiseInADoubleIsAccepted() {
    let golden = Array(#"{"between_variance" : 0.028953725816275068, "n" : 3}"#.utf8)
    let produced = Array(#"{"between_variance" : 0.028953725816275082, "n" : 3}"#.utf8)
    #expect(GoldenComparison.firstDifference(produced: produced, golden: golden) == nil)
  }

  @Test func oneUnitInTheLastPrintedPlaceIsAccepted() {
    let golden = Array(#"{"monetary":1280.25}"#.utf8)
    #expect(GoldenComparison.firstDifference(produced: Array(#"{"monetary":1280.26}"#.utf8), golden: golden) == nil)
    #expect(GoldenComparison.firstDifference(produced: Array(#"{"monetary":1280.27}"#.utf8), golden: golden) != nil)
  }

  @Test func integersStringsAndDatesMustBeEqual() {
    let golden = Array(#"{"customers":3000,"as_of":"2026-01-01","segment":"champions"}"#.utf8)
    for produced in [
      #"{"customers":3001,"as_of":"2026-01-01","segment":"champions"}"#,
      #"{"customers":3000,"as_of":"2026-01-02","segment":"champions"}"#,
      #"{"customers":3000,"as_of":"2026-01-01","segment":"loyal"}"#,
      #"{"customers":3000,"as_of":"2026-01-01","segment":"champions","x":1}"#,
    ] {
      #expect(GoldenComparison.firstDifference(produced: Array(produced.utf8), golden: golden) != nil, "\(produced)")
    }
  }

  @Test func roundingNoiseAroundZeroIsAccepted() {
    let golden = Array(#"{"gradient_max_norm" : 4.4934720564961095e-14}"#.utf8)
    let noise = Array(#"{"gradient_max_norm" : 1.6494094398720025e-14}"#.utf8)
    let far = Array(#"{"gradient_max_norm" : 5.8044194151867166e-11}"#.utf8)
    #expect(GoldenComparison.firstDifference(produced: noise, golden: golden) == nil)
    #expect(GoldenComparison.firstDifference(produced: far, golden: golden) != nil)
  }

  @Test func aRealChangeInADoubleIsCaught() {
    let golden = Array(#"[0.5012345678901234]"#.utf8)
    #expect(GoldenComparison.firstDifference(produced: Array(#"[0.5012346678901234]"#.utf8), golden: golden) != nil)
  }
}
