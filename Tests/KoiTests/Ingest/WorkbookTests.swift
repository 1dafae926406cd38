import Foundation
import Testing

@testable import Koi

/// Excel workbooks read directly: the fixtures made by
/// `Fixtures/xlsx/make.py` (openpyxl, plus XML edits for Excel's shared
/// strings and a saved formula value).
@Suite struct WorkbookTests {
  let dir = TemporaryDirectory()
  static let fixtures = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/xlsx")
  static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

  func read(_ names: [String], _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    var o = IngestOptions()
    configure(&o)
    return try TransactionReader.read(inputs: InputList.expand(names), options: o)
  }

  @Test func chineseHeadersTitleRowDatesAsTextAndSerialsAndATotalRow() throws {
    let r = try read([Self.fixture("chinese.xlsx")]) { $0.headerRow = 3 }
    #expect(r.files.count == 1 && r.files[0].format == .xlsx && r.files[0].sheet == "消费明细")
    #expect(r.files[0].columns["customer_id"] == "会员号" && r.files[0].columns["store"] == "门店")
    // Rows 4–8 and the total row 10 (row 9 is blank); rows above the header are not counted.
    #expect(r.counts.read == 6 && r.counts.blankLines == 1)
    #expect(r.counts.used == 4 && r.counts.rejected == 2)
    #expect(r.rejects.map(\.line) == [8, 10])
    #expect(r.rejects[0].reason == .badDate && r.rejects[0].detail.contains("2025年3月2日"))
    // The total row: rejected, and the reason says it is a total row.
    #expect(r.rejects[1].reason == .badDate && r.rejects[1].detail.contains("a total row"))
    #expect(r.rejects[1].raw == "合计,,,=SUM(D4:D8),,")
    #expect(r.ledger.customerIDs == ["K001", "K002", "K003"])
    // Date cell with a time, date as text, date cells; amount stored as text; a decimal.
    var days: [String: [String]] = [:]
    var amounts: [Double] = []
    for i in 0..<r.ledger.rowCount {
      days[r.ledger.customerIDs[Int(r.ledger.customer[i])], default: []].append(DayNumber.format(r.ledger.day[i]))
      amounts.append(r.ledger.amount[i])
    }
    #expect(days["K001"] == ["2025-01-05", "2025-02-07"])
    #expect(days["K002"] == ["2025-01-06"] && days["K003"] == ["2025-03-01"])
    #expect(Set(amounts) == [3800, 1280, 12800.5, 3600])
    // An empty list price is unknown, an empty store is unknown.
    #expect(r.ledger.listPrice.filter(\.isNaN).count == 1)
    #expect(r.ledger.store.filter { $0 < 0 }.count == 1)
  }

  @Test func withoutHeaderRowTheTitleIsNamedInTheError() throws {
    let e = #expect(throws: IngestError.self) { try read([Self.fixture("chinese.xlsx")]) }
    #expect(e?.code == .badHeader)
    #expect(e?.location.sheet == "消费明细" && e?.location.line == 1)
    #expect(e?.text.contains("--header-row N") == true)
  }

  @Test func firstVisibleSheetByDefaultHiddenSheetsOnlyWhenNamed() throws {
    let r = try read([Self.fixture("two-sheets.xlsx")])
    #expect(r.files.map(\.sheet) == ["2024"])
    // Shared strings, one of them rich text with a phonetic run.
    #expect(r.ledger.categories == ["filler", "botox"])
    #expect(r.counts.read == 3 && r.duplicates == nil)

    let byNumber = try read([Self.fixture("two-sheets.xlsx")]) { $0.sheet = "3" }
    #expect(byNumber.files.map(\.sheet) == ["2025"])

    let hidden = #expect(throws: IngestError.self) {
      try read([Self.fixture("two-sheets.xlsx")]) { $0.sheet = "lookup" }
    }
    // Read when named: its header is not transactions.
    #expect(hidden?.code == .badHeader && hidden?.location.sheet == "lookup")

