/// One option of Koi, defined once: its command-line flag, its key in
/// koi.toml, its default, its allowed range and what it means. The command
/// line, the configuration reader and the library all check values with
/// `problem(_:)`, so a value out of range gets the same sentence everywhere:
///
/// ```
/// koi score … --k 1        →  --k: expected a whole number from 2 to 256, got 1
/// [stages.tiers] k = 1     →  koi.toml: stages.tiers.k: expected a whole number from 2 to 256, got 1
/// TierOptions(k: 1)        →  k: expected a whole number from 2 to 256, got 1
/// ```
public struct Setting<Value: Comparable & Sendable>: Sendable {
  /// The option's name in the library and in messages that are neither
  /// command-line nor configuration specific.
  public let name: String
  /// The command-line flag, e.g. `--horizon-days`; nil when there is none.
  public let flag: String?
  /// The dotted koi.toml key, e.g. `stages.lifetime.horizon_days`; nil when
  /// there is none.
  public let key: String?
  public let defaultValue: Value
  public let range: ClosedRange<Value>
  /// What the range allows, in words: "a whole number from 2 to 256".
  public let expected: String
  /// One sentence for help texts and README.
  public let meaning: String

  /// Nil when `value` is allowed, else "expected …, got …". NaN is out of
  /// every range.
  public func problem(_ value: Value) -> String? {
    range.contains(value) ? nil : "expected \(expected), got \(value)"
  }
}

extension Setting where Value == Int {
  static func integer(
    _ name: String, flag: String?, key: String?, default value: Int, range: ClosedRange<Int>, unit: String = "",
    meaning: String
  ) -> Setting {
    let bound =
      range.upperBound == Int.max
      ? "a whole number ≥ \(range.lowerBound)" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
    return Setting(
      name: name, flag: flag, key: key, defaultValue: value, range: range,
      expected: unit.isEmpty ? bound : "\(bound) (\(unit))", meaning: meaning)
  }
}

extension Setting where Value == Double {
  static func number(
    _ name: String, flag: String?, key: String?, default value: Double, range: ClosedRange<Double>,
    expected: String, meaning: String
  ) -> Setting {
    Setting(name: name, flag: flag, key: key, defaultValue: value, range: range, expected: expected, meaning: meaning)
  }
}

/// Every option with a range, in one place. README's option tables and the
/// example configuration (`koi init`) list the same names, ranges and
/// defaults.
public enum Settings {
  // Input
  public static let headerRow = Setting<Int>.integer(
    "header_row", flag: "--header-row", key: "input.header_row", default: 1, range: 1...1_000_000,
    meaning: "The line (workbook row) the header is on; the title lines above it are skipped.")

  // RFM
  public static let rfmBins = Setting<Int>.integer(
    "rfm_bins", flag: "--rfm-bins", key: "stages.rfm.bins", default: 5, range: 2...100,
    meaning: "Score levels for R, F and M (5 = quintiles).")

  // Tiers
  public static let k = Setting<Int>.integer(
    "k", flag: "--k", key: "stages.tiers.k", default: 4, range: 2...256,
    meaning:
      "Clusters for the price-sensitivity tiers; 4 gives one cluster per tier, more are each named after the tier whose quadrant they point into."
  )
  public static let restarts = Setting<Int>.integer(
    "restarts", flag: "--restarts", key: "stages.tiers.restarts", default: 4, range: 1...100,
    meaning: "k-means restarts (k-means++ seeding each); the lowest inertia is kept.")
  public static let seed = Setting<Int>.integer(
    "seed", flag: "--seed", key: "stages.tiers.seed", default: 0, range: 0...Int.max,
    meaning: "Seed of the k-means seeding; echoed in run.json.")

