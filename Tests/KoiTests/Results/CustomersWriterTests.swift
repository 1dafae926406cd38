import Foundation
import Testing

@testable import Koi

@Suite struct CustomersWriterTests {
  /// `"n": c` for customer `c`.
  struct IndexField: CustomerRecordFields {
    func write(customer c: Int, into w: inout JSONWriter) { w.key("n"); w.int(c) }
  }

  @Test func blocksAreWrittenInCustomerOrder() throws {
    // Five blocks, the last one partial: several batches on a small machine.
    let ids = (0..<(4 * CustomersWriter.block + 123)).map { "C\($0)" }
    let dir = TemporaryDirectory()
    try CustomersWriter.write(to: dir.path("customers.jsonl"), customerIDs: ids, fields: [IndexField()])
    let expected = ids.indices.map { #"{"customer_id":"C\#($0)","n":\#($0)}"# + "\n" }.joined()
    #expect(try String(contentsOfFile: dir.path("customers.jsonl"), encoding: .utf8) == expected)
  }
}
