import Foundation
import Testing

@testable import Koi

@Suite struct TagDictionaryTests {
  @Test func theDictionaryExpandsPerCategoryRulesAndWarnsPastTheLimits() {
    let (d, warnings) = TagDictionary.build(rules: TagRule.defaults, categories: ["Skin booster", "玻尿酸"], runID: "r")
    #expect(
      d.tags.map(\.name) == [
        "vip", "high_value", "win_back", "koc_candidate", "one_off_only", "skin_booster_due_30d", "玻尿酸_due_30d",
      ])
    #expect(
      d.tags[5].nameZH == "Skin booster30天内到期" && d.tags[5].category == "Skin booster"
        && d.tags[5].rule == "{category}_due_30d")
    #expect(d.tags[6].nameZH == "玻尿酸30天内到期" && d.tags[6].group == "复购提醒")
    #expect(d.tags[0].category == nil && d.tags[0].nameZH == "VIP客户")
    #expect(warnings.isEmpty)

    let long = String(repeating: "长", count: 25)
    let (d2, w2) = TagDictionary.build(rules: TagRule.defaults, categories: [long, "x"], runID: "r")
    #expect(d2.tags.count == 7)
    #expect(w2.count == 1 && w2[0].hasPrefix("1 tag names are longer than WeCom's 30 characters"))

    let many = (0..<600).map { "c\($0)" }
    let fivePerCategory = (0..<5).map { TagRule(name: "{category}_\($0)", all: [], perCategory: true) }
    let (d3, w3) = TagDictionary.build(
      rules: fivePerCategory + [TagRule(name: "one", all: [])], categories: many, runID: "r")
    #expect(d3.tags.count == 3_001)
    #expect(w3.contains { $0.hasPrefix("the tag rules can give 3001 tags") })
  }
}
