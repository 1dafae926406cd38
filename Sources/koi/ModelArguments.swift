import ArgumentParser
import Foundation
import Koi

/// The options that change a fit, for `koi score`, `koi fit` and `koi
/// merge`: one definition, so a model fitted on shards is the model `koi
/// score` fits on the whole input.
struct ModelArguments: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Stages to run, comma-separated, in any order; default all. Available: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")). Example: --stages rfm",
      valueName: "list"))
  var stages: String?

  @Option(name: .customLong("rfm-bins"), help: help(Settings.rfmBins, example: "5", valueName: "n"))
  var rfmBins = Settings.rfmBins.defaultValue

  @Option(name: .customLong("k"), help: help(Settings.k, example: "4", valueName: "n"))
  var k = Settings.k.defaultValue

  @Option(name: .long, help: help(Settings.restarts, example: "4", valueName: "n"))
  var restarts = Settings.restarts.defaultValue

  @Option(name: .long, help: help(Settings.seed, example: "7", valueName: "s"))
  var seed: UInt64 = UInt64(Settings.seed.defaultValue)

  @Option(
    name: .customLong("tier-features"),
    help: ArgumentHelp(
      "Behaviour features the tiers cluster on, comma-separated. Available: \(TierFeature.allCases.map(\.rawValue).joined(separator: ", ")). Example: --tier-features discount_depth,promo_share,premium_share,breadth",
      valueName: "list"))
  var tierFeatures: String?

  @OptionGroup var repurchase: RepurchaseArguments
  @OptionGroup var lifetime: LifetimeArguments

  func validate() throws {
    try check(Settings.k, k)
    try check(Settings.restarts, restarts)
    try check(Settings.rfmBins, rfmBins)
    if let tierFeatures { _ = try parseTierFeatures(tierFeatures) }
    _ = try parsedStages()
  }

  func parsedStages() throws -> [StageName] {
    guard let stages else { return StageName.allCases }
    var chosen = Set<StageName>()
    for s in stages.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !s.isEmpty {
      guard let stage = StageName.allCases.first(where: { $0.rawValue == s }) else {
        throw ValidationError(
          "--stages: unknown stage '\(s)'; the stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))."
        )
      }
      chosen.insert(stage)
    }
    guard !chosen.isEmpty else { throw ValidationError("--stages needs at least one stage.") }
    return StageName.allCases.filter(chosen.contains)
  }

  func apply(to options: inout ScoreOptions) throws {
    options.stages = try parsedStages()
    options.rfm.bins = rfmBins
    options.tiers.k = k
    options.tiers.restarts = restarts
    options.tiers.seed = seed
    if let tierFeatures { options.tiers.features = try parseTierFeatures(tierFeatures) }
    try repurchase.apply(to: &options.intervals)
    options.lifetime = lifetime.options
  }
}

/// `--threads N`: share an executor's cores.
struct ThreadArguments: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Use at most N threads (Koi's loops and OpenBLAS); default one per core. Results do not depend on it. Example: --threads 1",
      valueName: "n"))
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 || threads > 1024 {
      throw ValidationError("--threads \(threads) is out of range; give 1 to 1024.")
    }
  }

  func apply() {
    if let threads { Koi.limitThreads(threads) }
  }
}

/// `--as-of` for the shard commands.
func parseAsOf(_ asOf: String?) throws -> Int32? {
  guard let asOf else { return nil }
  guard let d = DayNumber.parse(asOf) else {
    throw ValidationError("--as-of '\(asOf)' is not a date; write it as YYYY-MM-DD, e.g. --as-of 2025-07-01.")
  }
  return d
}

/// The due lists' options (due.json), for `koi score` and `koi merge`.
struct DueListArguments: ParsableArguments {
  @Option(name: .customLong("due-within"), help: help(Settings.dueWithin, example: "30", valueName: "days"))
  var dueWithin = Settings.dueWithin.defaultValue

  @Option(
    name: .customLong("due-min-probability"),
    help: help(Settings.dueMinimumProbability, example: "0.25", valueName: "p"))
  var dueMinProbability = Settings.dueMinimumProbability.defaultValue

  @Option(name: .customLong("due-limit"), help: help(Settings.dueLimit, example: "500", valueName: "n"))
  var dueLimit: Int?

  func validate() throws {
    try check(Settings.dueWithin, dueWithin)
    try check(Settings.dueMinimumProbability, dueMinProbability)
    if let dueLimit { try check(Settings.dueLimit, dueLimit) }
  }

  func apply(to options: inout ScoreOptions) {
    options.dueWithinDays = dueWithin
    options.dueMinimumProbability = dueMinProbability
    options.dueLimit = dueLimit
  }
}
