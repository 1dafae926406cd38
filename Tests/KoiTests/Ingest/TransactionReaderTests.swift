import Foundation
import Testing

@testable import Koi

@Suite struct TransactionReaderTests {
  let dir = TemporaryDirectory()

  func read(_ text: String, _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    try read(bytes: Array(text.utf8), configure)
  }

  func read(bytes: [UInt8], _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    let path = try dir.write("t.csv", bytes: bytes)
    var o = IngestOptions()
    configure(&o)
    return try TransactionReader.read(path: path, options: o)
  }

  @Test func quotesEmbeddedNewlinesAndEscapedQuotes() throws {
    let r = try read(
      #"""
      customer_id,date,item,amount
      "a,1",2025-01-01,"filler ""premium""",100
      b,2025-01-02,"two
      lines",50

      """#)
    #expect(r.ledger.customerIDs == ["a,1", "b"])
    #expect(r.ledger.categories == ["filler \"premium\"", "two\nlines"])
    #expect(r.counts == RowCounts(read: 2, used: 2, rejected: 0, blankLines: 0))
  }

  /// The columns a run does not read are emptied before the sort
  /// (`IngestOptions.dropsStore`, `dropsTierInputs`; not merged at all
  /// from a single input): the rest of the ledger is the same, rows are
  /// still rejected by the dropped columns, and rows repeated across inputs
  /// are still found.
  @Test func droppedColumnsAreEmptyAndTheRestIsTheSame() throws {
    let text = """
      customer_id,date,item,amount,list_price,promo,channel,store
      b,2025-01-03,x,10,12,1,app,s1
      a,2025-01-02,y,20,20,0,web,s2
      b,2025-01-01,y,5,,,,
      a,2025-01-04,x,7,oops,0,web,s1
      c,2025-01-05,x,9,9,maybe,app,s2
      d,2025-01-06,x,-5,5,0,web,s1

      """
    // Two inputs, the second repeating a row of the first: rows are
    // compared across inputs with every column before the drop.
    let first = try dir.write("first.csv", text)
    let second = try dir.write(
      "second.csv", "customer_id,date,item,amount,list_price,promo,channel,store\nb,2025-01-03,x,10,12,1,app,s1\n")
    func readBoth(_ configure: (inout IngestOptions) -> Void) throws -> IngestResult {
      var o = IngestOptions()
      configure(&o)
      return try TransactionReader.read(inputs: try InputList.expand([first, second]), options: o)
    }
    let allBoth = try readBoth { _ in }
    #expect(allBoth.duplicates?.rows == 1)
    let all = try read(text)
    for tier in [false, true] {
      func configure(_ o: inout IngestOptions) {
        o.dropsStore = true
        o.dropsTierInputs = tier
      }
      let both = try readBoth(configure)
      #expect(both.duplicates?.rows == 1 && both.ledger.store.isEmpty && both.ledger.listPrice.isEmpty == tier)
      #expect(both.ledger.amount == allBoth.ledger.amount && both.ledger.customer == allBoth.ledger.customer)
      let r = try read(text, configure)
      let l = r.ledger, full = all.ledger
      #expect(l.store.isEmpty && l.columns == full.columns)
      #expect(l.listPrice.isEmpty == tier && l.promo.isEmpty == tier && l.channel.isEmpty == tier)
      if !tier {
        #expect(l.listPrice.map(\.bitPattern) == full.listPrice.map(\.bitPattern))
        #expect(l.promo == full.promo && l.channel == full.channel)
      }
      #expect(l.customer == full.customer && l.customerStart == full.customerStart && l.day == full.day)
      #expect(l.category == full.category && l.amount == full.amount && l.customerIDs == full.customerIDs)
      #expect(
        r.rejects.map { "\($0.line) \($0.reason.rawValue)" } == ["5 bad_list_price", "6 bad_promo", "7 no_purchase"])
      #expect(r.counts == all.counts)
    }
  }

  @Test func byteOrderMarkCRLFAndBlankLines() throws {
    let text = "\u{FEFF}customer_id,date,item,amount\r\na,2025-01-01,x,1\r\n\r\nb,2025-01-02,y,2\r\n"
    let r = try read(text)
    #expect(r.ledger.customerIDs == ["a", "b"])
    #expect(r.ledger.categories == ["x", "y"])
    #expect(r.counts.read == 2 && r.counts.blankLines == 1)
    #expect(r.mapping.index[.customerID] == 0)
  }

  @Test func lastRowWithoutNewlineIsRead() throws {
    let r = try read("customer_id,date,item,amount\na,2025-01-01,x,1\nb,2025-01-02,y,2")
    #expect(r.counts.used == 2)
  }

  @Test func chineseHeadersAreRecognised() throws {
    let r = try read(
      #"""
      会员号,消费日期,品项,实收金额,原价,是否活动,渠道,门店
      K1,2025/3/5 14:22,玻尿酸,"¥3,800.00",4500,是,美团,门店01

      """#)
    #expect(r.ledger.amount == [3800])
    #expect(r.ledger.listPrice == [4500])
    #expect(r.ledger.promo == [1])
    #expect(r.ledger.channels == ["美团"] && r.ledger.stores == ["门店01"])
    #expect(r.ledger.columns == Ledger.OptionalColumns(listPrice: true, promo: true, channel: true, store: true))
  }

  @Test func columnOverrideMapsAnyHeader() throws {
    let r = try read("卡号,when,what,paid\nA,2025-01-01,x,5\n") {
      $0.columnOverrides = ["customer_id": "卡号", "date": "when", "item": "what"]
    }
    #expect(r.ledger.customerIDs == ["A"] && r.ledger.amount == [5])
  }

  @Test func headerProblemsAreClearErrors() throws {
    func code(_ text: String, overrides: [String: String] = [:]) -> (IngestError.Code, String)? {
      do {
        _ = try read(text) { $0.columnOverrides = overrides }
        return nil
      } catch let e as IngestError {
        return (e.code, e.message)
      } catch { return nil }
    }
    let missing = code("customer_id,date,amount\na,2025-01-01,1\n")
    #expect(missing?.0 == .badHeader)
    #expect(missing?.1.contains("item") == true)
    #expect(code("customer_id,date,item,amount,金额\n")?.0 == .badHeader)  // amount twice
    #expect(code("a,b,c,d\n", overrides: ["nonsense": "a"])?.1.contains("unknown column name") == true)
    #expect(code("customer_id,date,item,amount\n", overrides: ["item": "zzz"])?.1.contains("no column 'zzz'") == true)
    #expect(code("")?.0 == .empty)
    #expect(code("customer_id,date,item,amount\n")?.0 == .noUsableRows)
    #expect(code("customer_id,date,item,amount\na,bad,x,1\n")?.0 == .noUsableRows)
  }

  @Test func missingFileIsAnErrorNotATrap() {
    #expect(throws: IngestError.self) {
      try TransactionReader.read(path: dir.path("nope.csv"))
    }
  }

  @Test func everyKindOfBadRowIsRejectedWithLineReasonAndText() throws {
    let r = try read(
      #"""
      customer_id,date,item,amount,list_price,promo
      a,2025-01-01,x,100,120,1
      ,2025-01-01,x,100,,
      b,2025-02-30,x,100,,
      c,2025-01-01,,100,,
      d,2025-01-01,x,abc,,
      e,2025-01-01,x,100,-5,
      f,2025-01-01,x,100,,maybe
      g,2025-01-01,x,100
      "h"x,2025-01-01,x,100,,
      i,2025-01-01,x,-30,,
      j,2025-01-01,x,100,,,,
      k,2025-01-01,x,100,,,,z
      l,2025-01-01,x,"unterminated

      """#)
    let got = r.rejects.map { "\($0.line) \($0.reason.rawValue) \($0.field?.rawValue ?? "-")" }
    #expect(
      got == [
        "3 missing_customer_id customer_id", "4 bad_date date", "5 missing_item item",
        "6 bad_amount amount", "7 bad_list_price list_price", "8 bad_promo promo",
        "9 wrong_field_count -", "10 malformed_quotes -", "11 no_purchase customer_id",
        "13 wrong_field_count -", "14 unterminated_quote -",
      ])
    #expect(r.rejects[1].raw == "b,2025-02-30,x,100,,")
    #expect(r.ledger.customerIDs == ["a", "j"])  // j: extra empty trailing fields are fine
    #expect(r.counts.read == 13 && r.counts.used == 2 && r.counts.rejected == 11)
    #expect(r.counts.read == r.counts.used + r.counts.rejected)
    #expect(r.counts.rejectedByReason["wrong_field_count"] == 2)
  }

  @Test func strictStopsAtTheFirstBadRowNamingLineAndField() throws {
    do {
      _ = try read("customer_id,date,item,amount\na,2025-01-01,x,1\nb,2025-01-01,x,zz\nc,bad,x,1\n") {
        $0.strict = true
      }
      Issue.record("strict mode accepted a bad row")
    } catch let e as IngestError {
      #expect(e.code == .badRow)
      #expect(e.location.line == 3)
      #expect(e.location.field == "amount")
    }
  }

  @Test func rowsOnOrAfterTheAsOfDateAreRejected() throws {
    let r = try read("customer_id,date,item,amount\na,2025-01-01,x,1\na,2025-02-01,x,1\n") {
      $0.asOfDay = DayNumber.from(year: 2025, month: 2, day: 1)
    }
    #expect(r.rejects.map(\.reason) == [.afterAsOf])
    #expect(r.asOfDay == DayNumber.from(year: 2025, month: 2, day: 1))
    let d = try read("customer_id,date,item,amount\na,2025-01-01,x,1\n")
    #expect(d.asOfDay == DayNumber.from(year: 2025, month: 1, day: 2))
  }

  @Test func gb18030IsDetectedDecodedOrRefused() throws {
    let text = "客户编号,消费日期,项目,实收金额\nK1,2025-01-01,玻尿酸填充,100\nK2,2025-01-02,水光针,50\n"
    let (gb, _, invalid) = try GB18030Converter(encoding: true).convert(Array(text.utf8))
    #expect(invalid == nil)
    #expect(gb != Array(text.utf8))
    let auto = try read(bytes: gb)
    #expect(auto.encoding == .gb18030 && auto.encodingDetected)
    #expect(auto.ledger.categories == ["玻尿酸填充", "水光针"])
    let forced = try read(bytes: gb) { $0.encoding = .gb18030 }
    #expect(forced.ledger.categories == auto.ledger.categories && !forced.encodingDetected)
    // Forced UTF-8 on GB18030 text: the item is rejected, never misread.
    let header = Array("customer_id,date,item,amount\n".utf8)
    let row = try GB18030Converter(encoding: true).convert(Array("K1,2025-01-01,玻尿酸,1\n".utf8)).0
    let wrong = try? read(bytes: header + row) { $0.encoding = .utf8 }
    #expect(wrong == nil)  // its only row is rejected, so nothing is usable
    // Bytes that are neither, on many lines: refused with a message naming
    // the encodings and where the first bad byte is. (A few bad bytes in
    // UTF-8 are rows rejected as invalid_encoding: see HostileInputTests.)
    var neither = Array("customer_id,date,item,amount\n".utf8)
    for i in 0..<20 { neither += Array("c\(i),2025-01-01,".utf8) + [0xFF, 0xFF] + Array(",1\n".utf8) }
    do {
      _ = try read(bytes: neither)
      Issue.record("a file that is neither UTF-8 nor GB18030 was read")
    } catch let e as IngestError {
      #expect(e.code == .encoding)
      #expect(
        e.message.hasPrefix("the file is neither UTF-8 nor GB18030: the bytes FF FF 2C 31 at byte offset 43 (line 2)"),
        "\(e)")
      #expect(e.location.line == 2)
    }
  }

  @Test func resultDoesNotDependOnBlockSizeOrChunkCount() throws {
    var text = "customer_id,date,item,amount\n"
    for i in 0..<500 {
      text += "c\(i % 37),2025-01-\(String(format: "%02d", 1 + i % 28)),\"item \(i % 5)\nx\",\(i)\n"
      if i % 50 == 0 { text += "bad,nodate,x,1\n" }
    }
    let reference = try read(text)
    for block in [7, 64, 333, 4096] {
      for chunks in [1, 2, 3] {
        let r = try read(text) {
          $0.blockSize = block; $0.chunksPerBatch = chunks
        }
        #expect(r.ledger.customerIDs == reference.ledger.customerIDs)
        #expect(r.ledger.amount == reference.ledger.amount)
        #expect(r.ledger.day == reference.ledger.day)
        #expect(r.rejects == reference.rejects)
        #expect(r.counts == reference.counts)
      }
    }
    #expect(reference.counts.read == 510 && reference.counts.rejected == 10)
  }

  /// A record longer than many batches: what is left of a batch goes in
  /// front of the next one, in the room kept for it (`BatchPrefetch.headroom`)
  /// while it fits, by a copy once it is longer.
  @Test func aRecordLongerThanManyBatchesIsRead() throws {
    let long = String(repeating: "n", count: 100_000)
    var text = "customer_id,date,item,amount\n"
    for i in 0..<300 { text += "c\(i % 7),2025-01-02,item \(i % 3),\(i)\n" }
    text += "z,2025-01-03,\"\(long)\nmore\",5\n"
    for i in 0..<300 { text += "d\(i % 5),2025-01-04,item \(i % 2),\(i)\n" }
    let r = try read(text) {
      $0.blockSize = 4096; $0.chunksPerBatch = 2
    }
    #expect(r.counts.read == 601 && r.counts.used == 601)
    #expect(r.ledger.categories.contains("\(long)\nmore"))
    #expect(r.ledger.amount.reduce(0, +) == Double(2 * (0..<300).reduce(0, +) + 5))
    #expect(r.ledger.customerIDs.count == 7 + 1 + 5)
  }

  @Test func sha256MatchesAKnownDigest() throws {
    let r = try read("customer_id,date,item,amount\na,2025-01-01,x,1\n")
    // printf 'customer_id,date,item,amount\na,2025-01-01,x,1\n' | sha256sum
    #expect(r.sha256 == "26fb43f64a22c785377363f0ea7ebf37298ea964e43666dd32a50510f6c6b49b")
  }
}
