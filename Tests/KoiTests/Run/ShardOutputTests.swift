import Foundation
import Testing

@testable import Koi

/// shard.json's due lists are stored as columns: they read back as the
/// entries written, exact probabilities included, and columns of different
/// lengths are refused.
@Suite struct ShardOutputTests {
  static let list = ShardOutput.DueList(
    category: "botox",
    entries: [
      .init(
        firstLine: 7,
        entry: .init(customerID: "C1", probability: 0.1 + 0.2, status: .due, lastPurchase: 20_000, expectedNext: 20_030)
      ),
      .init(
        firstLine: 3,
        entry: .init(
          customerID: "C\"2", probability: 0.5, status: .overdue, lastPurchase: 19_990,
          expectedNext: IntervalColumns.noDay)),
    ])

  @Test func dueListsReadBackAsWritten() throws {
    let data = try JSONEncoder().encode(Self.list)
    let back = try JSONDecoder().decode(ShardOutput.DueList.self, from: data)
    #expect(back.category == "botox")
    #expect(back.entries == Self.list.entries)
    #expect(String(decoding: data, as: UTF8.self).contains("\"firstLine\":[7,3]"))
  }

  @Test func dueListColumnsOfDifferentLengthsAreRefused() throws {
    let text = String(decoding: try JSONEncoder().encode(Self.list), as: UTF8.self)
      .replacingOccurrences(of: "\"firstLine\":[7,3]", with: "\"firstLine\":[7]")
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(ShardOutput.DueList.self, from: Data(text.utf8))
    }
  }
}
