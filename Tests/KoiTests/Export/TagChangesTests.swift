import Foundation
import Testing

@testable import Koi

@Suite struct TagChangesTests {
  let ids = ["C3", "C1", "C2"]

  func compute(_ tags: [[String]], previous: [String: [String]]?, exported: [String]? = nil) -> (
    [TagChange], TagChangeSummary
  ) {
    // Matched as `RunHistory.tags(ofRun:customerIDs:)` matches them.
    let matched = previous.map { byID in
      PreviousTags(
        lists: ids.map { byID[$0] },
        gone: byID.filter { !ids.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
    let r = TagChanges.compute(
      customerIDs: ids, exportedIDs: exported ?? ids, tags: CustomerTags(tags), previous: matched, previousRun: "p",
      pseudonym: { "h-" + $0 })
    return (r.changes, r.summary)
  }

  @Test func withoutAPreviousRunEveryTagIsAdded() {
    let (c, s) = compute([["vip", "high_value"], [], ["win_back"]], previous: nil)
    #expect(
      c == [
        TagChange(customerID: "C3", added: ["vip", "high_value"], removed: []),
        TagChange(customerID: "C2", added: ["win_back"], removed: []),
      ])
    #expect(s.previousRun == nil && s.customersChanged == 2 && s.added == 3 && s.removed == 0)
    #expect(
      s.byTag == [
        "vip": .init(added: 1, removed: 0), "high_value": .init(added: 1, removed: 0),
        "win_back": .init(added: 1, removed: 0),
      ])
  }

  @Test func changesAgainstThePreviousRunInCustomerOrderThenGoneCustomers() {
    let previous = [
      "C1": ["vip"], "C2": ["win_back", "filler_due_30d"], "C3": ["vip"], "Z9": ["high_value"],
      "A0": ["vip", "win_back"],
    ]
    let (c, s) = compute([["vip"], ["vip", "high_value"], ["filler_due_30d", "filler_due_30d"]], previous: previous)
    #expect(
      c == [
        TagChange(customerID: "C1", added: ["high_value"], removed: []),
        TagChange(customerID: "C2", added: [], removed: ["win_back"]),
        // Gone customers last, by exported id (here the pseudonyms h-A0 < h-Z9).
        TagChange(customerID: "h-A0", added: [], removed: ["vip", "win_back"]),
        TagChange(customerID: "h-Z9", added: [], removed: ["high_value"]),
      ])
    #expect(s.previousRun == "p" && s.customersChanged == 4 && s.customersGone == 2 && s.added == 1 && s.removed == 4)
    #expect(s.byTag["vip"] == .init(added: 0, removed: 1) && s.byTag["win_back"] == .init(added: 0, removed: 2))
    #expect(s.byTag["filler_due_30d"] == nil)
  }

  @Test func theSummaryIsWrittenWithANullPreviousRun() throws {
    let json = String(decoding: try JSONEncoder.koiCompact.encode(TagChangeSummary(previousRun: nil)), as: UTF8.self)
    #expect(
      json == #"{"added":0,"by_tag":{},"customers_changed":0,"customers_gone":0,"previous_run":null,"removed":0}"#)
  }

  @Test func linesAreWrittenInAFixedKeyOrder() throws {
    let dir = TemporaryDirectory()
    try TagChanges.write(
      [
        TagChange(customerID: "C\"1", added: ["玻尿酸_due_30d"], removed: []),
        TagChange(customerID: "C2", added: [], removed: ["vip", "win_back"]),
      ], to: dir.path("t.jsonl"))
    #expect(
      try String(contentsOfFile: dir.path("t.jsonl"), encoding: .utf8)
        == "{\"customer_id\":\"C\\\"1\",\"added\":[\"玻尿酸_due_30d\"],\"removed\":[]}\n{\"customer_id\":\"C2\",\"added\":[],\"removed\":[\"vip\",\"win_back\"]}\n"
    )
    try TagChanges.write([], to: dir.path("empty.jsonl"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("empty.jsonl"))).isEmpty)
  }

  /// Short lists are searched and long ones hashed: both give what sets
  /// give, in the list's order, for lengths on both sides of the switch.
  @Test func uniqueAndDifferenceAreTheSetDefinitions() {
    var rng = SeededGenerator(seed: 7)
    let names = (0..<40).map { "tag_\($0)" } + ["标签", "e\u{301}", "\u{E9}"]
    for _ in 0..<2_000 {
      let a = (0..<Int(rng.next() % 40)).map { _ in names[Int(rng.next() % UInt64(names.count))] }
      let b = (0..<Int(rng.next() % 40)).map { _ in names[Int(rng.next() % UInt64(names.count))] }
      var seen = Set<String>()
      #expect(TagChanges.unique(a) == a.filter { seen.insert($0).inserted })
      let exclude = Set(b)
      #expect(TagChanges.difference(a, b) == a.filter { !exclude.contains($0) })
    }
  }
}
