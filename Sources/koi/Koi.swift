import ArgumentParser
import Koi

@main
struct KoiCommand: ParsableCommand {
  // Every command gives its name: without one, ArgumentParser derives it
  // with `String(describing:)` of the type, a search of the binary's
  // protocol conformances, for each command on every start (half the
  // start's conformance lookups; `koi --version` 18.3 → 16.0 ms).
  static let configuration = CommandConfiguration(
    commandName: "koi",
    abstract: "Customer segmentation and lifetime value for clinic chains.",
    discussion: """
      Koi reads a clinic chain's transaction history (CSV) and writes, per customer, \
      RFM scores and value segments as JSON for SCRM and dashboard systems.

      Start with the bundled sample:
        koi score datasets/sample/transactions.csv --out out

      Exit codes: 0 success; 1 unexpected internal error; 2 bad input data (bad header, \
      encoding, no usable rows, or a bad row under --strict); 3 input file missing or \
      unreadable; 4 results could not be written; 64 bad command-line usage.
      """,
    version: Koi.version,
    subcommands: [
      Score.self, RunCommand.self, Init.self, History.self, Diff.self,
      Backtest.self, Evaluate.self, Generate.self, Report.self, Stats.self, Fit.self, Merge.self,
    ]
  )

  /// ArgumentParser's `main`, except that a usage error is one line
  /// `koi: error: …` (exit code 64) instead of three lines of error, usage
  /// and help pointer.
  static func main() {
    Allocator.keepFreedMemory()
    Koi.settleLinearAlgebra()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      exitReporting(error)
    }
  }
}
