import Foundation
import Testing

@testable import Koi

/// The scanner must give what `JSONDecoder` gives, or nothing (then the
/// decoder decides).
@Suite struct CustomerLineScannerTests {
  typealias Record = CustomerAggregates.Record

  static func decoded(_ line: String) -> Record? {
    try? JSONDecoder().decode(Record.self, from: Data(line.utf8))
  }

  @Test func everyGoldenLineScansAsTheDecoderReadsIt() throws {
    let path = repositoryRoot.appendingPathComponent("Tests/KoiTests/Fixtures/golden/sample/customers.jsonl")
    let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3000)
    var withRepurchase = 0
    for line in lines {
      let scanned = CustomerLineScanner.record(Data(line.utf8))
      #expect(scanned != nil)
      #expect(scanned == Self.decoded(String(line)))
      if !(scanned?.repurchase ?? []).isEmpty { withRepurchase += 1 }
    }
    #expect(withRepurchase > 1000)
  }

  @Test(arguments: [
    // Escapes, surrogate pairs, Chinese, nulls, other key orders, spaces,
    // nested values the report does not read.
    #"{"customer_id":"a\"b\\c\u00e9\ud83d\ude00","segment":"重要","monetary":-12.5e1,"r_score":null}"#,
    #" { "lifetime" : { "clv" : 3 , "p_alive" : 0.25 } , "customer_id" : "x" , "extra" : [1, {"a": [true, false, null]}, "s"] } "#,
    #"{"customer_id":"x","tier":{"id":2,"name":"n","distance":1.5},"repurchase":[{"category":"c","probability_30d":0.1,"probability_60d":null}]}"#,
    #"{"customer_id":"x","repurchase":[],"tier":null,"lifetime":null}"#,
  ])
  func acceptedLinesMatchTheDecoder(line: String) throws {
    let scanned = try #require(CustomerLineScanner.record(Data(line.utf8)))
    #expect(scanned == Self.decoded(line))
  }

  @Test(arguments: [
    #"{"customer_id":"x""#,  // truncated
    #"{"customer_id":"x"} trailing"#,
    #"{"monetary":1}"#,  // no customer_id
    #"{"customer_id":"x","r_score":1.5}"#,  // not an integer: the decoder decides
    #"{"customer_id":"x","segment":1}"#,
    #"{"customer_id":"x","monetary":01}"#,
    #"{"customer_id":"x","monetary":1e999}"#,
    #"{"customer_id":"x",}"#,
    "{\"customer_id\":\"a\u{1}\"}",  // a control character in a string
    #"{"customer_id":"\ud83d"}"#,  // a lone surrogate
  ])
  func rejectedLinesGoToTheDecoder(line: String) {
    #expect(CustomerLineScanner.record(Data(line.utf8)) == nil)
  }

  @Test func invalidUTF8IsRefused() {
    var bytes = Array(#"{"customer_id":""#.utf8)
    bytes += [0xC0, 0xAF]  // an overlong "/"
    bytes += Array(#""}"#.utf8)
    #expect(CustomerLineScanner.record(Data(bytes)) == nil)
    #expect([0xE4, 0xB8, 0xAD].withUnsafeBufferPointer { CustomerLineScanner.text($0) } == "中")
    #expect([0xED, 0xA0, 0x80].withUnsafeBufferPointer { CustomerLineScanner.text($0) } == nil)  // a surrogate
    #expect([0xF4, 0x90, 0x80, 0x80].withUnsafeBufferPointer { CustomerLineScanner.text($0) } == nil)  // > U+10FFFF
  }
}
