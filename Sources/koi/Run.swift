import ArgumentParser
import Foundation
import Koi

struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run a scheduled scoring run from a configuration file.",
    discussion: """
      Reads koi.toml (write an example with `koi init`), scores the input as of the configured date \
      and writes OUT/runs/<run-id>/ (results, exports/ with campaign lists and tags), then points \
      OUT/latest at it, records the run in OUT/history.sqlite and deletes runs beyond runs_to_keep.

      One run at a time per output directory: a second run exits with code 5 and does nothing. \
      A killed run leaves OUT/latest on the previous good run.

      Examples:
        koi run --config koi.toml
        koi run --config /etc/koi/chain.toml --as-of 2025-07-01 --hash-ids "$KOI_SALT" --quiet
      """
  )

  @Option(name: .long, help: ArgumentHelp("The configuration file. Example: --config koi.toml", valueName: "file"))
  var config: String

  @Option(
    name: .customLong("as-of"),
    help: ArgumentHelp("Override the configured as-of date. Example: --as-of 2025-07-01", valueName: "yyyy-mm-dd"))
  var asOf: String?

  @Option(
    name: .customLong("hash-ids"),
    help: ArgumentHelp(
      "Write HMAC-SHA256 pseudonyms instead of customer ids in exports (overrides exports.hash_ids_salt). Example: --hash-ids s3cret",
      valueName: "salt"))
  var hashIDs: String?

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    if let asOf, DayNumber.parse(asOf) == nil {
      throw ValidationError("--as-of '\(asOf)' is not a date; write it as YYYY-MM-DD, e.g. --as-of 2025-07-01.")
    }
    if let hashIDs, hashIDs.isEmpty { throw ValidationError("--hash-ids needs a non-empty salt.") }
  }

  func run() throws {
    let reporter = ProgressReporter(quiet: quiet)
    do {
      var c = try RunConfig.load(path: config)
      if let d = asOf.flatMap(DayNumber.parse) { c.asOf = .date(d) }
      if let hashIDs { c.exports.hashIDsSalt = hashIDs }
      let r = try ScheduledRun.run(c) { reporter($0) }
      let m = r.scoring.manifest
      print(
        "koi: run \(r.runID): \(m.customers) customers from \(m.rows.used) of \(m.rows.read) rows (\(m.rows.rejected) rejected) as of \(m.asOf); results in \(r.runDirectory)"
      )
      printWarnings(r.warnings)
    } catch {
      throw KoiExit.map(error)
    }
  }
}
