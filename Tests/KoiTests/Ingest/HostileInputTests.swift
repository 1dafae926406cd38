import Foundation
import Testing

@testable import Koi

/// The hostile-probe failures of issue 13, each as the reader sees it: wide
/// headers, quotes in the header, a few bad bytes, UTF-16 and CR-only files,
/// symbolic-link loops, huge echoed text, line numbers after a two-line
/// header.
@Suite struct HostileInputTests {
  let dir = TemporaryDirectory()

  func read(bytes: [UInt8], _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    let path = try dir.write("t.csv", bytes: bytes)
    var o = IngestOptions()
    configure(&o)
    return try TransactionReader.read(path: path, options: o)
  }

  func read(_ text: String, _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    try read(bytes: Array(text.utf8), configure)
  }

  /// The error `body` throws, as an IngestError (nil when it throws nothing
  /// or something else).
  func ingestError(_ body: () throws -> Any) -> IngestError? {
    do { _ = try body(); return nil } catch { return error as? IngestError }
  }

  // MARK: - 1. Wide files

  /// A header of `columns` cells whose four required columns come last.
  static func wideFile(columns: Int, rows: [(String, String, String, String)], extra: [String] = []) -> String {
    let filler = columns - 4
    var text = (0..<filler).map { "c\($0)" }.joined(separator: ",") + ",customer_id,date,item,amount\n"
    let blanks = String(repeating: ",", count: filler)
    for r in rows { text += blanks + "\(r.0),\(r.1),\(r.2),\(r.3)\n" }
    for line in extra { text += line + "\n" }
    return text
  }

  @Test(arguments: [513, 600, 2_000])
  func neededColumnsPastPosition512AreRead(columns: Int) throws {
    let blanks = String(repeating: ",", count: columns - 4)
    let text = Self.wideFile(
      columns: columns, rows: [("a", "2025-01-01", "x", "10"), ("b", "2025-01-02", "y", "20")],
      extra: [
        blanks + "c,2025-01-03,z,30,",  // one extra empty field: allowed
        blanks + "d,2025-01-04,z,40,oops",  // an extra non-empty field
        String(repeating: ",", count: columns - 5) + "e,2025-01-05,z",  // one field short
      ])
    for chunks in [1, 2] {
      let r = try read(text) {
        $0.chunksPerBatch = chunks; $0.blockSize = 4096
      }
      #expect(r.mapping.header.count == columns)
      #expect(r.ledger.customerIDs == ["a", "b", "c"])
      #expect(r.ledger.amount.sorted() == [10, 20, 30])
      #expect(r.counts.read == 5 && r.counts.used == 3 && r.counts.rejected == 2)
      #expect(r.rejects.map(\.reason) == [.wrongFieldCount, .wrongFieldCount])
      #expect(r.rejects.map(\.line) == [5, 6])
    }
  }

  // MARK: - 2. One grammar for header and rows

  @Test func aStrayQuoteInsideAHeaderCellIsText() throws {
    let text =
      "customer_id,date,item,amount,no\"te\n"
      + "a,2025-01-01,x,1,\n"
      + "b,2025-01-02,y,2,\n"
      + "c,2025-01-03,\"z\",3,\n"
      + "d,2025-01-04,z,4,\n"
    let r = try read(text)
    #expect(r.mapping.header == ["customer_id", "date", "item", "amount", "no\"te"])
    #expect(r.counts.read == 4 && r.counts.used == 4)
    #expect(r.ledger.customerIDs == ["a", "b", "c", "d"])
  }

  @Test func headerQuotesFollowTheRowGrammar() throws {
    // Text after a closing quote: refused, as a row would be rejected.
    let malformed = ingestError { try read("customer_id,date,item,\"amount\"x\na,2025-01-01,x,1\n") }
    #expect(malformed?.code == .badHeader)
    #expect(malformed?.location.line == 1)
    #expect(malformed?.message.contains("closing quote") == true)
    // A quote opened at a cell's start and never closed: refused, naming it,
    // instead of swallowing the file into the header.
    let open = ingestError { try read("customer_id,date,item,amount,\"note\na,2025-01-01,x,1,\n") }
    #expect(open?.code == .badHeader)
    #expect(open?.message.contains("never closed") == true)
    // Quoted cells with doubled quotes and commas are read as cells.
    let r = try read("\"customer_id\",date,item,amount,\"a \"\"b\"\", c\"\nk,2025-01-01,x,1,\n")
    #expect(r.mapping.header.last == "a \"b\", c")
    #expect(r.counts.used == 1)
  }

