import ArgumentParser
import Foundation
import Koi

struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show how customers moved between two runs.",
    discussion: """
      Prints the segment migration matrix (rows: RUN_A, columns: RUN_B; `absent` = not in that \
      run), the tier matrix when both runs have tiers, and the customers who moved into an \
      at-risk segment (at_risk, cant_lose_them, hibernating, lost) from any other segment. \
      RUN may be a run id, `latest` or `previous` (the successful run before latest).

      Examples:
        koi diff previous latest --out out
        koi diff 20260101T020000Z-20260101 20260102T020000Z-20260102 --out out --json
      """
  )

  @Argument(help: ArgumentHelp("The earlier run.", valueName: "run-a"))
  var runA: String

  @Argument(help: ArgumentHelp("The later run.", valueName: "run-b"))
  var runB: String

  @Option(name: .long, help: ArgumentHelp("The output directory of `koi run`. Example: --out out", valueName: "dir"))
  var out: String

  @Flag(name: .long, help: "Print JSON for machines.")
  var json = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Customers listed as moving into at risk in the text output (all in --json). Example: --limit 50", valueName: "n")
  )
  var limit = 20

  func run() throws {
    do {
      let history = try openHistory(out)
      let runs = try history.runs()
      let ok = runs.filter { $0.status == "succeeded" }.map(\.id)
      func resolve(_ name: String) throws -> String {
        switch name {
        case "latest": if let x = ok.last { return x }
        case "previous": if ok.count >= 2 { return ok[ok.count - 2] }
        default:
          guard let r = runs.first(where: { $0.id == name }) else { break }
          guard r.status == "succeeded" else {
            throw ValidationError(
              "run \(name) did not succeed (\(r.status)); choose one from `koi history --out \(out)`.")
          }
          return name
        }
        throw ValidationError("no run '\(name)' in \(out); see `koi history --out \(out)`.")
      }
      let a = try resolve(runA), b = try resolve(runB)
      let d = try RunDiff(from: a, to: b, history: history)
      if d.segments.total == 0 {
        throw ValidationError("runs \(a) and \(b) have no customer rows; runs beyond runs_to_keep are forgotten.")
      }
      if json {
        print(String(decoding: try JSONEncoder.koi.encode(d), as: UTF8.self))
        return
      }
      print("Segments: \(a) (rows) → \(b) (columns)")
      print(RunDiff.render(d.segments))
      if let t = d.tiers {
        print("Tiers:")
        print(RunDiff.render(t))
      }
      print(
        "\(d.movedIntoAtRisk.count) customers moved into at-risk segments (at_risk, cant_lose_them, hibernating, lost):"
      )
      for m in d.movedIntoAtRisk.prefix(limit) { print("  \(m.customerID)  \(m.from) → \(m.to)") }
      if d.movedIntoAtRisk.count > limit { print("  … \(d.movedIntoAtRisk.count - limit) more (--limit, --json)") }
    } catch {
      throw KoiExit.map(error)
    }
  }
}
