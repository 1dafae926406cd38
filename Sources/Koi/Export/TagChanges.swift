/// What changed in one customer's tags since the previous successful run:
/// a line of exports/tag_changes.jsonl.
struct TagChange: Sendable, Equatable {
  /// As exported (a pseudonym when ids are hashed).
  public var customerID: String
  /// Tags the customer has now and did not have, in this run's tag order.
  public var added: [String]
  /// Tags the customer had and has no longer, in the previous run's order.
  var removed: [String]
}

/// run.json `tag_changes`: the totals of exports/tag_changes.jsonl.
///
/// ```
/// customers_changed = lines of tag_changes.jsonl
/// added   = Σ over lines of |added|   = Σ over tags of by_tag[t].added
/// removed = Σ over lines of |removed| = Σ over tags of by_tag[t].removed
/// ```
struct TagChangeSummary: Sendable, Equatable, Codable {
  struct Counts: Sendable, Equatable, Codable {
    public var added = 0
    var removed = 0
  }

  /// The run compared with; nil on a first run (every tag is added).
  var previousRun: String?
  var customersChanged = 0
  /// Customers of the previous run not in this one (all tags removed).
  var customersGone = 0
  public var added = 0
  var removed = 0
  /// Per tag name, sorted by name in JSON.
  var byTag: [String: Counts] = [:]

  public init(previousRun: String?) { self.previousRun = previousRun }

  /// `previous_run` is written as null on a first run, not left out.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(previousRun, forKey: .previousRun)
    try c.encode(customersChanged, forKey: .customersChanged)
    try c.encode(customersGone, forKey: .customersGone)
    try c.encode(added, forKey: .added)
    try c.encode(removed, forKey: .removed)
    try c.encode(byTag, forKey: .byTag)
  }
}

/// The previous successful run's tags, matched to this run's customers
/// (`RunHistory.tags(ofRun:customerIDs:order:)`).
struct PreviousTags {
  /// Per customer of this run: its tags in the previous run; nil for a
  /// customer new since.
  var lists: [[String]?]
  /// The previous run's customers missing from this one: raw id and tags.
  var gone: [(id: String, tags: [String])]
}

/// The tag deltas an SCRM sync sends (`exports/tag_changes.jsonl`).
enum TagChanges {
  /// Per customer, the tags added and removed since `previous` (the
  /// previous successful run's tags; nil when there is none, so every tag
  /// is added). Customers whose tags did not change have no line.
  ///
  /// Order: this run's customers in customers.jsonl order, then customers
  /// of the previous run missing from this one, by exported id; each of
  /// those loses all its tags (Koi no longer backs them). A tag listed
  /// twice for one customer (two categories with one slug) counts once.
  ///
  /// - Complexity: O(C × T) for C customers of both runs and T tags each.
  static func compute(
    customerIDs: [String], exportedIDs: [String], tags: CustomerTags, previous: PreviousTags?,
    previousRun: String?, pseudonym: (String) -> String
  ) -> (changes: [TagChange], summary: TagChangeSummary) {
    precondition(customerIDs.count == tags.count && exportedIDs.count == tags.count, "one tag list per customer")
    precondition(previous.map { $0.lists.count == tags.count } ?? true, "previous tags matched to every customer")
    var summary = TagChangeSummary(previousRun: previous == nil ? nil : previousRun)
    var changes: [TagChange] = []
    func record(_ change: TagChange) {
      guard !change.added.isEmpty || !change.removed.isEmpty else { return }
      changes.append(change)
      summary.customersChanged += 1
      summary.added += change.added.count
      summary.removed += change.removed.count
      for t in change.added { summary.byTag[t, default: .init()].added += 1 }
      for t in change.removed { summary.byTag[t, default: .init()].removed += 1 }
    }
    for c in customerIDs.indices {
      let before = previous?.lists[c]
      let current = tags[c]
      // The same list, the commonest case, changes nothing: no sets made.
      if before == current { continue }
      let now = unique(current), was = unique(before ?? [])
      record(TagChange(customerID: exportedIDs[c], added: difference(now, was), removed: difference(was, now)))
    }
    let gone = (previous?.gone ?? []).map {
      TagChange(customerID: pseudonym($0.id), added: [], removed: unique($0.tags))
    }
    summary.customersGone = gone.count
    for g in gone.sorted(by: { $0.customerID < $1.customerID }) { record(g) }
    return (changes, summary)
  }

  /// Lists up to this long are searched, not hashed: a customer has a few
  /// tags, and the sets made for them were most of this step's time on a
  /// second 10M-row `koi run` (466 of 894 samples, for 367,223 changed
  /// customers).
  static let searchedListLength = 16

  /// `tags` without repeats, first occurrence kept.
  static func unique(_ tags: [String]) -> [String] {
    if tags.count < 2 { return tags }
    if tags.count <= searchedListLength {
      var out: [String] = []
      out.reserveCapacity(tags.count)
      for t in tags where !out.contains(t) { out.append(t) }
      return out
    }
    var seen = Set<String>()
    return tags.filter { seen.insert($0).inserted }
  }

  /// The tags of `a` not in `b`, in `a`'s order.
  static func difference(_ a: [String], _ b: [String]) -> [String] {
    if a.isEmpty || b.isEmpty { return a }
    if b.count <= searchedListLength { return a.filter { !b.contains($0) } }
    let exclude = Set(b)
    return a.filter { !exclude.contains($0) }
  }

  /// Writes `changes` as JSON lines: `{"customer_id", "added", "removed"}`
  /// in that key order.
  public static func write(_ changes: [TagChange], to path: String) throws {
    let file = try AtomicFile(path: path)
    var w = JSONWriter(capacity: 1 << 16)
    for ch in changes {
      w.beginObject()
      w.key("customer_id"); w.string(ch.customerID)
      w.key("added"); w.beginArray(); for t in ch.added { w.string(t) }; w.endArray()
      w.key("removed"); w.beginArray(); for t in ch.removed { w.string(t) }; w.endArray()
      w.endObject()
      w.newline()
      if w.byteCount >= 1 << 20 { try w.flush(to: file) }
    }
    try w.flush(to: file)
    try file.commit()
  }
}
