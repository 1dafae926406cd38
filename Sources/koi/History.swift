import ArgumentParser
import Foundation
import Koi

struct History: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "history",
    abstract: "List the runs recorded in OUT/history.sqlite.",
    discussion: """
      One line per run, oldest first: id, as-of date, status (succeeded, failed, running, \
      abandoned = killed), customers, rows used/read, total seconds.

      Example:
        koi history --out out
        koi history --out out --json
      """
  )

  @Option(name: .long, help: ArgumentHelp("The output directory of `koi run`. Example: --out out", valueName: "dir"))
  var out: String

  @Flag(name: .long, help: "Print JSON (an array of runs) instead of a table.")
  var json = false

  func run() throws {
    do {
      let runs = try openHistory(out).runs()
      if json {
        print(String(decoding: try JSONEncoder.koi.encode(runs), as: UTF8.self))
        return
      }
      print("id                          as_of       status     customers  rows used/read  seconds")
      for r in runs {
        let secs =
          r.seconds.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }?["total"]
          as? Double
        let rows = r.rowsUsed.map { "\($0)/\(r.rowsRead ?? 0)" } ?? "-"
        print(
          [
            r.id.padding(toLength: 27, withPad: " ", startingAt: 0),
            r.asOf.padding(toLength: 11, withPad: " ", startingAt: 0),
            r.status.padding(toLength: 10, withPad: " ", startingAt: 0),
            String(r.customers.map(String.init) ?? "-").padding(toLength: 10, withPad: " ", startingAt: 0),
            rows.padding(toLength: 15, withPad: " ", startingAt: 0), secs.map { String(format: "%.2f", $0) } ?? "-",
          ].joined(separator: " "))
      }
    } catch {
      throw KoiExit.map(error)
    }
  }
}

/// Opens OUT/history.sqlite, refusing a directory that has none (so a typo
/// does not create an empty history).
func openHistory(_ out: String) throws -> RunHistory {
  let path = out + "/history.sqlite"
  guard FileManager.default.fileExists(atPath: path) else {
    throw ValidationError("\(path) does not exist; --out must be the output_directory of `koi run`.")
  }
  return try RunHistory(path: path)
}
