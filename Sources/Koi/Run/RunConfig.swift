import Foundation

/// The configuration of a scheduled run (`koi run --config koi.toml`).
///
/// Relative paths are resolved against the folder of the configuration file,
/// so a cron job can run from any working directory. Every key is checked:
/// an unknown key or a value of the wrong form is a `ConfigError` naming the
/// key and the expected form.
public struct RunConfig: Sendable {
  /// What the as-of date is.
  public enum AsOf: Sendable, Equatable {
    /// Today's date in `timeZone` when the run starts (a 02:00 run scores
    /// everything before today).
    case today
    case date(Int32)
  }

  /// Category prior: the typical repurchase cycle of a treatment, or one-off.
  public enum CategoryPrior: Sendable, Equatable {
    case cycleDays(Int)
    case oneOff
  }

  public var configPath: String
  /// `input.path`: files, directories and globs (resolved against the
  /// configuration's folder), read as `InputList` says.
  public var inputs: [String]
  /// The inputs as one string (the history's `input_path`); setting it
  /// names one input.
  public var inputPath: String {
    get { inputs.joined(separator: " ") }
    set { inputs = [newValue] }
  }
  public var ingest = IngestOptions()
  public var asOf: AsOf = .today
  public var timeZone = "Asia/Shanghai"
  public var outputDirectory: String
  public var runsToKeep = 14
  public var stages: [StageName] = StageName.allCases
  public var rfm = RFMStage.Options()
  /// `[stages.tiers]`: k, restarts, seed, features.
  public var tiers = TierOptions()
  /// `[stages.intervals]`: minimum_gaps, next_within_days, propensity; cycles come from `[category_priors]`.
  public var intervals = IntervalOptions()
  /// `[stages.intervals]` due_min_probability and due_limit.
  public var dueMinimumProbability = 0.25
  public var dueLimit: Int?
  /// `[stages.lifetime]`: horizon_days, discount_rate, margin, max_erlang_k.
  public var lifetime = LifetimeOptions()
  /// Item → typical repurchase cycle, or one-off (`[category_priors]`).
  public var categoryPriors: [String: CategoryPrior] = [:]
  public var tagRules: [TagRule] = TagRule.defaults
  public var exports = ExportOptions()

  public init(configPath: String, inputPath: String, outputDirectory: String) {
    self.configPath = configPath
    self.inputs = [inputPath]
    self.outputDirectory = outputDirectory
  }