    let missing = #expect(throws: IngestError.self) {
      try read([Self.fixture("two-sheets.xlsx")]) { $0.sheet = "2023" }
    }
    #expect(missing?.code == .noSuchSheet)
    #expect(missing?.message.contains("1 'lookup' (hidden), 2 '2024', 3 '2025'") == true)
  }

  @Test func allSheetsInWorkbookOrderWithTheOverlapFound() throws {
    let r = try read([Self.fixture("two-sheets.xlsx")]) { $0.sheet = "all" }
    #expect(r.files.map(\.sheet) == ["2024", "2025"])
    #expect(r.warnings.contains { $0.message.contains("hidden sheet 'lookup' was not read") })
    #expect(r.counts.read == 6 && r.counts.used == 6)
    let dup = try #require(r.duplicates)
    #expect(dup.rows == 1 && dup.examples[0].sheet == "2025" && dup.examples[0].line == 2)
    #expect(dup.examples[0].sameAsSheet == "2024" && dup.examples[0].sameAsLine == 4)
    let dropped = try read([Self.fixture("two-sheets.xlsx")]) {
      $0.sheet = "all"; $0.duplicates = .dropAcrossFiles
    }
    #expect(dropped.counts.used == 5 && dropped.rejects.map(\.reason) == [.duplicateAcrossFiles])
    #expect(dropped.rejects[0].file == 1 && dropped.files[1].sheet == "2025")
    #expect(dropped.rejectsNameFiles)
  }

  @Test func the1904DateSystem() throws {
    let r = try read([Self.fixture("date1904.xlsx")])
    #expect(r.ledger.day.map(DayNumber.format).sorted() == ["2025-03-05", "2025-03-06"])
  }

  @Test func formulasUseTheirSavedValueAndRejectWithout() throws {
    let r = try read([Self.fixture("formulas.xlsx")])
    #expect(r.counts.read == 4 && r.counts.used == 3)
    #expect(r.rejects.count == 1)
    let f = r.rejects[0]
    #expect(f.reason == .formulaWithoutValue && f.field == .amount && f.line == 3)
    #expect(f.detail.contains("=100+30") && f.raw == "f2,2025-01-03,filler,=100+30")
    // The saved value of D2, an inline string, and a serial day in the date column without a date style.
    #expect(r.ledger.customerIDs == ["f1", "f3", "f&5"])
    #expect(r.ledger.amount.contains(120))
    #expect(r.ledger.day.map(DayNumber.format).contains("2025-01-03"))
  }

  @Test func serialDates() {
    func d(_ s: Double, _ y1904: Bool = false) -> String? {
      WorkbookSheetRows.dateText(serial: s, uses1904: y1904).map { String(decoding: $0, as: UTF8.self) }
    }
    #expect(d(1) == "1900-01-01")
    #expect(d(59) == "1900-02-28")
    #expect(d(60) == "1900-02-29")  // Lotus's phantom day: rejected later as bad_date
    #expect(d(61) == "1900-03-01")
    #expect(d(45658) == "2025-01-01")
    #expect(d(45658.75) == "2025-01-01 18:00:00")
    #expect(d(0, true) == "1904-01-01")
    #expect(d(44196, true) == "2025-01-01")
    #expect(d(-1) == nil)
  }

  @Test func dateFormats() {
    #expect(Workbook.isBuiltinDateFormat(14) && Workbook.isBuiltinDateFormat(22) && Workbook.isBuiltinDateFormat(57))
    #expect(!Workbook.isBuiltinDateFormat(0) && !Workbook.isBuiltinDateFormat(4) && !Workbook.isBuiltinDateFormat(49))
    for code in ["yyyy/m/d", "m/d/yy", "dd-mmm", "yyyy\"年\"m\"月\"d\"日\"", "[$-804]yyyy-mm-dd", "mmm"] {
      #expect(Workbook.isDateFormatCode(code), "\(code)")
    }
    for code in ["0.00", "#,##0", "h:mm", "[h]:mm:ss", "\"day\"0", "\\d0", "[Red]0.00"] {
      #expect(!Workbook.isDateFormatCode(code), "\(code)")
    }
  }

  @Test func notAWorkbookProtectedOrDamaged() throws {
    let text = try dir.write("notes.xlsx", "customer_id,date\n")
    let e1 = #expect(throws: IngestError.self) { try read([text]) }
    #expect(e1?.code == .corrupt && e1?.message.contains("not an Excel workbook") == true)

    let ole = try dir.write(
      "locked.xlsx", bytes: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 600))
    let e2 = #expect(throws: IngestError.self) { try read([ole]) }
    #expect(e2?.code == .corrupt && e2?.message.contains("password-protected") == true)

    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.fixture("two-sheets.xlsx"))))
    let cut = try dir.write("cut.xlsx", bytes: Array(bytes.prefix(bytes.count * 2 / 3)))
    let e3 = #expect(throws: IngestError.self) { try read([cut]) }
    #expect(e3?.code == .corrupt && e3?.location.path == cut)

    // A zip that is not a workbook.
    let zip = try dir.write("plain.zip.xlsx", bytes: try zipOf(dir.write("a.txt", "hello")))
    let e4 = #expect(throws: IngestError.self) { try read([zip]) }
    #expect(e4?.code == .corrupt && e4?.message.contains("no xl/workbook.xml") == true)
  }

  func zipOf(_ path: String) throws -> [UInt8] {
    let out = path + ".zip"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    p.arguments = [
      "-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2],'a.txt'); z.close()", out,
      path,
    ]
    try p.run()
    p.waitUntilExit()
    return try Array(Data(contentsOf: URL(fileURLWithPath: out)))
  }

  @Test func aWorkbookAndACSVTogether() throws {
    let csv = try dir.write(
      "2025-late.csv", "customer_id,date,item,amount\nc3,2025-06-01,filler,2900\nc9,2025-07-01,filler,100\n")
    let r = try read([Self.fixture("two-sheets.xlsx"), csv]) { $0.sheet = "all" }
    #expect(r.files.map(\.format) == [.xlsx, .xlsx, .csv])
    #expect(r.duplicates?.rows == 2)  // 2025 row 2 = 2024 row 4; the CSV's c3 row = 2025 row 4
    #expect(r.counts.read == 8 && r.counts.read == r.counts.used + r.counts.rejected)
  }
}
