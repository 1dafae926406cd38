import Foundation
import Testing

@testable import Koi

@Suite struct ExportTests {
  @Test(arguments: [
    ("=SUM(A1)", "'=SUM(A1)"), ("+86 138", "'+86 138"), ("-300", "'-300"), ("@cmd", "'@cmd"),
    ("\tx", "'\tx"), ("\rx", "\"'\rx\""), ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
    ("=1,2", "\"'=1,2\""), ("张三", "张三"),
  ])
  func csvCellsAreEscapedAgainstFormulaInjection(raw: String, cell: String) {
    #expect(CampaignListWriter.csvCell(raw) == cell)
  }

  @Test func csvHasBOMAndEscapedCells() throws {
    let dir = TemporaryDirectory()
    let list = CampaignList(
      list: "win_back", runID: "r", asOf: "2025-07-01", priority: "p", ids: "raw", contactCap: 2,
      entries: [CampaignEntry(customerID: "=HYPERLINK(\"x\")", reason: "-5 days", priority: 12.5)])
    let names = try CampaignListWriter.write([list], to: dir.path("e"), csv: true)
    #expect(names == ["win_back.json", "win_back.csv"])
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.path("e/win_back.csv"))))
    #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
    let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
    #expect(text == "customer_id,reason,priority\n\"'=HYPERLINK(\"\"x\"\")\",'-5 days,12.50\n")
  }

  @Test func hmacMatchesRFC4231() {
    // RFC 4231 test case 2.
    let mac = Pseudonymizer(salt: "Jefe").hmac(Array("what do ya want for nothing?".utf8))
    #expect(
      mac.map { String(format: "%02x", $0) }.joined()
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    // Test case 6: a key longer than the block is hashed first.
    let long = Pseudonymizer(key: [UInt8](repeating: 0xaa, count: 131))
    #expect(
      long.hmac(Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)).map { String(format: "%02x", $0) }
        .joined()
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
  }

  @Test func pseudonymsAreStableAndNotTheID() {
    let p = Pseudonymizer(salt: "s3cret")
    let a = p.pseudonym("C0000001")
    #expect(a == Pseudonymizer(salt: "s3cret").pseudonym("C0000001"))
    #expect(a != "C0000001")
    #expect(a.count == 16)
    #expect(a != Pseudonymizer(salt: "other").pseudonym("C0000001"))
    #expect(a != p.pseudonym("C0000002"))
  }

  /// Facts for `n` customers with the given segments and net amounts.
  func facts(_ rows: [(RFMSegment, Double)]) -> CustomerFactTable {
    var t = CustomerFactTable(count: rows.count)
    t.rfm = RFMColumns(
      recencyDays: rows.map { _ in 200 }, frequency: rows.map { _ in 2 }, monetary: rows.map(\.1),
      rScore: rows.map { _ in 2 }, fScore: rows.map { _ in 3 }, mScore: rows.map { _ in 5 }, segment: rows.map(\.0))
    t.monetaryPercentile = rows.map { _ in 0.9 }
    return t
  }

  @Test func contactCapKeepsTheHighestPriorityLists() {
    // One at-risk high-value customer qualifies for three lists.
    var t = facts([(.atRisk, 10_000), (.cantLoseThem, 500)])
    t.tierID = [2, 1]
    t.clv = [9_000, 100]
    let engine = TagEngine(rules: TagRule.defaults)
    let (tags, _) = engine.tagAll(t)
    #expect(tags[0] == ["high_value", "win_back", "koc_candidate"])
    var o = ExportOptions()
    o.lists = [.winBack, .highValueAtRisk, .kocCandidates]
    o.contactCap = 1
    let (lists, _) = CampaignLists.build(
      facts: t, tags: tags, customerIDs: ["a", "b"], exportedIDs: ["a", "b"], options: o, runID: "r", asOf: "2025-07-01"
    )
    // Customer a: win_back 5000 (aov), high_value_at_risk 9000 (clv), koc 9000 (clv): the tie
    // between the two 9000s goes to the list named first.
    #expect(lists.map { $0.entries.map(\.customerID) } == [["b"], ["a"], []])
    o.contactCap = 2
    let (two, _) = CampaignLists.build(
      facts: t, tags: tags, customerIDs: ["a", "b"], exportedIDs: ["a", "b"], options: o, runID: "r", asOf: "2025-07-01"
    )
    #expect(two.map { $0.entries.map(\.customerID) } == [["b"], ["a", "b"], ["a"]])
    #expect(two[1].entries.map(\.priority) == [9000, 100])
  }

  /// A customer the lifetime model gives no value (NaN in the fact
  /// columns) is ranked by its net amount and p(alive) 1, not by NaN.
  @Test func aCustomerWithoutLifetimeValuesFallsBackInTheLists() {
    var t = facts([(.atRisk, 10_000), (.atRisk, 500)])
    t.clv = [.nan, 900]
    t.pAlive = [.nan, 0.5]
    #expect(t[0].clv == nil && t[0].pAlive == nil)
    #expect(t[1].clv == 900 && t[1].pAlive == 0.5)
    var o = ExportOptions()
    o.lists = [.highValueAtRisk]
    let (tags, _) = TagEngine(rules: TagRule.defaults).tagAll(t)
    let (lists, _) = CampaignLists.build(
      facts: t, tags: tags, customerIDs: ["a", "b"], exportedIDs: ["a", "b"], options: o, runID: "r", asOf: "2025-07-01"
    )
    #expect(lists[0].entries.map(\.priority) == [10_000, 900])
  }

  @Test func rulesOnMissingFactsDoNotFireAndSaySoOnce() {
    let t = facts([(.champions, 100), (.loyal, 50)])
    let (tags, warnings) = TagEngine(rules: TagRule.defaults).tagAll(t)
    #expect((0..<tags.count).allSatisfy { !tags[$0].contains("koc_candidate") })
    #expect(warnings.filter { $0.contains("tier_id") }.count == 1)
    #expect(warnings.filter { $0.contains("due_in_days") }.count == 1)
  }

  @Test func perCategoryRulesUseIntervalFacts() {
    var t = facts([(.loyal, 100)])
    t.nextPurchases = NextPurchaseColumns([
      [
        CategoryNextPurchase(category: "Skin booster", dueInDays: 12, probabilityWithinHorizon: 0.5),
        CategoryNextPurchase(category: "filler", dueInDays: 90, probabilityWithinHorizon: 0.1),
      ]
    ])
    let (tags, warnings) = TagEngine(rules: TagRule.defaults).tagAll(t)
    #expect(tags[0].contains("skin_booster_due_30d"))
    #expect(!tags[0].contains("filler_due_30d"))
    #expect(!warnings.contains { $0.contains("due_in_days") })
    let (lists, _) = CampaignLists.build(
      facts: t, tags: tags, customerIDs: ["a"], exportedIDs: ["a"], options: ExportOptions(), runID: "r", asOf: "x")
    let due = lists.first { $0.list == "due_soon" }
    #expect(
      due?.entries == [
        CampaignEntry(
          customerID: "a", reason: "Skin booster due in 12 days", priority: 25,
          why: .due(category: "Skin booster", inDays: 12))
      ])
    #expect(due?.entries.first?.why?.text(.zh) == "Skin booster：12天后到期")
  }
}
