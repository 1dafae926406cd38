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

  /// Strings that test the escapes of both formats: control characters,
  /// quotes, separators, a CR before an LF, a comma or space joined to a
  /// combining mark (one character in Swift), formulas, CJK, emoji.
  static let awkward: [String] = [
    "", "plain", "C0000001", "a,b", "say \"hi\"", "x\ny", "x\r\ny", "\r\n", "x\ry", ",\u{301}x", " \u{301}x",
    "a ,\u{301}", "\"\u{301}", " lead", "=SUM(A1)", "=1,2", "+86 138", "-300", "@cmd", "\tx", "\rx", "张三，李四",
    "流失风险客户，距上次消费230天", "é,\"", "\u{8}\u{c}\u{1}\u{1f}\u{7f}/\\", "\u{2028}", "👩‍👩‍👧,🙂", "-", "'",
  ]

  /// The streamed CSV cells are `SpreadsheetCSV.cell`'s.
  @Test func csvCellBytesAreTheCells() {
    for s in Self.awkward {
      var out: [UInt8] = []
      SpreadsheetCSV.append(cell: s, to: &out)
      #expect(out == Array(SpreadsheetCSV.cell(s).utf8), "\(s.debugDescription)")
    }
  }

  /// The priorities' text is `%.2f`'s, for cents and for any other value.
  @Test func twoDecimalsAreThoseOfPrintf() {
    var values: [Double] = [
      0, -0.0, 0.005, -0.005, 0.125, 12.5, 1e12, 9.99e12, 1e13, -1e13, 2e15, 1e300, .nan, .infinity,
    ]
    var g = SeededGenerator(seed: 11)
    for _ in 0..<20_000 {
      let x = Double.random(in: -1e7...1e7, using: &g)
      values += [x, rounded(x, 2), rounded(x / 1e5, 2), rounded(Double.random(in: -1...1, using: &g), 2)]
    }
    for v in values { #expect(CampaignListWriter.twoDecimals(v) == String(format: "%.2f", v), "\(v)") }
  }

  /// A list's JSON is `JSONEncoder.koi`'s bytes, and its CSV the cells of
  /// the header and every entry, in both languages.
  @Test func listFilesAreTheEncodersBytes() throws {
    let dir = TemporaryDirectory()
    var g = SeededGenerator(seed: 12)
    let priorities: [Double] = [0, -0.0, 2, 1e16, 1e-5, 0.1 + 0.2, 123_456_789.12, 1e21, .leastNonzeroMagnitude, -7.25]
    var entries = Self.awkward.enumerated().map { i, s in
      CampaignEntry(customerID: s, reason: Self.awkward.reversed()[i], priority: priorities[i % priorities.count])
    }
    entries += (0..<3_000).map { i in
      CampaignEntry(
        customerID: "C\(i)", reason: "at_risk, \(i) days since last purchase",
        priority: rounded(Double.random(in: 0...50_000, using: &g), 2),
        why: .winBack(segment: .atRisk, daysSinceLastPurchase: i))
    }
    for (name, list) in [("empty", [CampaignEntry]()), ("full", entries)] {
      let l = CampaignList(
        list: name, runID: "r/1", asOf: "2025-07-01", priority: "p \"q\"", ids: "raw", contactCap: 2, entries: list)
      for language in [ExportLanguage.en, .zh] {
        _ = try CampaignListWriter.write([l], to: dir.path(language.rawValue), csv: true, language: language)
        let json = try Data(contentsOf: URL(fileURLWithPath: dir.path("\(language.rawValue)/\(name).json")))
        #expect(json == (try JSONEncoder.koi.encode(l)) + [10], "\(name) \(language)")
        var csv = [UInt8]([0xEF, 0xBB, 0xBF])
        csv += Array(
          (CampaignListWriter.csvHeader(language).map(SpreadsheetCSV.cell).joined(separator: ",") + "\n").utf8)
        for e in list {
          let row = [e.customerID, e.why?.text(language) ?? e.reason, String(format: "%.2f", e.priority)]
          csv += Array((row.map(SpreadsheetCSV.cell).joined(separator: ",") + "\n").utf8)
        }
        let written = try Data(contentsOf: URL(fileURLWithPath: dir.path("\(language.rawValue)/\(name).csv")))
        #expect(written == Data(csv), "\(name) \(language)")
      }
    }
  }

  /// The contact cap keeps each customer's best lists by priority, ties to
  /// the list named first: against a plain per-customer sort, on random
  /// lists with many equal priorities.
  @Test func theContactCapKeepsEachCustomersBestLists() {
    var g = SeededGenerator(seed: 13)
    let customers = 2_000
    let perList: [[(Int, CampaignReason, Double)]] = (0..<5).map { _ in
      (0..<customers).filter { _ in Bool.random(using: &g) }.map {
        ($0, CampaignReason.crossSell(categories: []), Double(Int.random(in: 0...4, using: &g)))
      }
    }
    for cap in [1, 2, 3, 5] {
      let keep = CampaignLists.contactCap(perList, customers: customers, cap: cap)
      for c in 0..<customers {
        let mine = perList.indices.compactMap { l in perList[l].firstIndex { $0.0 == c }.map { (l, $0) } }
        let best = mine.sorted { a, b in
          let (pa, pb) = (perList[a.0][a.1].2, perList[b.0][b.1].2)
          return pa != pb ? pa > pb : a.0 < b.0
        }.prefix(cap)
        for (l, i) in mine { #expect(keep[l][i] == best.contains { $0 == (l, i) }, "customer \(c), cap \(cap)") }
      }
    }
  }

  @Test func aPriorityThatIsNotANumberIsAnError() {
    let dir = TemporaryDirectory()
    let l = CampaignList(
      list: "x", runID: "r", asOf: "2025-07-01", priority: "p", ids: "raw", contactCap: 2,
      entries: [CampaignEntry(customerID: "C1", reason: "r", priority: .nan)])
    #expect(throws: OutputError.self) { try CampaignListWriter.write([l], to: dir.path("e"), csv: false) }
    #expect(!FileManager.default.fileExists(atPath: dir.path("e/x.json")))
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

  /// The candidates of all lists come from one pass in chunks on every
  /// core: the same entries, in customer order, as each list's own serial
  /// pass over the customers; lists that need a stage which did not run
  /// are empty and say so once.
  @Test func candidatesInChunksAreEachListsSerialPass() {
    let segments = RFMSegment.allCases
    var rng = SeededGenerator(seed: 11)
    let n = 70_000
    var t = facts(
      (0..<n).map { _ in (segments[Int(rng.next() % UInt64(segments.count))], Double(rng.next() % 100_000) / 7) })
    t.monetaryPercentile = (0..<n).map { _ in Double(rng.next() % 1_000) / 1_000 }
    t.tierID = (0..<n).map { _ in Int(rng.next() % 4) }
    t.clv = (0..<n).map { _ in rng.next() % 5 == 0 ? .nan : Double(rng.next() % 50_000) / 3 }
    t.pAlive = (0..<n).map { _ in Double(rng.next() % 1_000) / 1_000 }
    let (tags, _) = TagEngine(rules: TagRule.defaults).tagAll(t)
    let o = ExportOptions()
    let kinds = CampaignListKind.allCases + [.winBack]
    let (perList, warnings) = CampaignLists.candidates(kinds, facts: t, tags: tags, options: o)
    #expect(Parallel.chunkCount(for: n) > 1)
    #expect(warnings.count == 2 && warnings.allSatisfy { $0.hasSuffix(".") })
    for (l, kind) in kinds.enumerated() {
      let fillable = !(kind == .dueSoon || kind == .crossSell)
      let serial: [(Int, CampaignReason, Double)] =
        fillable
        ? (0..<n).compactMap { c in
          CampaignLists.candidate(kind, t[c], tags: tags[c], options: o).map { (c, $0.0, rounded($0.1, 2)) }
        } : []
      #expect(perList[l].map(\.0) == serial.map(\.0), "\(kind)")
      #expect(perList[l].map(\.1) == serial.map(\.1), "\(kind)")
      #expect(perList[l].map(\.2.bitPattern) == serial.map(\.2.bitPattern), "\(kind)")
    }
    #expect(kinds.indices.filter { !perList[$0].isEmpty }.count >= 3)
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
