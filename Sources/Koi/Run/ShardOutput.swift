import Foundation

/// What `koi merge --outputs` needs of one shard's `koi score --shard`
/// output besides its customers.jsonl: shard.json, compact JSON with a
/// format name and version (keys are the Swift property names, so
/// treatment, status and reason names pass through unchanged).
///
/// ```
/// format, version          "koi-shard-output", 2
/// koiVersion, asOf         the shard's Koi and as-of date (the model's)
/// customerFirstLines       per customers.jsonl line, the input line that first names the customer
/// rows, rejects            the shard's row counts and rejected rows (line, reason, field, detail, raw)
/// input                    the shard's run.json input section
/// stages, options          the stages that ran; lifetime and due-list options
/// warningsBeforeRejects, warningsAfterRejects
///                          run.json warnings around the rejected-rows warning
/// due                      per due.json category, its entries with exact probabilities and first
///                          lines, as columns (firstLine, customerID, probability, status,
///                          lastPurchase, expectedNext: day numbers)
/// segments                 the exact partial figures of segments.json: customers, revenue (exact
///                          sum), and per stage its partial (RFMReport.Partial, tier profile counts
///                          and exact revenue sums with the scoring notes, interval status counts,
///                          LifetimeReport.Partial)
/// ```
///
/// Every partial merges exactly (integer counts, `ExactSum`, extremes,
/// value counts), so the merged figures are the single run's whatever the
/// number of shards; customers.jsonl is merged by first line, the order of
/// a single run.
public struct ShardOutput: Sendable, Codable {
  static let formatName = "koi-shard-output"
  static let formatVersion = 2
  /// The side file's name in a shard's output directory.
  public static let fileName = "shard.json"

  struct DueEntry: Sendable, Codable, Equatable {
    var firstLine: Int
    var entry: DueListWriter.Entry
  }
  /// Stored as columns, one array per field: decoding an object per entry
  /// (up to a few hundred thousand a shard at 10M rows) was three quarters
  /// of `koi merge --outputs`.
  struct DueList: Sendable, Codable {
    var category: String
    var entries: [DueEntry]

    init(category: String, entries: [DueEntry]) {
      self.category = category
      self.entries = entries
    }

    enum CodingKeys: String, CodingKey {
      case category, firstLine, customerID, probability, status, lastPurchase, expectedNext
    }

    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(category, forKey: .category)
      try c.encode(entries.map(\.firstLine), forKey: .firstLine)
      try c.encode(entries.map(\.entry.customerID), forKey: .customerID)
      try c.encode(entries.map(\.entry.probability), forKey: .probability)
      try c.encode(entries.map(\.entry.status), forKey: .status)
      try c.encode(entries.map(\.entry.lastPurchase), forKey: .lastPurchase)
      try c.encode(entries.map(\.entry.expectedNext), forKey: .expectedNext)
    }

    init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      category = try c.decode(String.self, forKey: .category)
      let firstLine = try c.decode([Int].self, forKey: .firstLine)
      let customerID = try c.decode([String].self, forKey: .customerID)
      let probability = try c.decode([Double].self, forKey: .probability)
      let status = try c.decode([IntervalStatus].self, forKey: .status)
      let lastPurchase = try c.decode([Int32].self, forKey: .lastPurchase)
      let expectedNext = try c.decode([Int32].self, forKey: .expectedNext)
      let n = firstLine.count
      guard
        [customerID.count, probability.count, status.count, lastPurchase.count, expectedNext.count].allSatisfy({
          $0 == n
        })
      else {
        throw DecodingError.dataCorruptedError(
          forKey: .firstLine, in: c, debugDescription: "the due list's columns differ in length")
      }
      entries = (0..<n).map { i in
        DueEntry(
          firstLine: firstLine[i],
          entry: .init(
            customerID: customerID[i], probability: probability[i], status: status[i],
            lastPurchase: lastPurchase[i], expectedNext: expectedNext[i]))
      }
    }
  }
  struct Due: Sendable, Codable {
    var withinDays: Int
    var minimumProbability: Double
    var limit: Int?
    var lists: [DueList]
  }
  struct Tiers: Sendable, Codable {
    var profiles: TierStage.ProfilePartial
    var scoringNotes: [String]
  }
  struct Intervals: Sendable, Codable {
    var status: [[String: Int]]
    var customers: [Int]
  }
  struct Lifetime: Sendable, Codable {
    var horizonDays: Double
    var annualDiscountRate: Double
    var margin: Double
    var partial: LifetimeReport.Partial
  }
  struct Segments: Sendable, Codable {
    var customers = 0
    var revenue = ExactSum()
    var rfm: RFMReport.Partial?
    var tiers: Tiers?
    var intervals: Intervals?
    var lifetime: Lifetime?
  }

  var format = formatName
  var version = formatVersion
  var koiVersion = Koi.version
  var asOf: String
  var customerFirstLines: [Int]
  var rows: RowCounts
  var rejects: [ShardStatistics.RejectRecord]
  var input: RunManifest.Input
  var stages: [String]
  var options: [String: String]
  var warningsBeforeRejects: [String]
  var warningsAfterRejects: [String]
  var due: Due?
  var segments: Segments
}