  // Intervals and due lists
  public static let dueWithin = Setting<Int>.integer(
    "due_within_days", flag: "--due-within", key: "exports.due_within_days", default: 30, range: 1...3650,
    unit: "days",
    meaning: "Window of the due lists in due.json and of due tags: customers likely to buy a treatment again within it."
  )
  public static let dueMinimumProbability = Setting<Double>.number(
    "due_min_probability", flag: "--due-min-probability", key: "stages.intervals.due_min_probability",
    default: 0.25, range: 0...1, expected: "a probability from 0 to 1",
    meaning: "Leave customers below this probability of buying within the window off the due lists.")
  public static let dueLimit = Setting<Int>.integer(
    "due_limit", flag: "--due-limit", key: "stages.intervals.due_limit", default: Int.max, range: 1...Int.max,
    meaning: "At most this many customers per treatment on the due lists (default: no cap).")
  static let minimumGaps = Setting<Int>.integer(
    "minimum_gaps", flag: nil, key: "stages.intervals.minimum_gaps", default: 30, range: 1...1_000_000,
    meaning: "Repeat gaps a treatment needs for its own fit; below it a prior or the pooled fit is used.")
  public static let nextWithin = Setting<Int>.integer(
    "next_within_days", flag: "--next-within", key: "stages.intervals.next_within_days", default: 365,
    range: 1...3650, unit: "days",
    meaning:
      "Repurchase horizon: next-purchase dates and P10/P50/P90 lie within it, and a customer less likely than not to buy a treatment within it is 'lapsed'."
  )
  public static let priorDays = Setting<Double>.number(
    "prior", flag: "--prior", key: "category_priors", default: 180, range: 1...36_500,
    expected: "a cycle of 1 to 36500 days",
    meaning: "Typical repurchase cycle of a treatment in days, used when it has too few repeat purchases to fit.")

  // Lifetime
  public static let horizonDays = Setting<Double>.number(
    "horizon_days", flag: "--horizon-days", key: "stages.lifetime.horizon_days", default: 365, range: 1...36_500,
    expected: "a number of days from 1 to 36500",
    meaning: "Lifetime horizon in days: expected purchases, P(no purchase) and CLV look this far ahead.")
  public static let discountRate = Setting<Double>.number(
    "discount_rate", flag: "--discount-rate", key: "stages.lifetime.discount_rate", default: 0.1, range: 0...10,
    expected: "an annual fraction from 0 to 10, such as 0.1",
    meaning: "Annual discount rate for CLV, as a fraction (0.1 = 10% a year), applied in 30-day steps.")
  public static let margin = Setting<Double>.number(
    "margin", flag: "--margin", key: "stages.lifetime.margin", default: 1, range: 0...1,
    expected: "a fraction from 0 to 1",
    meaning: "Gross margin as a fraction of spend; CLV = margin × expected discounted spend.")
  public static let maxErlangK = Setting<Int>.integer(
    "max_erlang_k", flag: "--max-erlang-k", key: "stages.lifetime.max_erlang_k", default: 4, range: 0...12,
    meaning:
      "Largest Erlang order k tried for the regular-timing model MBG/CNBD-k, which replaces BG/NBD when it fits better; 0 keeps BG/NBD only."
  )

  // Scheduled runs and exports
  static let runsToKeep = Setting<Int>.integer(
    "runs_to_keep", flag: nil, key: "runs_to_keep", default: 14, range: 1...10_000,
    meaning: "Run directories kept; older ones are deleted after a successful run.")
  static let contactCap = Setting<Int>.integer(
    "contact_cap", flag: nil, key: "exports.contact_cap", default: 2, range: 1...1000,
    meaning: "At most this many campaign lists per customer per run.")
}

/// Which front end a run was configured from: warnings name the setting that
/// addresses them as that front end spells it.
public enum Frontend: Sendable {
  /// `koi score`, `koi backtest`: flags.
  case commandLine
  /// `koi run --config koi.toml`: configuration keys.
  case configuration
}

/// A warning for the operator, as a value: what happened and, when a
/// setting addresses it, that setting as each front end spells it
/// (`--prior 'x=DAYS'` on the command line, `[category_priors]` in
/// koi.toml). The library never names a flag in a sentence of its own.
public struct RunWarning: Sendable, Equatable {
  public var message: String
  var advice: Advice?

  public struct Advice: Sendable, Equatable {
    /// Words before the setting: "Make this explicit with".
    var lead: String
    /// The flag with an example value: `--encoding gb18030`.
    var commandLine: String?
    /// The configuration entry with an example value: `[input] encoding = "gb18030"`.
    public var configuration: String?
  }

  public init(_ message: String, advice: Advice? = nil) {
    self.message = message
    self.advice = advice
  }

  /// A warning whose remedy is `setting`: `value` is the example value on
  /// the command line (after the flag) and `entry` the example entry in
  /// koi.toml.
  public init<V>(_ message: String, _ lead: String, setting: Setting<V>, value: String, entry: String) {
    self.message = message
    advice = Advice(lead: lead, commandLine: setting.flag.map { "\($0) \(value)" }, configuration: entry)
  }

  /// The warning as a sentence for `frontend`.
  public func text(for frontend: Frontend) -> String {
    guard let a = advice else { return message }
    switch frontend {
    case .commandLine: if let c = a.commandLine { return "\(message) \(a.lead) \(c)." }
    case .configuration: if let c = a.configuration { return "\(message) \(a.lead) \(c) in the configuration." }
    }
    return message
  }
}
