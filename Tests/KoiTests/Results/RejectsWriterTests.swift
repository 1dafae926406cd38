import Foundation
import Testing

@testable import Koi

/// rejects.csv is written for Excel (BOM), so its cells get the same
/// formula-injection guard as the export CSVs.
@Suite struct RejectsWriterTests {
  let dir = TemporaryDirectory()

  @Test func cellsThatASpreadsheetWouldRunAreGuarded() throws {
    let raws = [
      "=HYPERLINK(\"http://x\",\"y\"),2025-01-01,x,1", "-300,2025-01-01,x,1", "+1,a", "@SUM(A1)", "\tx,1", "\rx",
      "plain,row", " leading space",
    ]
    let rejects = raws.enumerated().map { k, raw in
      Reject(line: k + 2, reason: .badAmount, field: .amount, detail: k == 0 ? "=1+1 is the detail" : "fine", raw: raw)
    }
    let path = dir.path("rejects.csv")
    try RejectsWriter.write(rejects, to: path)
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
    let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).components(separatedBy: "\n")
    #expect(lines[0] == "line,reason,field,detail,raw")
    // Each raw cell is the export CSVs' cell for the same text.
    for (k, raw) in raws.enumerated() where !raw.contains("\r") {
      let detail = CampaignListWriter.csvCell(k == 0 ? "=1+1 is the detail" : "fine")
      #expect(lines[k + 1] == "\(k + 2),bad_amount,amount,\(detail),\(CampaignListWriter.csvCell(raw))", "\(raw)")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    #expect(text.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\"),2025-01-01,x,1\"\n"))
    #expect(text.contains(",'-300,2025-01-01,x,1\n") == false)  // it holds commas, so it is quoted
    #expect(text.contains(",\"'-300,2025-01-01,x,1\"\n"))
    #expect(text.contains(",'@SUM(A1)\n"))
    #expect(text.contains(",'=1+1 is the detail,"))
    #expect(text.contains(",\"'\rx\"\n"))
    #expect(text.contains(",\" leading space\"\n"))
  }
}
