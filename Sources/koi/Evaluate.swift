import ArgumentParser
import Foundation
import Koi

struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Measure how well Koi recovers the ground truth of generated data.",
    discussion: """
      Reads a transactions file made by `koi generate` and its truth.csv, and prints:
        - tier recovery: adjusted Rand index of Koi's price-sensitivity tiers against the \
      true tiers, next to k-means (same k, restarts, seed) on the raw unnamed features, and \
      the share of customers whose named tier is their true tier;
        - cycle recovery: per repeating treatment, the fitted mean gap against the true mean \
      personal cycle.

      Example:
        koi evaluate datasets/sample/transactions.csv --truth datasets/sample/truth.csv
      """
  )

  @Argument(help: ArgumentHelp("Transactions made by koi generate.", valueName: "transactions.csv"))
  var input: String

  @Option(
    help: ArgumentHelp("The truth.csv written beside it. Example: --truth datasets/sample/truth.csv", valueName: "path")
  )
  var truth: String

  @Option(help: ArgumentHelp("Random seed for k-means. Example: --seed 7", valueName: "s"))
  var seed: UInt64 = 0

  @Option(
    name: .customLong("tier-features"),
    help: ArgumentHelp(
      "Behaviour features the tiers cluster on, comma-separated. Available: \(TierFeature.allCases.map(\.rawValue).joined(separator: ", ")). Example: --tier-features discount_depth,promo_share,premium_share,breadth",
      valueName: "list"))
  var tierFeatures: String?

  func run() throws {
    do {
      let ingest = try TransactionReader.read(inputs: InputList.expand([input]))
      let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
      let truth = try GroundTruth(path: truth)
      var options = TierOptions()
      options.seed = seed
      if let tierFeatures { options.features = try parseTierFeatures(tierFeatures) }
      let r = try TierRecovery.measure(ledger: ingest.ledger, table: table, truth: truth, options: options)
      print("tiers: \(r.customers) customers")
      print(String(format: "  adjusted Rand index, Koi tiers:            %.4f", r.koi))
      print(String(format: "  adjusted Rand index, k-means on raw values: %.4f", r.rawKMeans))
      print(String(format: "  named tier = true tier:                     %.1f%%", 100 * r.namedAccuracy))
      let model = IntervalStage.fit(ledger: ingest.ledger, table: table)
      print("repurchase cycles (mean gap, days): treatment, fitted, true, error")
      for c in model.categories {
        guard let fitted = c.meanGapDays, let real = truth.meanCycleDays[c.name] else {
          print("  \(c.name): \(c.basis.rawValue)")
          continue
        }
        print(String(format: "  %@: %.1f, %.1f, %+.1f%%", c.name, fitted, real, 100 * (fitted - real) / real))
      }
    } catch {
      throw KoiExit.map(error)
    }
  }
}
