import Foundation
import Testing

@testable import Koi

@Suite struct RunConfigTests {
  func parse(_ text: String) throws -> RunConfig { try RunConfig.parse(text, path: "/etc/koi/koi.toml") }

  let minimal = """
    output_directory = "out"
    [input]
    path = "tx.csv"
    """

  @Test func theExampleConfigParses() throws {
    let c = try parse(RunConfig.exampleTOML)
    #expect(c.inputPath == "/etc/koi/transactions.csv")
    #expect(c.outputDirectory == "/etc/koi/out")
    #expect(c.asOf == .today)
    #expect(c.timeZone == "Asia/Shanghai")
    #expect(c.exports.contactCap == 2)
    #expect(c.exports.hashIDsSalt == nil)
    #expect(c.tagRules.map(\.name) == TagRule.defaults.map(\.name))
    #expect(c.tagRules == TagRule.defaults)
  }

  @Test func minimalConfigTakesDefaults() throws {
    let c = try parse(minimal)
    #expect(c.runsToKeep == 14)
    #expect(c.rfm.bins == 5)
    #expect(c.exports.lists == CampaignListKind.allCases)
  }

  @Test(arguments: [
    (
      "\n[exports]\ncontact_cap = \"three\"",
      "koi.toml: exports.contact_cap: expected a whole number from 1 to 1000, got \"three\""
    ),
    ("\n[exports]\ncontact_cap = 0", "koi.toml: exports.contact_cap: expected a whole number from 1 to 1000, got 0"),
    ("\nruns_to_kepe = 3", "koi.toml: runs_to_kepe: unknown key"),
    ("\n[stages.rfm]\nbinz = 5", "koi.toml: stages.rfm.binz: unknown key"),
    ("\nas_of = \"yesterday\"", "koi.toml: as_of: expected \"today\" or a date YYYY-MM-DD, got \"yesterday\""),
    ("\ntime_zone = \"Mars/Olympus\"", "koi.toml: time_zone: expected an IANA time zone name"),
    (
      "\n[category_priors]\nfiller = \"often\"",
      "koi.toml: category_priors.filler: expected a cycle of 1 to 36500 days or \"one_off\", got \"often\""
    ),
    ("\n[[tags]]\nname = \"x\"\nall = [\"monetry > 3\"]", "koi.toml: tags[0].all: unknown fact \"monetry\""),
    ("\n[[tags]]\nname = \"x\"\nall = [\"segment == winners\"]", "koi.toml: tags[0].all: unknown segment \"winners\""),
    ("\n[exports]\nlists = [\"everyone\"]", "koi.toml: exports.lists: unknown list \"everyone\""),
  ])
  func badValuesNameTheKeyAndTheExpectedForm(extra: String, message: String) throws {
    // Tables after the root keys: put root-level extras before [input].
    let text = extra.contains("[") ? minimal + extra : extra + "\n" + minimal
    let error = #expect(throws: ConfigError.self) { try parse(text) }
    #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "")")
  }

  @Test func missingInputIsNamed() throws {
    let error = #expect(throws: ConfigError.self) { try parse("output_directory = \"out\"") }
    #expect(error?.description.hasPrefix("koi.toml: input: missing") == true)
    let e2 = #expect(throws: ConfigError.self) { try parse("output_directory = \"out\"\n[input]\nencoding = \"utf8\"") }
    #expect(e2?.description.hasPrefix("koi.toml: input.path: missing") == true)
  }

  @Test func syntaxErrorsNameTheLine() throws {
    let error = #expect(throws: ConfigError.self) { try parse("output_directory = \n") }
    #expect(error?.description.contains("line 1") == true)
  }

  @Test func stageTablesAreParsedStrictly() throws {
    let c = try parse(
      minimal
        + "\n[stages.tiers]\nk = 6\nseed = 9\nfeatures = [\"promo_share\", \"breadth\"]\n[stages.intervals]\ndue_min_probability = 0.4\ndue_limit = 50\n"
    )
    #expect(c.tiers.k == 6 && c.tiers.seed == 9 && c.tiers.features == [.promoShare, .breadth])
    #expect(c.dueMinimumProbability == 0.4 && c.dueLimit == 50)
    #expect(throws: ConfigError.self) { try parse(minimal + "\n[stages.tiers]\nk = 1\n") }
    #expect(throws: ConfigError.self) { try parse(minimal + "\n[stages.tiers]\nfeatures = [\"shoe_size\"]\n") }
    #expect(throws: ConfigError.self) { try parse(minimal + "\n[stages.intervals]\nwindow = 3\n") }
    let iv = try parse(minimal + "\n[stages.intervals]\nnext_within_days = 180\npropensity = false\n")
    #expect(iv.intervals.horizonDays == 180 && !iv.intervals.propensity)
    #expect(try parse(minimal).intervals.propensity && (try parse(minimal).intervals.horizonDays == 365))
    #expect(throws: ConfigError.self) { try parse(minimal + "\n[stages.intervals]\nnext_within_days = 0\n") }
  }

  @Test func todayIsInTheConfiguredTimeZone() throws {
    var c = try parse(minimal)
    // 2026-01-01 17:30 UTC is already 2 January in Shanghai (UTC+8).
    let instant = Date(timeIntervalSince1970: 1_767_288_600)
    #expect(DayNumber.format(c.asOfDay(now: instant)) == "2026-01-02")
    c.timeZone = "UTC"
    #expect(DayNumber.format(c.asOfDay(now: instant)) == "2026-01-01")
  }
}