  // MARK: - 5g. Physical line numbers after a two-line header

  @Test func rowLinesArePhysicalAfterAHeaderCellWithANewline() throws {
    let text =
      "customer_id,date,item,amount,\"memo\nsecond line\"\n"  // lines 1-2
      + "a,2025-01-01,x,1,\n"  // line 3
      + "b,not-a-date,x,1,\n"  // line 4
      + "c,2025-01-02,\"two\nlines\",1,\n"  // lines 5-6
      + "d,2025-01-03,x,oops,\n"  // line 7
    for block in [16, 8 << 20] {
      let r = try read(text) { $0.blockSize = block }
      #expect(r.rejects.map(\.line) == [4, 7])
      #expect(r.counts.read == 4)
    }
    let strict = ingestError { try read(text) { $0.strict = true } }
    #expect(strict?.location.line == 4)
  }

  // MARK: - 3. A few bad bytes under --encoding auto

  /// `rows` ASCII rows, the item of row `bad` (1-based) holding a 0xFF byte.
  static func fileWithBadByte(rows: Int, bad: Int, item: String = "filler") -> [UInt8] {
    var bytes = Array("customer_id,date,item,amount\n".utf8)
    for i in 1...rows {
      bytes += Array("c\(i % 17),2025-01-\(String(format: "%02d", 1 + i % 28)),\(item)".utf8)
      if i == bad { bytes.append(0xFF) }
      bytes += Array(",\(i)\n".utf8)
    }
    return bytes
  }

  @Test(arguments: [1, 2, 150, 299])
  func oneBadByteIsOneRejectWhereverItSits(row: Int) throws {
    let bytes = Self.fileWithBadByte(rows: 300, bad: row)
    // A small block puts later rows outside the block the encoding is
    // guessed from; the default block holds the whole file.
    for block in [512, 8 << 20] {
      let r = try read(bytes: bytes) { $0.blockSize = block }
      #expect(r.encoding == .utf8 && !r.encodingDetected)
      #expect(r.rejects.map(\.reason) == [.invalidEncoding])
      #expect(r.rejects.map(\.line) == [row + 1])
      #expect(r.counts.read == 300 && r.counts.used == 299)
    }
  }

  @Test func utf8TextWithAFewBadBytesStaysUTF8() throws {
    var bytes = Self.fileWithBadByte(rows: 200, bad: 7, item: "玻尿酸")
    // A second damaged row: a lone continuation byte in a date.
    let extra = Array("k,2025-01-0".utf8) + [0x80] + Array("1,水光针,5\n".utf8)
    bytes += extra
    let r = try read(bytes: bytes)
    #expect(r.encoding == .utf8 && !r.encodingDetected)
    #expect(r.ledger.categories == ["玻尿酸"])
    #expect(r.rejects.map(\.reason) == [.invalidEncoding, .invalidEncoding])
    #expect(r.rejects.map(\.field) == [.item, .date])
    #expect(r.rejects.map(\.line) == [8, 202])
  }

  @Test func gb18030IsStillDetectedFromItsHeaderOrItsRows() throws {
    let gb = { (s: String) throws -> [UInt8] in try GB18030Converter(encoding: true).convert(Array(s.utf8)).0 }
    // A Chinese header over ASCII rows: the header alone decides.
    var text = "客户编号,消费日期,项目,实收金额\n"
    for i in 0..<500 { text += "K\(i),2025-01-01,F\(i % 3),\(i + 1)\n" }
    #expect(InputSniffer.guess(try gb(text)) == .gb18030)
    let r = try read(bytes: try gb(text))
    #expect(r.encoding == .gb18030 && r.encodingDetected && r.counts.used == 500)
    // An English header over Chinese items on every row.
    var rows = "customer_id,date,item,amount\n"
    for i in 0..<500 { rows += "K\(i),2025-01-01,玻尿酸\(i % 3),\(i + 1)\n" }
    #expect(InputSniffer.guess(try gb(rows)) == .gb18030)
    // The same text in UTF-8, with or without a few damaged bytes: UTF-8.
    #expect(InputSniffer.guess(Array(rows.utf8)) == .utf8)
    var damaged = Array(rows.utf8)
    for k in [100, 5000, 9000] { damaged[k] = 0xFF }
    #expect(InputSniffer.guess(damaged) == .utf8)
    // ASCII with damage on a few lines: UTF-8; on many lines: not UTF-8.
    var ascii = Array(Self.fileWithBadByte(rows: 100, bad: 3))
    #expect(InputSniffer.guess(ascii) == .utf8)
    for k in stride(from: 40, to: ascii.count, by: 60) { ascii[k] = 0xB0 }
    #expect(InputSniffer.guess(ascii) == .gb18030)
  }

