import Foundation

@testable import Koi

/// Generated transactions shared by the scheduled-run tests: one file
/// serves several as-of dates (rows on or after the as-of date are
/// rejected). Generated once per test process, into a directory removed
/// when the process exits.
enum ScheduledRunFixture {
  static let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "koi-runs-fixture-\(getpid())"
  ).path

  static let transactions: String = {
    let dir = directory
    atexit { try? FileManager.default.removeItem(atPath: ScheduledRunFixture.directory) }
    var o = GeneratorOptions()
    o.customers = 600
    o.seed = 11
    o.startDay = DayNumber.from(year: 2023, month: 1, day: 1)
    o.endDay = DayNumber.from(year: 2025, month: 12, day: 31)
    // Generation only fails on an unwritable temporary directory.
    _ = try? TransactionGenerator.generate(o, outputDirectory: dir)
    return dir + "/transactions.csv"
  }()

  static let asOfDates = ["2025-01-01", "2025-04-01", "2025-07-01"]

  /// A configuration over the fixture writing to `out`.
  static func config(out: String, extra: String = "runs_to_keep = 5", exports: String = "") throws -> RunConfig {
    let text = """
      output_directory = "\(out)"
      as_of = 2025-01-01
      \(extra)
      [input]
      path = "\(transactions)"
      [category_priors]
      dental_implant = "one_off"
      surgery = "one_off"
      filler = 180
      [exports]
      contact_cap = 2
      \(exports)
      """
    return try RunConfig.parse(text, path: out + ".toml")
  }
}
