import Foundation
import Testing

@testable import Koi

@Suite struct JSONWriterTests {
  func text(_ body: (inout JSONWriter) -> Void) -> String {
    var w = JSONWriter()
    body(&w)
    return String(decoding: w.bytes, as: UTF8.self)
  }

  @Test func fixedDecimalsNullsAndIntegers() {
    let s = text { w in
      w.beginArray()
      w.number(0, decimals: 2); w.number(1234.5, decimals: 2); w.number(-12.345, decimals: 3)
      w.number(-0.004, decimals: 2); w.number(.nan, decimals: 2); w.number(.infinity, decimals: 1)
      w.number(0.1 + 0.2, decimals: 6); w.int(-42); w.int(Int64.min); w.number(7, decimals: 0)
      w.endArray()
    }
    #expect(s == "[0.00,1234.50,-12.345,0.00,null,null,0.300000,-42,-9223372036854775808,7]")
  }

  @Test func objectsNestAndEscape() {
    let s = text { w in
      w.beginObject()
      w.key("a"); w.string("quote \" backslash \\ newline \n tab \t bell \u{07} 中文")
      w.key("b"); w.beginArray(); w.beginObject(); w.key("c"); w.null(); w.endObject(); w.bool(true); w.endArray()
      w.key("d"); w.date(DayNumber.from(year: 2025, month: 3, day: 5))
      w.endObject()
    }
    #expect(
      s == #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 中文","b":[{"c":null},true],"d":"2025-03-05"}"#)
  }

  @Test func growsPastItsCapacityAndStreamsInPieces() throws {
    func document(_ w: inout JSONWriter, streamingTo file: AtomicFile?) throws {
      w.beginArray()
      for i in 0..<1000 {
        w.beginObject(); w.key("i"); w.int(i); w.key("x"); w.number(Double(i) / 8, decimals: 3); w.endObject()
        if let file, w.bytes.count >= 100 { try w.flush(to: file) }
      }
      w.endArray()
    }
    var whole = JSONWriter(capacity: 0)
    try document(&whole, streamingTo: nil)
    #expect(whole.bytes.starts(with: Array(#"[{"i":0,"x":0.000},{"i":1,"x":0.125},"#.utf8)))

    let dir = TemporaryDirectory()
    let file = try AtomicFile(path: dir.path("streamed.json"), streamed: true)
    var pieces = JSONWriter(capacity: 0)
    try document(&pieces, streamingTo: file)
    try pieces.flush(to: file)
    try file.commit()
    #expect(try Data(contentsOf: dir.url.appendingPathComponent("streamed.json")) == Data(whole.bytes))
  }
}
