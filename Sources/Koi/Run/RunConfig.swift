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
  enum CategoryPrior: Sendable, Equatable {
    case cycleDays(Int)
    case oneOff
  }

  var configPath: String
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
  var timeZone = "Asia/Shanghai"
  public var outputDirectory: String
  var runsToKeep = 14
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
  var categoryPriors: [String: CategoryPrior] = [:]
  var tagRules: [TagRule] = TagRule.defaults
  public var exports = ExportOptions()
  /// `[report]`: the language of each run's report.html (`lang`), nil when
  /// `enabled = false`.
  public var reportLanguage: ReportLanguage? = .zh

  public init(configPath: String, inputPath: String, outputDirectory: String) {
    self.configPath = configPath
    self.inputs = [inputPath]
    self.outputDirectory = outputDirectory
  }

  /// Reads and checks a configuration file.
  public static func load(path: String) throws -> RunConfig {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigError(
        file: path, key: "file", message: "cannot be read; check the path, or write an example with `koi init \(path)`")
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
    let pathExpected =
      "a file, directory or glob as a string, or a list of them, e.g. \"transactions.csv\" or [\"exports/2025-*.csv\", \"extra.xlsx\"]"
    let inputPaths: [String]
    switch input.take("path") {
    case nil:
      throw input.error("path", "missing; the transactions CSV, e.g. path = \"transactions.csv\"")
    case let .string(p)? where !p.isEmpty:
      inputPaths = [p]
    case let .array(items)? where !items.isEmpty:
      inputPaths = try items.map {
        guard case let .string(p) = $0, !p.isEmpty else {
          throw input.error("path", "expected \(pathExpected), got \(ConfigValue.array(items))")
        }
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
    if let n = try input.int("header_row", Settings.headerRow) { c.ingest.headerRow = n }
    if let d = try input.string("duplicates", expected: "\"report\" or \"drop-across-files\"") {
      guard let policy = DuplicatePolicy(rawValue: d) else {
        throw input.error("duplicates", "expected \"report\" or \"drop-across-files\", got \"\(d)\"")
      }
      c.ingest.duplicates = policy
    }
    if let cols = try input.table("columns") {
      let canonical = ["customer_id", "date", "item", "amount", "list_price", "promo", "channel", "store"]
      for k in canonical {
        if let h = try cols.string(k, expected: "the header to read \(k) from, as a string") {
          c.ingest.columnOverrides[k] = h
        }
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
    if let n = try root.int("runs_to_keep", Settings.runsToKeep) { c.runsToKeep = n }

    if let stages = try root.table("stages") { try parseStages(stages, into: &c) }

    if let priors = try root.table("category_priors") {
      for (item, v) in priors.values.sorted(by: { $0.key < $1.key }) {
        _ = priors.take(item)
        switch v {
        case let .int(d) where Settings.priorDays.problem(Double(d)) == nil: c.categoryPriors[item] = .cycleDays(d)
        case .string("one_off"): c.categoryPriors[item] = .oneOff
        default: throw priors.error(item, "expected \(Settings.priorDays.expected) or \"one_off\", got \(v)")
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
      try checkWeComLimits(c.tagRules, root)
    }
    if let e = try root.table("exports") { c.exports = try ExportOptions.parse(e) }
    if let r = try root.table("report") {
      if let l = try r.string("lang", expected: "\"zh\" or \"en\"") {
        guard let lang = ReportLanguage(code: l) else {
          throw r.error("lang", "expected \"zh\" or \"en\", got \"\(l)\"")
        }
        c.reportLanguage = lang
      }
      if try r.bool("enabled") == false { c.reportLanguage = nil }
      try r.finish()
    }
    try root.finish()
    return c
  }

  /// What WeCom checks across tags (`WeComTagLimits`): at most 3,000
  /// (counted as rules: a per-category rule counts once here, its expansion
  /// per category is checked when a run knows the categories), and no two
  /// with the same display name in one group.
  static func checkWeComLimits(_ rules: [TagRule], _ root: ConfigTableReader) throws {
    if rules.count > WeComTagLimits.tagsPerEnterprise {
      throw root.error(
        "tags", "\(rules.count) tag rules; WeCom allows at most \(WeComTagLimits.tagsPerEnterprise) tags per enterprise"
      )
    }
    var shown: [String: Int] = [:]
    for (i, r) in rules.enumerated() {
      let key = (r.group ?? "") + "\u{0}" + r.displayName
      if let first = shown[key] {
        throw root.error(
          "tags[\(i)].\(r.nameZH == nil ? "name" : "name_zh")",
          "the display name \"\(UserText.excerpt(r.displayName))\" is also that of tags[\(first)] in the same group; WeCom needs distinct names within a group"
        )
      }
      shown[key] = i
    }
  }

  static func parseStages(_ t: ConfigTableReader, into c: inout RunConfig) throws {
    if let run = try t.stringArray("run", expected: "a list of stage names, e.g. [\"rfm\"]") {
      var chosen = Set<StageName>()
      for s in run {
        guard let stage = StageName.allCases.first(where: { $0.rawValue == s }) else {
          throw t.error(
            "run",
            "unknown stage \"\(s)\"; the stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        chosen.insert(stage)
      }
      guard !chosen.isEmpty else { throw t.error("run", "expected at least one stage") }
      c.stages = StageName.allCases.filter(chosen.contains)
    }
    if let rfm = try t.table("rfm") {
      if let b = try rfm.int("bins", Settings.rfmBins) { c.rfm.bins = b }
      try rfm.finish()
    }
    if let tiers = try t.table("tiers") {
      if let k = try tiers.int("k", Settings.k) { c.tiers.k = k }
      if let r = try tiers.int("restarts", Settings.restarts) { c.tiers.restarts = r }
      if let s = try tiers.int("seed", Settings.seed) { c.tiers.seed = UInt64(s) }
      if let names = try tiers.stringArray("features", expected: "a list of feature names") {
        c.tiers.features = try names.map { name in
          guard let f = TierFeature(rawValue: name) else {
            throw tiers.error(
              "features",
              "unknown feature \"\(name)\"; the features are \(TierFeature.allCases.map(\.rawValue).joined(separator: ", "))"
            )
          }
          return f
        }
      }
      try tiers.finish()
    }
    if let iv = try t.table("intervals") {
      if let p = try iv.double("due_min_probability", Settings.dueMinimumProbability) { c.dueMinimumProbability = p }
      if let n = try iv.int("due_limit", Settings.dueLimit) { c.dueLimit = n }
      if let n = try iv.int("minimum_gaps", Settings.minimumGaps) { c.intervals.minimumGapsForFit = n }
      if let n = try iv.int("next_within_days", Settings.nextWithin) { c.intervals.horizonDays = n }
      if let b = try iv.bool("propensity") { c.intervals.propensity = b }
      try iv.finish()
    }
    if let lt = try t.table("lifetime") {
      if let h = try lt.double("horizon_days", Settings.horizonDays) { c.lifetime.horizonDays = h }
      if let r = try lt.double("discount_rate", Settings.discountRate) { c.lifetime.annualDiscountRate = r }
      if let m = try lt.double("margin", Settings.margin) { c.lifetime.margin = m }
      if let k = try lt.int("max_erlang_k", Settings.maxErlangK) { c.lifetime.maximumErlangK = k }
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
