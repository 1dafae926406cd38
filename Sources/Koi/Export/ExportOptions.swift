/// The language of the campaign-list CSVs (`exports.lang`): headers and
/// reasons. JSON exports are English whatever the language (keys and
/// values are for programs).
public enum ExportLanguage: String, Sendable, CaseIterable {
  case en
  case zh
}

/// `[exports]`: which campaign lists to write and how.
public struct ExportOptions: Sendable, Equatable {
  /// Lists to write, in tie-break order for the contact cap.
  public var lists: [CampaignListKind] = CampaignListKind.allCases
  /// The horizon of `due_soon` and of `<category>_due_<N>d` tags.
  public var dueWithinDays = 30
  /// At most this many lists per customer per run.
  var contactCap = 2
  /// When set, exports carry HMAC-SHA256 pseudonyms instead of raw ids.
  public var hashIDsSalt: String?
  /// Also write each list as CSV.
  public var csv = true
  /// Share of customers (by net amount) counted as high value.
  var highValueShare = 0.2
  /// Headers and reasons of the CSVs: `en` or `zh` (for operators opening
  /// them in Excel).
  public var language = ExportLanguage.en

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
    if let d = try t.int("due_within_days", Settings.dueWithin) { o.dueWithinDays = d }
    if let k = try t.int("contact_cap", Settings.contactCap) { o.contactCap = k }
    if let s = try t.string("hash_ids_salt", expected: "a secret string") {
      o.hashIDsSalt = s.isEmpty ? nil : s
    }
    if let b = try t.bool("csv") { o.csv = b }
    if let l = try t.string("lang", expected: "\"en\" or \"zh\"") {
      guard let language = ExportLanguage(rawValue: l) else {
        throw t.error("lang", "expected \"en\" or \"zh\", got \"\(UserText.excerpt(l))\"")
      }
      o.language = language
    }
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
