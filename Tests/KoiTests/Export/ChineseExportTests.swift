import Foundation
import Testing

@testable import Koi

/// `exports.lang = "zh"`: campaign-list CSVs with Chinese headers and
/// reasons; JSON stays English.
@Suite struct ChineseExportTests {
  func parse(_ tags: String, exports: String = "") throws -> RunConfig {
    try RunConfig.parse(
      "output_directory = \"out\"\n[input]\npath = \"tx.csv\"\n\(exports)\n\(tags)", path: "/etc/koi/koi.toml")
  }

  @Test func exportLanguage() throws {
    #expect(try parse("").exports.language == .en)
    #expect(try parse("", exports: "[exports]\nlang = \"zh\"").exports.language == .zh)
    let error = #expect(throws: ConfigError.self) { try parse("", exports: "[exports]\nlang = \"fr\"") }
    #expect(error?.description.hasPrefix("koi.toml: exports.lang: expected \"en\" or \"zh\", got \"fr\"") == true)
  }

  /// Every reason has a Chinese text with no English word left, whatever the
  /// segment or tier.
  @Test func everyReasonIsTranslated() {
    var reasons: [CampaignReason] = [
      .due(category: "玻尿酸", inDays: 3), .overdue(category: "玻尿酸", byDays: 4),
      .kocCandidate(tier: nil), .kocCandidate(tier: "unknown_tier"), .winBack(segment: nil, daysSinceLastPurchase: 9),
      .crossSell(categories: ["种植牙", "手术"]),
    ]
    for s in RFMSegment.allCases {
      reasons += [.highValueAtRisk(segment: s, topPercent: 20), .winBack(segment: s, daysSinceLastPurchase: 200)]
    }
    for t in PriceSensitivityTier.allCases { reasons.append(.kocCandidate(tier: t.id)) }
    for r in reasons {
      let zh = r.text(.zh)
      if case .kocCandidate(tier: "unknown_tier") = r {
        #expect(zh == "unknown_tier，高价值")  // a tier id Koi does not know is shown as it is
        continue
      }
      #expect(!zh.contains { $0.isASCII && $0.isLetter }, "\(zh)")
      #expect(zh != r.text(.en))
    }
    #expect(CampaignReason.due(category: "filler", inDays: 3).text(.en) == "filler due in 3 days")
    #expect(CampaignReason.highValueAtRisk(segment: .atRisk, topPercent: 20).text(.zh) == "流失风险客户，消费额前20%")
  }

  @Test func zhCSVHeaderAndReasons() throws {
    let dir = TemporaryDirectory()
    let list = CampaignList(
      list: "due_soon", runID: "r", asOf: "2025-07-01", priority: "p", ids: "raw", contactCap: 2,
      entries: [
        CampaignEntry(
          customerID: "C1", reason: "filler overdue by 4 days", priority: 12.5,
          why: .overdue(category: "filler", byDays: 4))
      ])
    _ = try CampaignListWriter.write([list], to: dir.path("e"), csv: true, language: .zh)
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path("e/due_soon.csv"))))
    #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
    #expect(String(decoding: bytes.dropFirst(3), as: UTF8.self) == "客户编号,原因,优先级\nC1,filler：已逾期4天,12.50\n")
    #expect(CampaignListWriter.csvHeader(.zh).allSatisfy { !$0.allSatisfy(\.isASCII) })
    // The JSON beside it stays English.
    let json = try String(contentsOfFile: dir.path("e/due_soon.json"), encoding: .utf8)
    #expect(json.contains("\"reason\" : \"filler overdue by 4 days\"") && !json.contains("逾期"))
  }

  @Test func zhCampaignListsHaveChineseHeadersAndReasons() throws {
    let dir = TemporaryDirectory()
    var c = try ScheduledRunFixture.config(out: dir.path("out"), exports: "lang = \"zh\"")
    c.asOf = .date(DayNumber.parse("2025-07-01") ?? 0)
    let r = try ScheduledRun.run(c)
    let categories = r.scoring.ledger.categories
    var rows = 0
    for kind in CampaignListKind.allCases {
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: r.runDirectory + "/exports/\(kind.rawValue).csv")))
      #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
      let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).split(separator: "\n")
      let header = lines[0].split(separator: ",").map(String.init)
      #expect(header == ["客户编号", "原因", "优先级"])
      #expect(header.allSatisfy { !$0.allSatisfy(\.isASCII) })
      for line in lines.dropFirst() {
        rows += 1
        // The reason, with the data's category names taken out, has no English word.
        // customer_id,reason,priority: ids and priorities hold no comma.
        let first = try #require(line.firstIndex(of: ",")), last = try #require(line.lastIndex(of: ","))
        var reason = String(line[line.index(after: first)..<last])
        for c in categories.sorted(by: { $0.count > $1.count }) {
          reason = reason.replacingOccurrences(of: c, with: "")
        }
        #expect(!reason.contains { $0.isASCII && $0.isLetter }, "\(kind.rawValue): \(line)")
      }
      // JSON stays English.
      let list = try JSONDecoder.koi.decode(
        CampaignList.self,
        from: Data(contentsOf: URL(fileURLWithPath: r.runDirectory + "/exports/\(kind.rawValue).json")))
      #expect(
        list.entries.allSatisfy { $0.reason.contains { $0.isASCII && $0.isLetter } && $0.reason.allSatisfy(\.isASCII) })
    }
    #expect(rows > 0)
  }
}
