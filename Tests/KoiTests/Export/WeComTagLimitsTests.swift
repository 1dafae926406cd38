import Foundation
import Testing

@testable import Koi

/// `group` and `name_zh` of tag rules, checked against WeCom's limits at load.
@Suite struct WeComTagLimitsTests {
  func parse(_ tags: String, exports: String = "") throws -> RunConfig {
    try RunConfig.parse(
      "output_directory = \"out\"\n[input]\npath = \"tx.csv\"\n\(exports)\n\(tags)", path: "/etc/koi/koi.toml")
  }

  func rule(_ name: String, _ extra: String = "") -> String {
    "[[tags]]\nname = \"\(name)\"\nall = [\"monetary_percentile >= 0.8\"]\n\(extra)\n"
  }

  let thirty = String(repeating: "a", count: 30)
  let thirtyZH = String(repeating: "客", count: 30)

  @Test func groupAndDisplayNameAreRead() throws {
    let c = try parse(rule("high", "group = \"客户价值\"\nname_zh = \"高价值客户\"") + rule("plain"))
    #expect(c.tagRules[0].group == "客户价值" && c.tagRules[0].nameZH == "高价值客户" && c.tagRules[0].displayName == "高价值客户")
    #expect(c.tagRules[1].group == nil && c.tagRules[1].nameZH == nil && c.tagRules[1].displayName == "plain")
  }

  @Test func thirtyCharactersFitInEveryScript() throws {
    let c = try parse(rule(thirty, "group = \"\(thirtyZH)\"\nname_zh = \"\(thirtyZH)\""))
    #expect(c.tagRules[0].name.count == 30 && c.tagRules[0].nameZH?.count == 30)
    // {category} is not counted at load: it is replaced per category at run time.
    let p = try parse(
      "[[tags]]\nname = \"{category}_\(String(repeating: "x", count: 29))\"\nper_category = true\nall = [\"due_in_days <= 30\"]\nname_zh = \"{category}\(String(repeating: "到", count: 30))\""
    )
    #expect(p.tagRules[0].perCategory)
  }

  @Test(arguments: [
    (
      #"[[tags]]"# + "\nname = \"a\"\nall = [\"frequency > 1\"]\n"
        + "[[tags]]\nname = \"b\"\nall = [\"frequency > 2\"]\n" + "[[tags]]\nname = \"c\"\nall = [\"frequency > 3\"]\n"
        + "[[tags]]\nname = \"d\"\nall = [\"frequency > 4\"]\nname_zh = \"" + String(repeating: "客", count: 31) + "\"",
      "koi.toml: tags[3].name_zh: the display name \"" + String(repeating: "客", count: 31)
        + "\" has 31 characters; WeCom allows at most 30"
    ),
    (
      "[[tags]]\nname = \"" + String(repeating: "a", count: 31) + "\"\nall = [\"frequency > 1\"]",
      "koi.toml: tags[0].name: the tag name \"" + String(repeating: "a", count: 31)
        + "\" has 31 characters; WeCom allows at most 30"
    ),
    (
      "[[tags]]\nname = \"a\"\nall = [\"frequency > 1\"]\ngroup = \"" + String(repeating: "组", count: 31) + "\"",
      "koi.toml: tags[0].group: the group name \"" + String(repeating: "组", count: 31)
        + "\" has 31 characters; WeCom allows at most 30"
    ),
    (
      "[[tags]]\nname = \"a\"\nall = [\"frequency > 1\"]\ngroup = \"\"",
      "koi.toml: tags[0].group: the group name is empty"
    ),
    (
      "[[tags]]\nname = \"a\\nb\"\nall = [\"frequency > 1\"]",
      "koi.toml: tags[0].name: the tag name contains a control character"
    ),
    (
      "[[tags]]\nname = \"{category}_\(String(repeating: "x", count: 30))\"\nper_category = true\nall = [\"due_in_days <= 30\"]",
      "koi.toml: tags[0].name: the tag name \"{category}_\(String(repeating: "x", count: 30))\" has 31 characters without {category}"
    ),
    (
      "[[tags]]\nname = \"{category}_due\"\nper_category = true\nall = [\"due_in_days <= 30\"]\nname_zh = \"即将到期\"",
      "koi.toml: tags[0].name_zh: a per-category rule needs {category} in its display name"
    ),
    (
      "[[tags]]\nname = \"a\"\nall = [\"frequency > 1\"]\nname_zh = \"常客\"\ngroup = \"g\"\n[[tags]]\nname = \"b\"\nall = [\"frequency > 2\"]\nname_zh = \"常客\"\ngroup = \"g\"",
      "koi.toml: tags[1].name_zh: the display name \"常客\" is also that of tags[0] in the same group"
    ),
    (
      "[[tags]]\nname = \"a\"\nall = [\"frequency > 1\"]\nname_zh = 3",
      "koi.toml: tags[0].name_zh: expected a display name"
    ),
    ("[[tags]]\nname = \"a\"\nall = [\"frequency > 1\"]\ncolour = \"red\"", "koi.toml: tags[0].colour: unknown key"),
  ])
  func namesBeyondWeComsLimitsNameTheRule(tags: String, message: String) throws {
    let error = #expect(throws: ConfigError.self) { try parse(tags) }
    #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "")")
  }

  @Test func theSameDisplayNameInTwoGroupsIsAllowed() throws {
    let c = try parse(rule("a", "name_zh = \"常客\"\ngroup = \"g1\"") + rule("b", "name_zh = \"常客\"\ngroup = \"g2\""))
    #expect(c.tagRules.count == 2)
  }

  @Test func atMostThreeThousandRules() throws {
    let three = (0..<3_000).map { rule("t\($0)") }.joined()
    #expect(try parse(three).tagRules.count == 3_000)
    let error = #expect(throws: ConfigError.self) { try parse(three + rule("t3000")) }
    #expect(
      error?.description.hasPrefix("koi.toml: tags: 3001 tag rules; WeCom allows at most 3000 tags per enterprise")
        == true,
      "\(error?.description ?? "")")
  }

  @Test func duplicateNamesAreStillRefused() throws {
    let error = #expect(throws: ConfigError.self) { try parse(rule("vip") + rule("vip")) }
    #expect(error?.description.hasPrefix("koi.toml: tags[1].name: the tag \"vip\" is defined twice") == true)
  }

  @Test func theBuiltInRulesFitWeComsLimits() {
    for r in TagRule.defaults {
      for text in [r.name, r.group ?? "", r.nameZH ?? ""] {
        #expect(
          WeComTagLimits.problem(text, what: "x", placeholder: r.perCategory ? "{category}" : nil) == nil, "\(text)")
      }
    }
  }
}