  // MARK: - 5d. UTF-16 and CR-only files

  @Test(arguments: ["le-bom", "be-bom", "le", "be"])
  func utf16IsNamed(form: String) throws {
    let text = "customer_id,date,item,amount\na,2025-01-01,x,1\n"
    let units = Array(text.utf16)
    var bytes: [UInt8] = []
    if form == "le-bom" { bytes = [0xFF, 0xFE] }
    if form == "be-bom" { bytes = [0xFE, 0xFF] }
    for u in units {
      bytes += form.hasPrefix("le") ? [UInt8(u & 0xFF), UInt8(u >> 8)] : [UInt8(u >> 8), UInt8(u & 0xFF)]
    }
    for encoding in [InputEncoding.auto, .utf8, .gb18030] {
      let e = ingestError { try read(bytes: bytes) { $0.encoding = encoding } }
      #expect(e?.code == .encoding)
      #expect(
        e?.message.hasPrefix("the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)") == true,
        "\(String(describing: e))")
    }
  }

  @Test func crOnlyLineEndsAreRead() throws {
    let text =
      "customer_id,date,item,amount\ra,2025-01-01,x,1\rb,bad,x,2\r\"c\",2025-01-02,\"two\rlines\",3\rd,2025-01-03,y,4\r"
    for block in [8, 8 << 20] {
      let r = try read(text) { $0.blockSize = block }
      #expect(r.ledger.customerIDs == ["a", "c", "d"])
      #expect(r.ledger.categories == ["x", "two\nlines", "y"])
      #expect(r.counts.read == 4 && r.counts.used == 3)
      #expect(r.rejects.map(\.line) == [3])
    }
    // The checksum is of the file as it is, not as read.
    let r = try read(text)
    let lf = try read(text.replacingOccurrences(of: "\r", with: "\n"))
    #expect(r.sha256 != lf.sha256)
    #expect(r.ledger.customerIDs == lf.ledger.customerIDs)
  }

  // MARK: - 5e. GB18030 errors at file offsets

  @Test func gb18030ErrorsNameTheFileOffsetAndLine() throws {
    var text = "客户编号,消费日期,项目,实收金额\n"
    for i in 0..<200 { text += "K\(i),2025-01-01,玻尿酸,\(i)\n" }
    let gb = try GB18030Converter(encoding: true).convert(Array(text.utf8)).0
    // A 0xFF byte (never GB18030) at the start of line 150.
    var offset = 0, line = 1
    while line < 150 { if gb[offset] == 10 { line += 1 }; offset += 1 }
    let bytes = Array(gb[..<offset]) + [0xFF] + Array(gb[offset...])
    for block in [64, 1000, 8 << 20] {
      let e = ingestError {
        try read(bytes: bytes) {
          $0.blockSize = block; $0.encoding = .gb18030
        }
      }
      #expect(e?.code == .encoding)
      #expect(e?.location.line == 150, "\(String(describing: e))")
      #expect(e?.message.contains("byte offset \(offset)") == true, "\(String(describing: e))")
    }
  }

  // MARK: - 5a, 5b. Messages that say what is true

  @Test func noUsableRowsSaysWhyWithoutPointingAtAFileNotWritten() throws {
    let e = ingestError { try read("customer_id,date,item,amount\na,soon,x,1\nb,2025-01-01,x,much\n") }
    #expect(e?.code == .noUsableRows)
    let message = e?.message ?? ""
    #expect(!message.contains("rejects.csv"))
    #expect(message.contains("bad_date") && message.contains("bad_amount"))
    #expect(message.contains("line 2"))
  }

  @Test func aSymbolicLinkLoopIsNamed() throws {
    let a = dir.path("loop-a.csv"), b = dir.path("loop-b.csv")
    try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: b)
    try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: a)
    let e = ingestError { try TransactionReader.read(path: a) }
    #expect(e?.code == .unreadable)
    #expect(
      e?.message.contains("symbolic link") == true && e?.message.contains("ELOOP") == true, "\(String(describing: e))")
    // A link to nothing is named too.
    let dangling = dir.path("dangling.csv")
    try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: dir.path("nothing-here.csv"))
    let d = ingestError { try TransactionReader.read(path: dangling) }
    #expect(d?.code == .fileNotFound)
    #expect(d?.message.contains("symbolic link") == true, "\(String(describing: d))")
  }

  // MARK: - 5f. Echoed text is bounded

  @Test func echoedFieldsAndHeaderCellsAreCutShortOnOneLine() throws {
    let huge = String(repeating: "9\n", count: 500_000)
    let r = try read("customer_id,date,item,amount\na,2025-01-01,x,1\nb,2025-01-01,x,\"\(huge)\"\n")
    let detail = try #require(r.rejects.first?.detail)
    #expect(r.rejects.first?.reason == .badAmount)
    #expect(detail.count < 300 && !detail.contains("\n"), "\(detail.prefix(400))")
    // A header with a 1 MB cell and no amount column.
    let e = ingestError { try read("customer_id,date,item,\"\(huge)\"\na,2025-01-01,x,1\n") }
    #expect(e?.code == .badHeader)
    let m = e?.message ?? ""
    #expect(m.count < 1000 && !m.contains("\n"), "\(m.prefix(400))")
  }

  // MARK: - Fuzzer findings (fuzz/findings): the same outcome at any block size

  /// What reading a file comes to: the error's code and message, or the
  /// counts and the rejects' lines and reasons.
  func outcome(_ bytes: [UInt8], block: Int) -> String {
    do {
      let r = try read(bytes: bytes) { $0.blockSize = block }
      return
        "read \(r.counts.read) used \(r.counts.used) rejects \(r.rejects.map { "\($0.line):\($0.reason.rawValue)" })"
    } catch let e as IngestError {
      return "error \(e.code) \(e.message)"
    } catch {
      return "other \(error)"
    }
  }

  /// F1: four damaged UTF-8 rows among 44 were guessed GB18030 in one block
  /// but read as UTF-8 in small ones; a NUL-heavy first block of a few bytes
  /// was called UTF-16. The encoding is now judged on the first 8 MiB.
  @Test func theEncodingIsJudgedOnTheSameWindowAtAnyBlockSize() {
    var text = "customer_id,date,item,amount\n"
    for i in 0..<44 { text += "c\(i),2025-01-\(10 + i % 18),peel,\(100 + i)\n" }
    var bytes = Array(text.utf8)
    // A 0xFF byte in rows 2, 3, 4 and 44 (after each row's first character).
    var starts = [0]
    for (i, b) in bytes.enumerated() where b == 10 { starts.append(i + 1) }
    for row in [44, 4, 3, 2] { bytes.insert(0xFF, at: starts[row] + 1) }
    let reference = outcome(bytes, block: 8 << 20)
    for block in [4, 61, 509, 4096] { #expect(outcome(bytes, block: block) == reference, "block \(block)") }
    let nul: [UInt8] =
      Array("# ".utf8) + [0] + Array(" , ".utf8) + [0]
      + Array("\ncustomer_id,date,item,amount\na,2025-01-01,x,1\n".utf8)
    let nulReference = outcome(nul, block: 8 << 20)
    for block in [4, 5, 9, 61] { #expect(outcome(nul, block: block) == nulReference, "block \(block)") }
  }

  /// F3: an undecodable sequence in a file guessed to be GB18030 got one of
  /// two sentences depending on whether the block ended inside it.
  @Test func aGuessedGB18030FileGetsOneMessageForBadBytes() {
    let bytes: [UInt8] = [0x63, 0x55, 0x81, 0x79, 0x79, 0x8B, 0x31, 0x0A] + Array("\"Str1ig,cr".utf8)
    let reference = outcome(bytes, block: 8 << 20)
    #expect(reference.contains("neither UTF-8 nor GB18030"), "\(reference)")
    for block in [1, 2, 3, 5, 6, 7] { #expect(outcome(bytes, block: block) == reference, "block \(block)") }
  }
}
