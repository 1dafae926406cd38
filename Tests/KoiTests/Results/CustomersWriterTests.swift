import Foundation
import Testing

@testable import Koi

@Suite struct CustomersWriterTests {
  /// `"n": c` for customer `c`.
  struct IndexField: CustomerRecordFields {
    func write(customer c: Int, into w: inout JSONWriter) { w.key("n"); w.int(c) }
  }

  /// Blocks of up to `CustomersWriter.maximumBlock` customers, or an eighth of
  /// them (64 at least) for fewer customers.
  @Test func blocksFollowTheCustomerCount() {
    #expect(CustomersWriter.blockSize(customers: 1_470_000) == CustomersWriter.maximumBlock)
    #expect(
      CustomersWriter.blockSize(customers: 8 * CustomersWriter.maximumBlock) == CustomersWriter.maximumBlock)
    #expect(CustomersWriter.blockSize(customers: 2_469) == 308)
    #expect(CustomersWriter.blockSize(customers: 100) == 64)
    #expect(CustomersWriter.blockSize(customers: 0) == 64)
  }

  /// Several blocks (of the largest size, and of an eighth of the
  /// customers), the last one partial: several batches on a small machine.
  @Test(arguments: [8 * CustomersWriter.maximumBlock + 123, 4 * CustomersWriter.maximumBlock + 123, 1_000, 1])
  func blocksAreWrittenInCustomerOrder(customers: Int) throws {
    let ids = (0..<customers).map { "C\($0)" }
    let dir = TemporaryDirectory()
    try CustomersWriter.write(to: dir.path("customers.jsonl"), customerIDs: ids, fields: [IndexField()])
    let expected = ids.indices.map { #"{"customer_id":"C\#($0)","n":\#($0)}"# + "\n" }.joined()
    #expect(try String(contentsOfFile: dir.path("customers.jsonl"), encoding: .utf8) == expected)
  }

  /// `"n": c`, slowly for the customers below `slowBelow`.
  struct SlowFirstCustomers: CustomerRecordFields {
    let slowBelow: Int
    func write(customer c: Int, into w: inout JSONWriter) {
      if c < slowBelow { usleep(1_000) }
      w.key("n"); w.int(c)
    }
  }

  /// The first block takes about 125 ms, so the other worker formats the
  /// later blocks before their turn: four wait as text, the next waits for
  /// room, and the first block's worker writes the waiting ones after its
  /// own. The file is still in customer order.
  @Test func blocksFormattedBeforeTheirTurnAreWrittenInOrder() throws {
    let customers = 1_000  // 8 blocks of 125
    let ids = (0..<customers).map { "C\($0)" }
    let block = CustomersWriter.blockSize(customers: customers)
    let dir = TemporaryDirectory()
    try CustomersWriter.write(
      to: dir.path("customers.jsonl"), customerIDs: ids, fields: [SlowFirstCustomers(slowBelow: block)])
    let expected = ids.indices.map { #"{"customer_id":"C\#($0)","n":\#($0)}"# + "\n" }.joined()
    #expect(try String(contentsOfFile: dir.path("customers.jsonl"), encoding: .utf8) == expected)
  }
}
