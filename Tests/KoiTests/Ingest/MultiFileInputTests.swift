import Foundation
import Testing

@testable import Koi

/// Several inputs (files, directories, globs), overlapping exports,
/// .csv.gz and standard input (issue 17, "In" and "Bad input").
@Suite struct MultiFileInputTests {
  let dir = TemporaryDirectory()

  func read(_ names: [String], _ configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestResult {
    var o = IngestOptions()
    configure(&o)
    return try TransactionReader.read(inputs: InputList.expand(names), options: o)
  }

  /// Two monthly exports overlapping by one row, in other column orders and
  /// encodings, and an empty file.
  func exports() throws -> String {
    let d = dir.path("exports")
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    try dir.write(
      "exports/2025-02.csv",
      bytes: try gb18030("客户编号,项目,实收金额,消费日期\nb,水光针,50,2025-01-31\nc,玻尿酸,70,2025-02-03\nc,玻尿酸,oops,2025-02-04\n"))
    try dir.write(
      "exports/2025-01.csv",
      "\u{FEFF}customer_id,date,item,amount\na,2025-01-05,玻尿酸,100\nb,2025-01-31,水光针,50\nb,2025-01-31,水光针,50\n")
    try dir.write("exports/2025-03.csv", "")
    try dir.write("exports/notes.txt", "not an input")
    try dir.write("exports/.hidden.csv", "customer_id,date,item,amount\nz,2025-01-01,x,1\n")
    return d
  }

  func gb18030(_ s: String) throws -> [UInt8] {
    let c = try GB18030Converter(encoding: true)
    return c.convert(Array(s.utf8)).utf8
  }

  @Test func directoryIsReadInNameOrderWithPerFileHeadersAndEncodings() throws {
    let d = try exports()
    let r = try read([d])
    #expect(r.files.map { ($0.path as NSString).lastPathComponent } == ["2025-01.csv", "2025-02.csv", "2025-03.csv"])
    #expect(r.files.map(\.encoding) == [.utf8, .gb18030, .utf8])
    #expect(r.files[1].columns["customer_id"] == "客户编号")
    #expect(r.files.map(\.rows.read) == [3, 3, 0])
    #expect(r.files.map(\.rows.rejected) == [0, 1, 0])
    // Accounting reconciles per file and in all.
    for f in r.files { #expect(f.rows.read == f.rows.used + f.rows.rejected) }
    #expect(r.counts.read == 6 && r.counts.read == r.counts.used + r.counts.rejected)
    #expect(r.counts.read == r.files.map(\.rows.read).reduce(0, +))
    // The reject names its file and line in that file.
    #expect(r.rejects.count == 1 && r.rejects[0].file == 1 && r.rejects[0].line == 4)
    #expect(r.warnings.contains { $0.message.contains("2025-03.csv: the file is empty; it adds no rows") })
    #expect(r.rejectsNameFiles)
    // Customers in order of first appearance across files.
    #expect(r.ledger.customerIDs == ["a", "b", "c"])
    // Each file's SHA-256 is its own; the input's is over them.
    #expect(r.files[0].sha256 != r.files[1].sha256 && r.sha256.count == 64 && r.sha256 != r.files[0].sha256)
  }

  @Test func duplicatesAcrossFilesAreReportedAndKeptByDefault() throws {
    let r = try read([try exports()])
    let dup = try #require(r.duplicates)
    // b's row of 2025-02 repeats 2025-01 line 3; the repeat within 2025-01 (line 4) is not a duplicate.
    #expect(dup.rows == 1 && dup.action == "kept")
    #expect(dup.examples.count == 1)
    #expect(dup.examples[0].line == 2 && dup.examples[0].sameAsLine == 3)
    #expect(dup.examples[0].file.hasSuffix("2025-02.csv") && dup.examples[0].sameAsFile.hasSuffix("2025-01.csv"))
    #expect(r.counts.used == 5)
    #expect(r.warnings.contains { $0.message.contains("1 row repeats a row of an earlier file") })
  }

  @Test func dropAcrossFilesRejectsThemAndCountsReconcile() throws {
    let r = try read([try exports()]) { $0.duplicates = .dropAcrossFiles }
    #expect(r.duplicates?.rows == 1 && r.duplicates?.action == "dropped")
    let dropped = r.rejects.filter { $0.reason == .duplicateAcrossFiles }
    #expect(dropped.count == 1 && dropped[0].file == 1 && dropped[0].line == 2)
    #expect(dropped[0].raw == "b,水光针,50,2025-01-31")
    #expect(dropped[0].detail.contains("2025-01.csv:3"))
    #expect(r.counts.used == 4 && r.counts.rejected == 2 && r.counts.read == 6)
    #expect(r.counts.rejectedByReason["duplicate_across_files"] == 1)
    #expect(r.files[1].rows.used == 1 && r.files[1].rows.rejected == 2)
    // Two identical rows within one file both stay.
    #expect(r.ledger.customer.filter { r.ledger.customerIDs[Int($0)] == "b" }.count == 2)
  }

  @Test func sameTextDifferentFormIsNotADuplicate() throws {
    let a = try dir.write("a.csv", "customer_id,date,item,amount\nx,2025-01-05,i,100\nx,2025-01-06 10:00,i,100\n")
    let b = try dir.write(
      "b.csv", "customer_id,date,item,amount\nx,2025/1/5,i,100\nx,2025-01-06 15:00,i,100\nx,2025-01-05,i,100.00\n")
    let r = try read([a, b]) { $0.duplicates = .dropAcrossFiles }
    #expect(r.duplicates?.rows == 0 && r.counts.used == 5)
  }

  @Test func manyDuplicatesAcrossChunksAndBatches() throws {
    var rows = ""
    for i in 0..<3000 { rows += "c\(i % 97),2025-01-\(10 + i % 18),item\(i % 5),\(100 + i)\n" }
    let a = try dir.write("a.csv", "customer_id,date,item,amount\n" + rows)
    let b = try dir.write("b.csv", "customer_id,date,item,amount\n" + rows + "new,2025-02-01,x,1\n")
    for block in [64, 4096, 1 << 20] {
      let r = try read([a, b]) {
        $0.duplicates = .dropAcrossFiles
        $0.blockSize = block
        $0.chunksPerBatch = 3
      }
      #expect(r.duplicates?.rows == 3000, "block \(block)")
      #expect(r.counts.used == 3001 && r.counts.rejected == 3000)
      #expect(r.duplicates?.examples.count == DuplicateReport.exampleLimit)
      #expect(r.rejects.first?.line == 2 && r.rejects.first?.file == 1)
    }
  }

  @Test func globIsExpandedAndSortedByPath() throws {
    let d = try exports()
    let list = try InputList.expand([d + "/2025-0*.csv"])
    #expect(list.files.map { ($0 as NSString).lastPathComponent } == ["2025-01.csv", "2025-02.csv", "2025-03.csv"])
    #expect(list.couldBeSeveral)
    let one = try InputList.expand([d + "/2025-01.csv"])
    #expect(!one.couldBeSeveral && one.files.count == 1)
  }

  @Test func inputErrorsAreOneClearLine() throws {
    let d = try exports()
    let noMatch = #expect(throws: IngestError.self) { try InputList.expand([d + "/2026-*.csv"]) }
    #expect(noMatch?.code == .fileNotFound)
    #expect(noMatch?.message.contains("no file matches this pattern") == true)
    try FileManager.default.createDirectory(atPath: dir.path("empty"), withIntermediateDirectories: true)
    let emptyDir = #expect(throws: IngestError.self) { try InputList.expand([dir.path("empty")]) }
    #expect(emptyDir?.code == .fileNotFound && emptyDir?.message.contains("no .csv, .csv.gz or .xlsx") == true)
    let twice = #expect(throws: IngestError.self) { try InputList.expand([d, d + "/2025-01.csv"]) }
    #expect(twice?.code == .namedTwice)
    let other = try dir.write("store.csv", "customer_id,date,item,amount,store\na,2025-01-01,x,1,s1\n")
    let mismatch = #expect(throws: IngestError.self) { try read([d + "/2025-01.csv", other]) }
    #expect(mismatch?.code == .mismatchedColumns)
    #expect(mismatch?.location.path == other && mismatch?.location.line == 1)
    #expect(mismatch?.message.contains("it has store, which the first has not") == true)
    // Every input empty: nothing to read.
    let e1 = try dir.write("e1.csv", ""), e2 = try dir.write("e2.csv", "")
    let allEmpty = #expect(throws: IngestError.self) { try read([e1, e2]) }
    #expect(allEmpty?.code == .empty)
  }

  @Test func gzipIsReadStreamingAndTruncationIsAnError() throws {
    var text = "customer_id,date,item,amount\n"
    for i in 0..<20000 { text += "c\(i % 300),2025-0\(1 + i % 9)-1\(i % 10),item\(i % 7),\(100 + i % 50)\n" }
    let plain = try dir.write("t.csv", text)
    let gz = try gzip(plain)
    let a = try read([plain]), b = try read([gz]) { $0.blockSize = 4096 }
    #expect(b.files[0].format == .csvGzip)
    #expect(a.ledger.amount == b.ledger.amount && a.ledger.customerIDs == b.ledger.customerIDs && a.counts == b.counts)
    // Its SHA-256 is of the compressed file, as `sha256sum` gives.
    let gzBytes = try Data(contentsOf: URL(fileURLWithPath: gz)).count
    #expect(b.sha256 != a.sha256 && b.bytes == Int64(gzBytes))
    // Cut short: an error naming the file, whatever the block size.
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: gz)))
    let cut = try dir.write("cut.csv.gz", bytes: Array(bytes.prefix(bytes.count / 2)))
    for block in [512, 1 << 20] {
      let e = #expect(throws: IngestError.self) { try read([cut]) { $0.blockSize = block } }
      #expect(e?.code == .corrupt && e?.location.path == cut)
      #expect(e?.message.contains("truncated") == true)
    }
    // Damaged in the middle.
    var damaged = bytes
    for i in (damaged.count / 3)..<(damaged.count / 3 + 64) { damaged[i] ^= 0x5A }
    let bad = try dir.write("bad.csv.gz", bytes: damaged)
    let e = #expect(throws: IngestError.self) { try read([bad]) }
    #expect(e?.code == .corrupt && e?.message.contains("damaged") == true)
  }

  func gzip(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/gzip")
    p.arguments = ["-k", "-f", path]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    return path + ".gz"
  }

  /// The single-file path is untouched: no duplicate report, the original
  /// rejects.csv layout, the file's own checksum.
  @Test func oneFileKeepsItsOutputs() throws {
    let p = try dir.write(
      "one.csv", "customer_id,date,item,amount\na,2025-01-01,x,1\na,2025-01-01,x,1\nb,2025-01-02,x,bad\n")
    let r = try read([p])
    #expect(r.duplicates == nil && !r.rejectsNameFiles)
    #expect(r.files.count == 1 && r.files[0].sha256 == r.sha256)
    let out = dir.path("rejects.csv")
    try RejectsWriter.write(r.rejects, files: r.rejectsNameFiles ? r.files : nil, to: out)
    let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
    #expect(text.hasPrefix("\u{FEFF}line,reason,field,detail,raw\n4,bad_amount"))
  }

  @Test func rejectsCSVNamesTheFileWhenSeveral() throws {
    let r = try read([try exports()])
    let out = dir.path("rejects.csv")
    try RejectsWriter.write(r.rejects, files: r.files, to: out)
    let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self).split(separator: "\n")
    #expect(lines[0] == "\u{FEFF}file,sheet,line,reason,field,detail,raw")
    #expect(lines[1].hasPrefix(r.files[1].path + ",,4,bad_amount,amount,"))
  }
}
