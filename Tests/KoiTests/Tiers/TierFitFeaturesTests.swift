import Testing

@testable import Koi

/// Scoring hands the fit's features over (`TierFit`) instead of computing
/// them again from the model's population figures: both give the same
/// values bit for bit, so the same clusters, distances and confidences,
/// for every feature list, with missing values imputed, with features
/// dropped, and warm-started.
@Suite struct TierFitFeaturesTests {
  @Test(arguments: TierShardPartsTests.cases.indices)
  func scoringWithTheFitsFeaturesIsScoringWithoutThem(_ which: Int) throws {
    let (name, ledger) = TierShardPartsTests.cases[which]
    let table = CustomerTable(ledger: ledger, asOfDay: DayNumber.from(year: 2026, month: 1, day: 1))
    let options = [
      TierOptions(seed: 5), TierOptions(seed: 3, features: TierFeature.allCases),
      TierOptions(k: 3, seed: 2, features: [.promoShare, .breadth, .netSpend]),
    ]
    for o in options {
      for warmStart in [nil, try TierStage.fit(ledger: ledger, table: table, options: TierOptions(seed: 9))] {
        let (model, fitted) = try TierStage.fitWithFeatures(
          ledger: ledger, table: table, options: o, warmStart: warmStart)
        let again = TierFeatureTable(
          ledger: ledger, table: table, requested: model.features, population: model.population)
        for f in model.features {
          #expect(
            fitted.column(f).map(TierShardPartsTests.bits) == again.column(f).map(TierShardPartsTests.bits),
            "\(name), \(f.rawValue)")
        }
        let handed = TierStage.score(
          ledger: ledger, table: table, model: model, population: model.population, features: fitted)
        let computed = TierStage.score(ledger: ledger, table: table, model: model)
        #expect(handed == computed, "\(name), \(o.features.map(\.rawValue))")
        #expect(TierShardPartsTests.bits(handed.distance) == TierShardPartsTests.bits(computed.distance), "\(name)")
      }
    }
  }

  /// The fit's features go to one scoring, then the box is empty (the
  /// table is not held to the end of the run).
  @Test func theFeaturesAreHandedOverOnce() throws {
    let (_, ledger) = TierShardPartsTests.cases[0]
    let table = CustomerTable(ledger: ledger, asOfDay: DayNumber.from(year: 2026, month: 1, day: 1))
    let stage = TierStage(TierOptions(seed: 5))
    let batch = StageBatch(ledger: ledger, table: table)
    let fit = try stage.fit(batch, context: StageContext(options: ScoreOptions(inputPath: "", outputDirectory: "")))
    #expect(fit.features != nil)
    let first = stage.score(batch, statistics: batch, fitted: fit, upstream: StageOutputs())
    #expect(fit.features?.take() == nil)
    #expect(stage.score(batch, statistics: batch, fitted: fit, upstream: StageOutputs()) == first)
    #expect(stage.fitted(from: fit.model).features == nil)
  }
}
