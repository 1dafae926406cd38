import Foundation

extension Model {
  /// Reads a model.json to score with (`--model`) and checks it suits the
  /// run: written by this Koi, with a section for every stage the run asks
  /// for, fitted with the options that change the fit. Sets the run's as-of
  /// to the model's.
  ///
  /// - Throws: `IngestError` with code `.badModel` saying what differs.
  static func loadForScoring(path: String, options: inout ScoreOptions) throws -> Model {
    let model = try load(path: path)
    let at = SourceLocation(path: path)
    func refuse(_ why: String) -> IngestError {
      IngestError(.badModel, "this model cannot score the run: \(why)", at: at)
    }
    guard model.koiVersion == Koi.version else {
      throw refuse(
        "it was written by Koi \(model.koiVersion) and this is Koi \(Koi.version); fit it again with this Koi (koi score or koi fit)."
      )
    }
    guard model.modelFormat == Model.format else {
      throw refuse(
        "it is model format \(model.modelFormat) and this Koi scores with format \(Model.format); fit it again with this Koi (koi score or koi fit)."
      )
    }
    for stage in options.stages where model.sections[stage] == nil {
      throw refuse(
        "it has no \(stage) section (the stage was left out or could not be fitted); fit a model with it, or leave it out with --stages."
      )
    }
    if let rfm = model.rfm, options.stages.contains(.rfm), rfm.bins != options.rfm.bins {
      throw refuse("it was fitted with --rfm-bins \(rfm.bins), this run asks for \(options.rfm.bins).")
    }
    if let t = model.tiers, options.stages.contains(.tiers) {
      if t.seed != options.tiers.seed {
        throw refuse("it was fitted with --seed \(t.seed), this run asks for \(options.tiers.seed).")
      }
      // k shrinks to the number of customers when there are fewer.
      let shrunk = t.k < options.tiers.k && t.clusterSizes.reduce(0, +) == t.k
      if t.k != options.tiers.k && !shrunk {
        throw refuse("it was fitted with --k \(t.k), this run asks for \(options.tiers.k).")
      }
      if t.restarts != options.tiers.restarts {
        throw refuse("it was fitted with --restarts \(t.restarts), this run asks for \(options.tiers.restarts).")
      }
      let fitted = Set(t.features + t.droppedFeatures.map(\.feature))
      if fitted != Set(options.tiers.features) {
        throw refuse(
          "its tiers were fitted on the features \(t.features.map(\.rawValue).joined(separator: ",")); this run asks for \(options.tiers.features.map(\.rawValue).joined(separator: ",")) (--tier-features)."
        )
      }
    }
    if let i = model.intervals, options.stages.contains(.intervals), i.options != options.intervals {
      throw refuse(
        "its repurchase intervals were fitted with other options (priors, one-off rules, horizon or propensity) than this run's; give the options it was fitted with."
      )
    }
    guard let asOf = DayNumber.parse(model.asOf) else { throw refuse("its as_of '\(model.asOf)' is not a date.") }
    if let given = options.ingest.asOfDay, given != asOf {
      throw refuse(
        "it was fitted as of \(model.asOf), this run asks for --as-of \(DayNumber.format(given)); leave --as-of out to score as of the model's date."
      )
    }
    options.ingest.asOfDay = asOf
    return model
  }
}

extension Ledger {
  /// Renumbers the categories in the order of `model.categories` (scores are
  /// keyed by treatment name, never by the order a file happens to list
  /// them in).
  ///
  /// - Throws: `IngestError` (`.badModel`) when the input has a treatment
  ///   the model does not know.
  mutating func useCategories(of model: Model, path: String) throws {
    if categories == model.categories { return }
    var index: [String: Int32] = [:]
    for (i, c) in model.categories.enumerated() { index[c] = Int32(i) }
    var map: [Int32] = []
    for c in categories {
      guard let i = index[c] else {
        throw IngestError(
          .badModel,
          "the input has the treatment '\(UserText.excerpt(c))', which the model was not fitted on; fit a model on data that has it.",
          at: SourceLocation(path: path))
      }
      map.append(i)
    }
    category = category.map { map[Int($0)] }
    categories = model.categories
  }
}