extension ShardOutput {
  /// The side file of a scoring run on one shard.
  static func make(
    ingest: IngestResult, table: CustomerTable, state: StageRunState, options: ScoreOptions,
    input: RunManifest.Input, before: [String], after: [String]
  ) -> ShardOutput {
    let l = ingest.ledger
    let firstLines = ingest.firstLines?.customer ?? []
    precondition(firstLines.count >= l.customerCount, "first lines of every customer")
    var segments = Segments(customers: table.count, revenue: ExactSum(table.netAmount))
    let rfm = state.outputs[RFMStage.self]
    if let rfm, let m = state.model.rfm { segments.rfm = RFMReport.Partial(columns: rfm, bins: m.bins) }
    if let t = state.outputs[TierStage.self] {
      segments.tiers = Tiers(profiles: TierStage.ProfilePartial(table: table, columns: t), scoringNotes: t.notes)
    }
    var due: Due?
    if let scores = state.outputs[IntervalStage.self], let m = state.model.intervals {
      let c = scores.columns
      var status = [[String: Int]](repeating: [:], count: m.categories.count)
      var customers = [Int](repeating: 0, count: m.categories.count)
      for p in 0..<c.pairCount {
        let k = Int(c.category[p])
        status[k][c.status[p].rawValue, default: 0] += 1
        customers[k] += 1
      }
      segments.intervals = Intervals(status: status, customers: customers)
      let lists = scores.dueLists.enumerated().filter { m.categories[$0.offset].predicts }.map { k, list in
        DueList(
          category: m.categories[k].name,
          entries: list.map { e in
            DueEntry(
              firstLine: firstLines[Int(e.customer)],
              entry: .init(
                customerID: l.customerIDs[Int(e.customer)], probability: e.probability, status: e.status,
                lastPurchase: c.lastPurchaseDay[e.pair], expectedNext: c.expectedNextDay[e.pair]))
          })
      }
      due = Due(
        withinDays: options.dueWithinDays, minimumProbability: options.dueMinimumProbability,
        limit: options.dueLimit, lists: lists)
    }
    if let life = state.outputs[LifetimeStage.self] {
      segments.lifetime = Lifetime(
        horizonDays: options.lifetime.horizonDays, annualDiscountRate: options.lifetime.annualDiscountRate,
        margin: options.lifetime.margin, partial: LifetimeReport.Partial(columns: life, segments: rfm?.segment))
    }
    return ShardOutput(
      asOf: state.model.asOf, customerFirstLines: Array(firstLines.prefix(l.customerCount)), rows: ingest.counts,
      rejects: ingest.rejects.map {
        ShardStatistics.RejectRecord(line: $0.line, reason: $0.reason, field: $0.field, detail: $0.detail, raw: $0.raw)
      },
      input: input, stages: options.stages.map(\.rawValue),
      options: options.echoed, warningsBeforeRejects: before, warningsAfterRejects: after, due: due,
      segments: segments)
  }

  func write(to path: String) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    try AtomicFile.write(try Array(e.encode(self)) + [10], to: path)
  }

  /// Reads a shard's shard.json.
  ///
  /// - Throws: `IngestError` (`.badModel`) for a file that is missing, not
  ///   a shard output, of another format version or Koi version.
  static func read(directory: String) throws -> ShardOutput {
    let path = directory + "/" + fileName
    let at = SourceLocation(path: path)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw IngestError(
        .badModel, "cannot read it; give the output directories of koi score --shard (each has a shard.json).", at: at)
    }
    // The head is checked before the rest is decoded, in the one scan of
    // the document (a second `JSONDecoder.decode` scans it all again).
    struct Head: Decodable {
      var format: String?
      var version: Int?
      var koiVersion: String?
    }
    struct Checked: Decodable {
      var head: Head
      var output: ShardOutput?
      init(from decoder: Decoder) throws {
        head = try Head(from: decoder)
        let current =
          head.format == ShardOutput.formatName && head.version == ShardOutput.formatVersion
          && head.koiVersion == Koi.version
        output = current ? try ShardOutput(from: decoder) : nil
      }
    }
    let checked: Checked
    do {
      checked = try JSONDecoder().decode(Checked.self, from: data)
    } catch {
      // Not JSON, not an object, or a current shard output that is damaged.
      let head = try? JSONDecoder().decode(Head.self, from: data)
      guard head?.format == formatName else {
        throw IngestError(.badModel, "not a Koi shard output (shard.json of koi score --shard).", at: at)
      }
      throw IngestError(.badModel, "a damaged shard.json (\(error)).", at: at)
    }
    guard checked.head.format == formatName else {
      throw IngestError(.badModel, "not a Koi shard output (shard.json of koi score --shard).", at: at)
    }
    guard let s = checked.output else {
      let head = checked.head
      throw IngestError(
        .badModel,
        "it was written by Koi \(head.koiVersion ?? "?") in shard format \(head.version ?? 0); this is Koi \(Koi.version), format \(formatVersion): score the shards again with this Koi.",
        at: at)
    }
    if let t = s.segments.tiers, t.profiles.size.count != 5 || t.profiles.revenue.count != 5 {
      throw IngestError(.badModel, "its tier profiles need one figure per tier.", at: at)
    }
    return s
  }
}
