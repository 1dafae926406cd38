import RealModule
import Testing

@testable import Koi

@Suite struct IntervalScoringTests {
  /// customers.jsonl writes a status's name from a table by `ordinal`.
  @Test func statusOrdinalsAreTheirPositions() {
    #expect(IntervalStatus.allCases.map(\.ordinal) == Array(IntervalStatus.allCases.indices))
  }

  /// The pair loop's locations, read from `ScoringCategories`' flat tables,
  /// against μ(x) = β₀ + Σ_j β_j · (x_j − mean_j)/scale_j written out from
  /// the model, bit for bit; with a dropped column (scale 0), a missing
  /// value, and a category without covariates.
  @Test func scoringLocationsEqualTheModelsBitForBit() throws {
    let l = IntervalSpeedTests.syntheticLedger(customers: 3_000)
    let asOf: Int32 = 20_000
    let t = CustomerTable(ledger: l, asOfDay: asOf)
    var cov = IntervalCovariates.standard(table: t)
    cov.values[1, 0] = .nan
    var model = IntervalStage.fit(ledger: l, table: t)
    var m = model.categories[0]
    try #require(m.family != nil)
    m.covariateNames = cov.names
    m.coefficients = [m.coefficients[0], 0.31, -0.17]
    m.covariateMeans = [5.2, 4.1]
    m.covariateScales = [1.3, 0]
    model.categories[0] = m
    m.covariateScales = [1.3, 0.7]
    model.categories[2] = m
    let scoring = IntervalStage.ScoringCategories(model: model, covariates: cov)
    #expect(scoring.categories[0].termOffset != nil)
    #expect(scoring.categories[1].termOffset == nil)
    for k in 0..<3 {
      let m = model.categories[k]
      let withCovariates = !m.covariateNames.isEmpty
      scoring.terms.withUnsafeBufferPointer { terms in
        cov.values.values.withUnsafeBufferPointer { rows in
          for c in 0..<t.count {
            var expected = m.coefficients[0]
            if withCovariates {
              for j in 0..<2 {
                let x = cov.values[c, j]
                let s = m.covariateScales[j] > 0 && x.isFinite ? (x - m.covariateMeans[j]) / m.covariateScales[j] : 0
                expected += m.coefficients[j + 1] * s
              }
            }
            let got = scoring.categories[k].location(customer: c, terms: terms, covariateRows: rows)
            #expect(got.bitPattern == expected.bitPattern, "category \(k), customer \(c)")
            let model = IntervalShrinkage.location(m, customer: c, covariates: withCovariates ? cov : nil)
            #expect(model.bitPattern == expected.bitPattern, "category \(k), customer \(c)")
          }
        }
      }
    }
  }
}
