import ArgumentParser
import Foundation
import Koi

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write report.html: a bilingual, printable report of a run, with charts.",
    discussion: """
      Reads a run directory (the --out directory of koi score, or OUT/runs/<run-id> of koi run) \
      and writes one self-contained HTML file: inline SVG charts and CSS, no script, nothing \
      fetched from anywhere, printable on A4, under 2 MB whatever the customer count (aggregates \
      only; no customer ids). For a koi run directory, the run history (OUT/history.sqlite) adds \
      the migration since the previous run and segment sizes over the last runs.

      koi score and koi run write report.html themselves; this command writes it again, in \
      another language or to another place.

      Examples:
        koi report out
        koi report out --lang en --out out/report-en.html
        koi report runs/latest
      """
  )

  @Argument(help: ArgumentHelp("The run directory to report on.", valueName: "run-dir"))
  var runDirectory: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Where to write the page. Default: RUN_DIR/report.html. Example: --out report.html", valueName: "file"))
  var out: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Language of the page: zh (Chinese) or en (English). Example: --lang en", valueName: "zh|en"))
  var lang = "zh"

  func validate() throws {
    guard ReportLanguage(code: lang) != nil else {
      throw ValidationError("--lang '\(lang)' is not a report language; use zh or en, e.g. --lang en.")
    }
  }

  func run() throws {
    let started = Date()
    do {
      let written = try RunReport.write(
        directory: runDirectory, to: out, language: ReportLanguage(code: lang) ?? .zh)
      print(
        "koi: report \(written.path) (\(written.bytes) bytes) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s"
      )
    } catch {
      throw KoiExit.map(error)
    }
  }
}
