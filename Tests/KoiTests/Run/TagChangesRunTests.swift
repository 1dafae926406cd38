import Foundation
import Testing

@testable import Koi

/// exports/tag_changes.jsonl and run.json `tag_changes` over scheduled runs
/// of the shared fixture.
@Suite struct TagChangesRunTests {
  let dir = TemporaryDirectory()
  var out: String { dir.path("out") }

  func config(_ asOf: String, exports: String = "") throws -> RunConfig {
    var c = try ScheduledRunFixture.config(out: out, exports: exports)
    c.asOf = .date(DayNumber.parse(asOf) ?? 0)
    return c
  }

  func run(_ asOf: String, exports: String = "", hooks: ScheduledRun.Hooks = .init()) throws -> ScheduledRunResult {
    try ScheduledRun.run(try config(asOf, exports: exports), hooks: hooks)
  }

  struct Line: Decodable, Equatable {
    var customer_id: String
    var added: [String]
    var removed: [String]
  }

  func lines(_ r: ScheduledRunResult) throws -> [Line] {
    let text = try String(contentsOfFile: r.runDirectory + "/exports/tag_changes.jsonl", encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
  }

  /// run.json as written, decoded by the same model the history reads.
  func manifest(_ r: ScheduledRunResult) throws -> RunManifest {
    try JSONDecoder.koi.decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: r.runDirectory + "/run.json")))
  }

  /// Raw id → tags, from the run's customers.jsonl (raw ids whatever the salt).
  func tags(_ r: ScheduledRunResult) throws -> [String: [String]] {
    struct Record: Decodable { var customer_id: String; var tags: [String] }
    let text = try String(contentsOfFile: r.runDirectory + "/customers.jsonl", encoding: .utf8)
    var out: [String: [String]] = [:]
    for l in text.split(separator: "\n") {
      let rec = try JSONDecoder().decode(Record.self, from: Data(l.utf8))
      out[rec.customer_id] = rec.tags
    }
    return out
  }

  /// The deltas worked out here from the two runs' customers.jsonl, keyed by raw id.
  func expectedDeltas(from a: [String: [String]], to b: [String: [String]]) -> [String: Line] {
    var out: [String: Line] = [:]
    for id in Set(a.keys).union(b.keys) {
      let before = a[id] ?? [], now = b[id] ?? []
      let added = now.filter { !before.contains($0) }, removed = before.filter { !now.contains($0) }
      if !added.isEmpty || !removed.isEmpty { out[id] = Line(customer_id: id, added: added, removed: removed) }
    }
    return out
  }

  /// The summary adds up to the lines, per tag and in all.
  func expectReconciles(_ s: TagChangeSummary, _ ls: [Line]) {
    #expect(s.customersChanged == ls.count)
    #expect(s.added == ls.reduce(0) { $0 + $1.added.count })
    #expect(s.removed == ls.reduce(0) { $0 + $1.removed.count })
    var byTag: [String: TagChangeSummary.Counts] = [:]
    for l in ls {
      for t in l.added { byTag[t, default: .init()].added += 1 }
      for t in l.removed { byTag[t, default: .init()].removed += 1 }
    }
    #expect(s.byTag == byTag)
    #expect(Set(ls.map(\.customer_id)).count == ls.count)
    for l in ls { #expect(!l.added.isEmpty || !l.removed.isEmpty) }
  }

  @Test func theFirstRunMarksEveryTagAdded() throws {
    let r = try run("2025-01-01")
    let ls = try lines(r)
    let m = try manifest(r)
    let s = try #require(m.tagChanges)
    #expect(s.previousRun == nil)
    #expect(s.removed == 0 && s.customersGone == 0)
    expectReconciles(s, ls)
    // Every tagged customer, in customers.jsonl order, with all its tags.
    let ids = r.scoring.ledger.customerIDs
    let tagged = ids.indices.filter { !r.scoring.tags[$0].isEmpty }
    #expect(!tagged.isEmpty)
    #expect(ls == tagged.map { Line(customer_id: ids[$0], added: r.scoring.tags[$0], removed: []) })
    // run.json lists the exports, run.json still last, and says null, not nothing.
    #expect(m.outputs.contains("exports/tag_changes.jsonl") && m.outputs.contains("exports/tag_dictionary.json"))
    #expect(m.outputs.last == "run.json")
    let raw = try String(contentsOfFile: r.runDirectory + "/run.json", encoding: .utf8)
    #expect(raw.contains("\"previous_run\" : null"))
  }

  @Test func aLaterRunListsWhatWasAddedAndRemoved() throws {
    let first = try run("2025-01-01")
    let second = try run("2025-07-01")
    let ls = try lines(second)
    let s = try #require(try manifest(second).tagChanges)
    #expect(s.previousRun == first.runID)
    expectReconciles(s, ls)
    let expected = expectedDeltas(from: try tags(first), to: try tags(second))
    #expect(!expected.isEmpty)
    #expect(expected.values.contains { !$0.removed.isEmpty } && expected.values.contains { !$0.added.isEmpty })
    #expect(Dictionary(uniqueKeysWithValues: ls.map { ($0.customer_id, $0) }) == expected)
    // Customers of this run come in customers.jsonl order.
    let order = Dictionary(uniqueKeysWithValues: second.scoring.ledger.customerIDs.enumerated().map { ($1, $0) })
    let positions = ls.compactMap { order[$0.customer_id] }
    #expect(positions == positions.sorted())
    // Nothing changed between two runs of the same data: no lines.
    let third = try run("2025-07-01")
    #expect(try lines(third).isEmpty)
    let s3 = try #require(try manifest(third).tagChanges)
    #expect(s3.previousRun == second.runID && s3.customersChanged == 0 && s3.byTag.isEmpty)
  }

  @Test func aFailedRunDoesNotBecomeThePrevious() throws {
    let first = try run("2025-01-01")
    struct Injected: Error {}
    var hooks = ScheduledRun.Hooks()
    hooks.beforeRepoint = { throw Injected() }
    #expect(throws: Injected.self) { try run("2025-04-01", hooks: hooks) }
    let third = try run("2025-07-01")
    let s = try #require(try manifest(third).tagChanges)
    #expect(s.previousRun == first.runID)
    let expected = expectedDeltas(from: try tags(first), to: try tags(third))
    #expect(Dictionary(uniqueKeysWithValues: try lines(third).map { ($0.customer_id, $0) }) == expected)
  }

  @Test func aCustomerMissingFromTheDataLosesAllTagsAtTheEnd() throws {
    let first = try run("2025-07-01")
    let before = try tags(first)
    // Two tagged customers leave the data (a deletion request, a new export).
    let goneIDs = first.scoring.ledger.customerIDs.filter { !(before[$0] ?? []).isEmpty }.prefix(2)
    #expect(goneIDs.count == 2)
    let text = try String(contentsOfFile: ScheduledRunFixture.transactions, encoding: .utf8)
    let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
      !goneIDs.contains(String(line.prefix { $0 != "," }))
    }
    let input = try dir.write("fewer.csv", kept.joined(separator: "\n"))
    var c = try config("2025-07-01")
    c.inputPath = input
    let second = try ScheduledRun.run(c)
    let ls = try lines(second)
    let s = try #require(try manifest(second).tagChanges)
    #expect(s.customersGone == 2)
    expectReconciles(s, ls)
    #expect(Array(ls.suffix(2)) == goneIDs.sorted().map { Line(customer_id: $0, added: [], removed: before[$0] ?? []) })
  }

  @Test func hashedIDsAreThoseOfTheOtherExports() throws {
    let salt = "hash_ids_salt = \"s3cret\""
    let first = try run("2025-01-01", exports: salt)
    let second = try run("2025-07-01", exports: salt)
    let p = Pseudonymizer(salt: "s3cret")
    let expected = expectedDeltas(from: try tags(first), to: try tags(second))
    var hashed: [String: Line] = [:]
    for (id, l) in expected {
      hashed[p.pseudonym(id)] = Line(customer_id: p.pseudonym(id), added: l.added, removed: l.removed)
    }
    let ls = try lines(second)
    #expect(!ls.isEmpty)
    #expect(Dictionary(uniqueKeysWithValues: ls.map { ($0.customer_id, $0) }) == hashed)
    // The same pseudonyms as tags.jsonl.
    let tagsFile = try String(contentsOfFile: second.runDirectory + "/exports/tags.jsonl", encoding: .utf8)
    #expect(ls.allSatisfy { tagsFile.contains("\"customer_id\":\"\($0.customer_id)\"") })
    #expect(ls.allSatisfy { !second.scoring.ledger.customerIDs.contains($0.customer_id) })
  }

  /// The history's tags of a run, matched to another run's customers: in
  /// that run's order (here reversed, every other one, with new ids among
  /// them), nil for the new ones, the rest as gone.
  @Test func recordedTagsAreMatchedToAnotherRunsCustomers() throws {
    let first = try run("2025-01-01")
    let byID = try tags(first)
    let ids = first.scoring.ledger.customerIDs
    let others = ["new-1", "\u{4E2D}\u{6587}", ""] + ids.indices.reversed().filter { $0 % 2 == 0 }.map { ids[$0] }
    let history = try RunHistory(path: out + "/history.sqlite")
    let p = try #require(try history.tags(ofRun: first.runID, customerIDs: others))
    #expect(p.lists == others.map { byID[$0] })
    let gone = Set(ids.indices.filter { $0 % 2 == 1 }.map { ids[$0] })
    #expect(p.gone.count == gone.count)
    #expect(Dictionary(uniqueKeysWithValues: p.gone.map { ($0.id, $0.tags) }) == byID.filter { gone.contains($0.key) })
    #expect(byID.values.contains { !$0.isEmpty } && p.lists.contains { $0?.isEmpty == false })
  }

  @Test func aPreviousRunWithoutRecordedTagsCountsAsNone() throws {
    let first = try run("2025-01-01")
    // What a Koi before tags were kept left: rows without tags.
    let history = try RunHistory(path: out + "/history.sqlite")
    try history.db.write {
      try $0.execute(sql: "UPDATE run_customers SET tags = NULL WHERE run_id = ?", arguments: [first.runID])
    }
    #expect(try history.tagsByID(ofRun: first.runID) == nil)
    let second = try run("2025-07-01")
    let s = try #require(try manifest(second).tagChanges)
    #expect(s.previousRun == nil && s.removed == 0)
    #expect(second.warnings.contains { $0.contains("no recorded tags") })
    #expect(try manifest(second).warnings.contains { $0.contains("no recorded tags") })
    // The second run's own tags are kept for the next.
    #expect(try history.tagsByID(ofRun: second.runID) == (try tags(second)))
  }
}
