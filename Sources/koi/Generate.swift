import ArgumentParser
import Koi

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Generate realistic clinic transactions with ground truth.",
    discussion: """
      Writes to DIR:
        transactions.csv  customer_id,date,item,amount,list_price,promo,channel,store
        truth.csv         each customer's true tier, acquisition and dropout dates, purchases,
                          personal cycle per repeating treatment (days), one-off treatments
        bad_rows.csv      line and reason of every row made bad on purpose (--bad-rows)

      The same options and seed always give the same bytes. Memory stays bounded at any size.

      Examples:
        koi generate --customers 3000 --seed 7 --out datasets/sample
        koi generate --customers 1200000 --out /tmp/big --headers zh --encoding gb18030 --bad-rows 0.001
      """
  )

  @Option(help: ArgumentHelp("Number of customers (about 8 rows each). Example: --customers 100000", valueName: "n"))
  var customers = 3000

  @Option(help: ArgumentHelp("Random seed; the same seed gives the same files. Example: --seed 7", valueName: "s"))
  var seed: UInt64 = 1

  @Option(help: ArgumentHelp("Directory for the files; created if missing. Example: --out /tmp/gen", valueName: "dir"))
  var out: String

  @Option(help: ArgumentHelp("First day of the history. Example: --start 2023-01-01", valueName: "yyyy-mm-dd"))
  var start = "2023-01-01"

  @Option(help: ArgumentHelp("Last day of the history, inclusive. Example: --end 2025-12-31", valueName: "yyyy-mm-dd"))
  var end = "2025-12-31"

  @Option(
    help: ArgumentHelp(
      "Header language: en or zh (zh also writes Chinese item, channel and store names, 2025/3/5 dates and some ¥1,280.00 amounts). Example: --headers zh",
      valueName: "en|zh"))
  var headers = "en"

  @Option(
    help: ArgumentHelp(
      "File encoding: utf8 or gb18030 (as Excel on Chinese Windows saves). Example: --encoding gb18030",
      valueName: "utf8|gb18030"))
  var encoding = "utf8"

  @Option(
    name: .customLong("bad-rows"),
    help: ArgumentHelp(
      "Fraction of rows to make bad on purpose, listed in bad_rows.csv. Example: --bad-rows 0.01", valueName: "fraction"
    ))
  var badRows = 0.0

  @Flag(name: .long, help: "No progress lines on stderr.")
  var quiet = false

  func validate() throws {
    guard customers >= 1 else { throw ValidationError("--customers must be at least 1.") }
    guard let s = DayNumber.parse(start) else {
      throw ValidationError("--start '\(start)' is not a date; write YYYY-MM-DD.")
    }
    guard let e = DayNumber.parse(end) else { throw ValidationError("--end '\(end)' is not a date; write YYYY-MM-DD.") }
    guard e > s else { throw ValidationError("--end must be after --start.") }
    guard ["en", "zh"].contains(headers) else { throw ValidationError("--headers must be en or zh, got '\(headers)'.") }
    guard ["utf8", "gb18030"].contains(encoding) else {
      throw ValidationError("--encoding must be utf8 or gb18030, got '\(encoding)'.")
    }
    guard (0..<1).contains(badRows) else {
      throw ValidationError("--bad-rows is a fraction from 0 up to (not including) 1, got \(badRows).")
    }
  }

  func run() throws {
    var o = GeneratorOptions()
    o.customers = customers
    o.seed = seed
    o.startDay = DayNumber.parse(start) ?? o.startDay
    o.endDay = DayNumber.parse(end) ?? o.endDay
    o.chineseHeaders = headers == "zh"
    o.encoding = encoding == "gb18030" ? .gb18030 : .utf8
    o.badRowFraction = badRows
    var lastReported = 0
    do {
      let s = try TransactionGenerator.generate(o, outputDirectory: out) { done, total in
        if !quiet && (done - lastReported >= max(1, total / 10) || done == total) {
          stderrLine("koi: generated \(done) of \(total) customers")
          lastReported = done
        }
      }
      print("koi: \(s.customers) customers, \(s.rows) rows (\(s.badRows) bad on purpose), \(s.bytes) bytes in \(out)")
    } catch {
      throw KoiExit.map(error)
    }
  }
}