  /// Reads and checks a configuration file.
  public static func load(path: String) throws -> RunConfig {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(file: path, key: "file", message: "cannot be read; check the path, or write an example with `koi init \(path)`")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ConfigError(file: path, key: "file", message: "is not UTF-8 text")
    }
    return try parse(text, path: path)
  }

  /// Checks configuration text; `path` names the file in errors and anchors
  /// relative paths.
  public static func parse(_ text: String, path: String) throws -> RunConfig {
    let file = (path as NSString).lastPathComponent
    let base = URL(fileURLWithPath: path).deletingLastPathComponent()
    func resolve(_ p: String) -> String {
      p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
    }
    let root = ConfigTableReader(file: file, path: "", values: try ConfigValue.parseTOML(text, file: file))

    guard let input = try root.table("input") else {
      throw root.error("input", "missing; add an [input] table with path = \"transactions.csv\"")
    }
    let pathExpected = "a file, directory or glob as a string, or a list of them, e.g. \"transactions.csv\" or [\"exports/2025-*.csv\", \"extra.xlsx\"]"
    let inputPaths: [String]
    switch input.take("path") {
    case nil:
      throw input.error("path", "missing; the transactions CSV, e.g. path = \"transactions.csv\"")
    case let .string(p)? where !p.isEmpty:
      inputPaths = [p]
    case let .array(items)? where !items.isEmpty:
      inputPaths = try items.map {
        guard case let .string(p) = $0, !p.isEmpty else { throw input.error("path", "expected \(pathExpected), got \(ConfigValue.array(items))") }
        return p
      }
    case let v?:
      throw input.error("path", "expected \(pathExpected), got \(v)")
    }
    let inputPath = inputPaths[0]
    guard let out = try root.string("output_directory", expected: "a directory as a string, e.g. \"out\"") else {
      throw root.error("output_directory", "missing; where runs are kept, e.g. output_directory = \"out\"")
    }
    var c = RunConfig(configPath: path, inputPath: resolve(inputPath), outputDirectory: resolve(out))
    c.inputs = inputPaths.map { $0 == "-" ? $0 : resolve($0) }

    if let e = try input.string("encoding", expected: "one of \"auto\", \"utf8\", \"gb18030\"") {
      guard let enc = InputEncoding(rawValue: e) else {
        throw input.error("encoding", "expected one of \"auto\", \"utf8\", \"gb18030\", got \"\(e)\"")
      }
      c.ingest.encoding = enc
    }
    if let s = try input.bool("strict") { c.ingest.strict = s }
    switch input.take("sheet") {
    case nil: break
    case let .string(s)? where !s.isEmpty: c.ingest.sheet = s
    case let .int(n)? where n >= 1: c.ingest.sheet = String(n)
    case let v?: throw input.error("sheet", "expected a sheet name, a number from 1 or \"all\", got \(v)")
    }
    if let n = try input.int("header_row", in: 1...1_000_000, expected: "a line number from 1") { c.ingest.headerRow = n }
    if let d = try input.string("duplicates", expected: "\"report\" or \"drop-across-files\"") {
      guard let policy = DuplicatePolicy(rawValue: d) else {
        throw input.error("duplicates", "expected \"report\" or \"drop-across-files\", got \"\(d)\"")
      }
      c.ingest.duplicates = policy
    }
    if let cols = try input.table("columns") {
      let canonical = ["customer_id", "date", "item", "amount", "list_price", "promo", "channel", "store"]
      for k in canonical {
        if let h = try cols.string(k, expected: "the header to read \(k) from, as a string") { c.ingest.columnOverrides[k] = h }
      }
      try cols.finish()
    }
    try input.finish()

    if let tz = try root.string("time_zone", expected: "an IANA time zone name, e.g. \"Asia/Shanghai\"") {
      guard TimeZone(identifier: tz) != nil else {
        throw root.error("time_zone", "expected an IANA time zone name such as \"Asia/Shanghai\", got \"\(tz)\"")
      }
      c.timeZone = tz
    }
    if let v = root.take("as_of") {
      switch v {
      case .string("today"): c.asOf = .today
      case let .date(d) where DayNumber.parse(d) != nil: c.asOf = .date(DayNumber.parse(d) ?? 0)
      case let .string(s) where DayNumber.parse(s) != nil: c.asOf = .date(DayNumber.parse(s) ?? 0)
      default: throw root.error("as_of", "expected \"today\" or a date YYYY-MM-DD, got \(v)")
      }
    }
    if let n = try root.int("runs_to_keep", in: 1...10_000, expected: "a whole number ≥ 1") { c.runsToKeep = n }

    if let stages = try root.table("stages") { try parseStages(stages, into: &c) }

    if let priors = try root.table("category_priors") {
      for (item, v) in priors.values.sorted(by: { $0.key < $1.key }) {
        _ = priors.take(item)
        switch v {
        case let .int(d) where d >= 1: c.categoryPriors[item] = .cycleDays(d)
        case .string("one_off"): c.categoryPriors[item] = .oneOff
        default: throw priors.error(item, "expected a cycle in whole days ≥ 1 or \"one_off\", got \(v)")
        }
      }
      try priors.finish()
    }

    if let rules = try root.tableArray("tags") {
      c.tagRules = try rules.map(TagRule.parse)
      var seen = Set<String>()
      for (i, r) in c.tagRules.enumerated() where !seen.insert(r.name).inserted {
        throw root.error("tags[\(i)].name", "the tag \"\(r.name)\" is defined twice")
      }
    }
    if let e = try root.table("exports") { c.exports = try ExportOptions.parse(e) }
    try root.finish()
    return c
  }

  static func parseStages(_ t: ConfigTableReader, into c: inout RunConfig) throws {
    if let run = try t.stringArray("run", expected: "a list of stage names, e.g. [\"rfm\"]") {
      var chosen = Set<StageName>()
      for s in run {
        guard let stage = StageName(rawValue: s) else {
          throw t.error("run", "unknown stage \"\(s)\"; the stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        chosen.insert(stage)
      }
      guard !chosen.isEmpty else { throw t.error("run", "expected at least one stage") }
      c.stages = StageName.allCases.filter(chosen.contains)
    }
    if let rfm = try t.table("rfm") {
      if let b = try rfm.int("bins", in: 2...100, expected: "a whole number from 2 to 100") { c.rfm.bins = b }
      try rfm.finish()
    }
    if let tiers = try t.table("tiers") {
      if let k = try tiers.int("k", in: 2...256, expected: "a whole number from 2 to 256") { c.tiers.k = k }
      if let r = try tiers.int("restarts", in: 1...100, expected: "a whole number from 1 to 100") { c.tiers.restarts = r }
      if let s = try tiers.int("seed", in: 0...Int.max, expected: "a whole number ≥ 0") { c.tiers.seed = UInt64(s) }
      if let names = try tiers.stringArray("features", expected: "a list of feature names") {
        c.tiers.features = try names.map { name in
          guard let f = TierFeature(rawValue: name) else {
            throw tiers.error("features", "unknown feature \"\(name)\"; the features are \(TierFeature.allCases.map(\.rawValue).joined(separator: ", "))")
          }
          return f
        }
      }
      try tiers.finish()
    }
    if let iv = try t.table("intervals") {
      if let p = try iv.double("due_min_probability", in: 0...1, expected: "a probability from 0 to 1") { c.dueMinimumProbability = p }
      if let n = try iv.int("due_limit", in: 1...Int.max, expected: "a whole number ≥ 1") { c.dueLimit = n }
      if let n = try iv.int("minimum_gaps", in: 1...1_000_000, expected: "a whole number ≥ 1") { c.intervals.minimumGapsForFit = n }
      if let n = try iv.int("next_within_days", in: 1...3650, expected: "a number of days from 1 to 3650") { c.intervals.horizonDays = n }
      if let b = try iv.bool("propensity") { c.intervals.propensity = b }
      try iv.finish()
    }
    if let lt = try t.table("lifetime") {
      if let h = try lt.double("horizon_days", in: 1...36_500, expected: "a number of days from 1 to 36500") { c.lifetime.horizonDays = h }
      if let r = try lt.double("discount_rate", in: 0...10, expected: "an annual fraction such as 0.1") { c.lifetime.annualDiscountRate = r }
      if let m = try lt.double("margin", in: 0...1, expected: "a fraction from 0 to 1") { c.lifetime.margin = m }
      if let k = try lt.int("max_erlang_k", in: 0...12, expected: "a whole number from 0 to 12") { c.lifetime.maximumErlangK = k }
      try lt.finish()
    }
    try t.finish()
  }

  /// The as-of day for a run starting at `now`.
  public func asOfDay(now: Date = Date()) -> Int32 {
    switch asOf {
    case let .date(d): return d
    case .today:
      var cal = Calendar(identifier: .gregorian)
      cal.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(secondsFromGMT: 8 * 3600) ?? .current
      let p = cal.dateComponents([.year, .month, .day], from: now)
      return DayNumber.from(year: p.year ?? 1970, month: p.month ?? 1, day: p.day ?? 1)
    }
  }
}

/// `[exports]`: which campaign lists to write and how.
public struct ExportOptions: Sendable, Equatable {
  /// Lists to write, in tie-break order for the contact cap.
  public var lists: [CampaignListKind] = CampaignListKind.allCases
  /// The horizon of `due_soon` and of `<category>_due_<N>d` tags.
  public var dueWithinDays = 30
  /// At most this many lists per customer per run.
  public var contactCap = 2
  /// When set, exports carry HMAC-SHA256 pseudonyms instead of raw ids.
  public var hashIDsSalt: String?
  /// Also write each list as CSV.
  public var csv = true
  /// Share of customers (by net amount) counted as high value.
  public var highValueShare = 0.2

  public init() {}

  static func parse(_ t: ConfigTableReader) throws -> ExportOptions {
    var o = ExportOptions()
    let names = CampaignListKind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
    if let lists = try t.stringArray("lists", expected: "a list of list names from \(names)") {
      o.lists = try lists.map {
        guard let k = CampaignListKind(rawValue: $0) else {
          throw t.error("lists", "unknown list \"\($0)\"; the lists are \(names)")
        }
        return k
      }
    }
    if let d = try t.int("due_within_days", in: 1...3650, expected: "a whole number of days from 1 to 3650") { o.dueWithinDays = d }
    if let k = try t.int("contact_cap", in: 1...1000, expected: "a whole number ≥ 1") { o.contactCap = k }
    if let s = try t.string("hash_ids_salt", expected: "a secret string") {
      o.hashIDsSalt = s.isEmpty ? nil : s
    }
    if let b = try t.bool("csv") { o.csv = b }
    if let v = t.take("high_value_share") {
      switch v {
      case let .double(x) where x > 0 && x <= 1: o.highValueShare = x
      case let .int(x) where x == 1: o.highValueShare = 1
      default: throw t.error("high_value_share", "expected a fraction above 0 and at most 1, e.g. 0.2, got \(v)")
      }
    }
    try t.finish()
    return o
  }
}
