import Foundation

/// A run directory that cannot be reported on: a file missing (exit code 3)
/// or unreadable as Koi output (truncated, from an unknown Koi: exit code
/// 2). The message names the file and says what to do.
public struct ReportError: Error, Sendable, CustomStringConvertible {
  public enum Kind: Sendable { case missing, invalid }
  public let kind: Kind
  public let path: String
  public let message: String
  public var description: String { "\(path): \(message)" }
}

/// What report.html is made of, read from a run directory: run.json,
/// segments.json, model.json, due.json and rejects.csv as decoded
/// documents (every field optional, so files of an older Koi still read),
/// and aggregates of customers.jsonl, streamed (no per-customer rows kept).
struct ReportInputs: Sendable {
  struct RunFile: Decodable, Sendable {
    struct Rows: Decodable, Sendable {
      var read: Int?
      var used: Int?
      var rejected: Int?
      var blankLines: Int?
      var rejectedByReason: [String: Int]?
    }
    struct Input: Decodable, Sendable {
      var encoding: String?
      var encodingDetected: Bool?
      var columns: [String: String]?
    }
    var koiVersion: String?
    var command: String?
    var asOf: String?
    var customers: Int?
    var stages: [String]?
    var rows: Rows?
    var input: Input?
    var options: [String: String]?
    var warnings: [String]?
  }

  struct SegmentsFile: Decodable, Sendable {
    struct RFM: Decodable, Sendable {
      struct Segment: Decodable, Sendable {
        var segment: String
        var customers: Int
        var shareOfCustomers: Double?
        var revenue: Double?
        var shareOfRevenue: Double?
      }
      var bins: Int?
      var segments: [Segment]?
      /// `top_20_percent_revenue_share` (the decoder's snake-case
      /// conversion gives this spelling).
      var top20PercentRevenueShare: Double?
    }
    struct Tiers: Decodable, Sendable {
      struct Tier: Decodable, Sendable {
        struct Axes: Decodable, Sendable {
          var savvy: Double?
          var priceSensitivity: Double?
        }
        var id: String
        var size: Int
        var share: Double?
        var revenueShare: Double?
        var centroid: [String: Double]?
        var axes: Axes?
      }
      var k: Int?
      var features: [String]?
      var tiers: [Tier]?
    }
    struct Intervals: Decodable, Sendable {
      struct Category: Decodable, Sendable {
        var category: String
        var basis: String?
        var family: String?
        var medianGapDays: Double?
        var customers: Int?
        var status: [String: Int]?
        var dueListed: Int?
      }
      var dueWithinDays: Int?
      var categories: [Category]?
    }
    struct Lifetime: Decodable, Sendable {
      struct Group: Decodable, Sendable {
        var group: String
        var customers: Int?
        var meanPAlive: Double?
        var clv: Double?
        var shareOfClv: Double?
      }
      var chosen: String?
      var horizonDays: Int?
      var annualDiscountRate: Double?
      var margin: Double?
      var total: Group?
      var bySegment: [Group]?
    }
    var asOf: String?
    var customers: Int?
    var revenue: Double?
    var rfm: RFM?
    var tiers: Tiers?
    var intervals: Intervals?
    var lifetime: Lifetime?
  }

  struct ModelFile: Decodable, Sendable {
    struct Intervals: Decodable, Sendable {
      struct Category: Decodable, Sendable {
        var name: String
        var basis: String?
        var family: String?
        var coefficients: [Double]?
        var logScale: Double?
      }
      var categories: [Category]?
    }
    struct Fit: Decodable, Sendable {
      var parameters: [String: Double]?
      var logLikelihood: Double?
    }
    struct Lifetime: Decodable, Sendable {
      var chosen: String?
      var bgNbd: Fit?
      var mbgCnbdK: Fit?
      var gammaGamma: Fit?
    }
    var intervals: Intervals?
    var lifetime: Lifetime?
  }

  /// First examples of rejected rows (never their text: it may hold ids).
  struct RejectExample: Sendable {
    var file: String?
    var line: String
    var reason: String
    var field: String
  }

  var directory: String
  var run: RunFile
  var segments: SegmentsFile
  var model: ModelFile?
  var customers: CustomerAggregates
  var rejectExamples: [RejectExample]?
  /// Files the report looked for and did not find (model.json, rejects.csv).
  var missing: [String] = []

  static func decoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }

  /// Reads `directory`. `previous`: the previous run's customers (id →
  /// segment, tier), for the migration matrices. `scoring`: the run that
  /// wrote `directory`, whose columns stand in for its customers.jsonl.
  static func read(
    directory: String, previous: PreviousCustomers? = nil, scoring: ScoringResult? = nil
  ) throws -> ReportInputs {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
      throw ReportError(
        kind: .missing, path: directory,
        message: "no such directory; give the --out directory of koi score or a run directory of koi run")
    }
    func load<T: Decodable>(_ name: String, _ type: T.Type) throws -> T? {
      let path = directory + "/" + name
      guard fm.fileExists(atPath: path) else { return nil }
      guard let data = fm.contents(atPath: path) else {
        throw ReportError(kind: .missing, path: path, message: "cannot be read; check its permissions")
      }
      do { return try decoder().decode(T.self, from: data) } catch {
        throw ReportError(
          kind: .invalid, path: path,
          message:
            "is not Koi output this version can read (\(describe(error))); the file may be truncated: run koi score again"
        )
      }
    }
    guard let run = try load("run.json", RunFile.self) else {
      throw ReportError(
        kind: .missing, path: directory + "/run.json",
        message: "missing: this is not a Koi results directory, or its run did not finish; run koi score again")
    }
    guard run.rows != nil, run.customers != nil, run.asOf != nil else {
      throw ReportError(
        kind: .invalid, path: directory + "/run.json",
        message: "lacks rows, customers or as_of: written by an older or newer Koi; run koi score again with this one")
    }
    guard let segments = try load("segments.json", SegmentsFile.self) else {
      throw ReportError(
        kind: .missing, path: directory + "/segments.json",
        message: "missing; the run directory is incomplete: run koi score again")
    }
    var missing: [String] = []
    let model = try load("model.json", ModelFile.self)
    if model == nil { missing.append("model.json") }
    let customersPath = directory + "/customers.jsonl"
    guard fm.fileExists(atPath: customersPath) else {
      throw ReportError(
        kind: .missing, path: customersPath, message: "missing; the run directory is incomplete: run koi score again")
    }
    var aggregates = CustomerAggregates(bins: segments.rfm?.bins ?? 5, previous: previous)
    if let scoring {
      aggregates.add(customerIDs: scoring.ledger.customerIDs, fields: scoring.recordFields)
    } else {
      try aggregates.read(path: customersPath)
    }
    if aggregates.customers != run.customers {
      throw ReportError(
        kind: .invalid, path: customersPath,
        message:
          "has \(aggregates.customers) customers, run.json says \(run.customers ?? 0): the file is truncated or from another run; run koi score again"
      )
    }
    let rejectsPath = directory + "/rejects.csv"
    var examples: [RejectExample]?
    if fm.fileExists(atPath: rejectsPath) {
      examples = RejectsSample.read(path: rejectsPath, perReason: 3)
    } else {
      missing.append("rejects.csv")
    }
    return ReportInputs(
      directory: directory, run: run, segments: segments, model: model, customers: aggregates,
      rejectExamples: examples, missing: missing)
  }

  static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let c): return c.debugDescription
    case DecodingError.keyNotFound(let k, let c):
      return "no \((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
      return "unexpected value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
    default: return "\(error)"
    }
  }
}

/// A stage's part of a customers.jsonl record that the report aggregates,
/// taken from the stage's columns instead of the file.
protocol ReportRecordFields: CustomerRecordFields {
  /// Sets this stage's fields of `r` to what a reader of the record that
  /// `write(customer: c, into:)` writes gets from it.
  func read(customer c: Int, into r: inout CustomerAggregates.Record)
}

/// Aggregates of customers.jsonl for the report, added one record at a
/// time in chunks of customers that are then merged: O(bins² + categories
/// + log bins) memory whatever the customer count.
struct CustomerAggregates: Sendable {
  /// One line of customers.jsonl, the fields the report uses (keys as in
  /// the file: the snake-case conversion would not give `probability_30d`).
  struct Record: Decodable, Equatable {
    struct Tier: Decodable, Equatable { var id: Int? }
    struct Repurchase: Decodable, Equatable {
      var category: String
      var probability30d: Double?
      var probability60d: Double?
      var probability90d: Double?
      enum CodingKeys: String, CodingKey {
        case category
        case probability30d = "probability_30d"
        case probability60d = "probability_60d"
        case probability90d = "probability_90d"
      }
    }
    struct Lifetime: Decodable, Equatable {
      var pAlive: Double?
      var expectedPurchases: Double?
      var expectedSpend: Double?
      var clv: Double?
      enum CodingKeys: String, CodingKey {
        case pAlive = "p_alive"
        case expectedPurchases = "expected_purchases"
        case expectedSpend = "expected_spend"
        case clv
      }
    }
    var customerID: String
    var monetary: Double?
    var rScore: Int?
    var fScore: Int?
    var mScore: Int?
    var segment: String?
    var tier: Tier?
    var repurchase: [Repurchase]?
    var lifetime: Lifetime?
    enum CodingKeys: String, CodingKey {
      case customerID = "customer_id"
      case monetary
      case rScore = "r_score"
      case fScore = "f_score"
      case mScore = "m_score"
      case segment, tier, repurchase, lifetime
    }
  }

  let bins: Int
  private(set) var customers = 0
  /// [R − 1][F + M − 2]: customers.
  private(set) var gridCustomers: [[Double]]
  private(set) var pAlive = BinnedCounts(lower: 0, upper: 1, bins: 20)
  private(set) var withLifetime = 0
  private(set) var active = 0
  private(set) var clv = LogBinnedSums()
  private(set) var withRepurchase = 0
  /// Migration from the previous run: "previous|current" → customers.
  let previous: PreviousCustomers?
  private(set) var segmentMoves: [String: Int] = [:]
  private(set) var tierMoves: [String: Int] = [:]
  private(set) var newCustomers = 0
  // The sums are exact: parts of the customers are aggregated on every core
  // and merged, and an exact sum is the same whatever the order.
  private var revenueSum = ExactSum()
  /// As `gridCustomers`: net revenue.
  private var gridRevenueSums: [[ExactSum]]
  private var expectedRevenueSum = ExactSum()
  private var clvByTierSums: [Int: (customers: Int, clv: ExactSum)] = [:]
  private var clvBySegmentSums: [String: (customers: Int, clv: ExactSum)] = [:]
  /// Treatment → the summed clamped probabilities of `DueCalendar`.
  private var dueSums: [String: (ExactSum, ExactSum, ExactSum)] = [:]

  init(bins: Int, previous: PreviousCustomers? = nil) {
    self.bins = max(1, bins)
    gridCustomers = Array(repeating: Array(repeating: 0, count: 2 * self.bins - 1), count: self.bins)
    gridRevenueSums = Array(repeating: Array(repeating: ExactSum(), count: 2 * self.bins - 1), count: self.bins)
    self.previous = previous
  }

  var revenue: Double { revenueSum.value }
  var gridRevenue: [[Double]] { gridRevenueSums.map { $0.map(\.value) } }
  var expectedRevenue: Double { expectedRevenueSum.value }
  /// Tier id (1–4) → (customers, CLV sum).
  var clvByTier: [Int: (customers: Int, clv: Double)] { clvByTierSums.mapValues { ($0.customers, $0.clv.value) } }
  var clvBySegment: [String: (customers: Int, clv: Double)] {
    clvBySegmentSums.mapValues { ($0.customers, $0.clv.value) }
  }
  /// Treatment → expected purchases in each of the next 12 weeks.
  var dueWeeks: [String: [Double]] { dueSums.mapValues { DueCalendar.weekly($0.0.value, $0.1.value, $0.2.value) } }

  /// Adds customer `customer` of the run, whose record is `r` (the index
  /// matters only to `PreviousCustomers.byCustomer`).
  mutating func add(_ r: Record, customer: Int) {
    customers += 1
    let m = r.monetary ?? 0
    revenueSum.add(m)
    if let rs = r.rScore, let fs = r.fScore, let ms = r.mScore, (1...bins).contains(rs), (1...bins).contains(fs),
      (1...bins).contains(ms)
    {
      gridCustomers[rs - 1][fs + ms - 2] += 1
      gridRevenueSums[rs - 1][fs + ms - 2].add(m)
    }
    if let l = r.lifetime, let p = l.pAlive {
      withLifetime += 1
      pAlive.add(p)
      if p >= 0.5 { active += 1 }
      if let e = l.expectedPurchases, let s = l.expectedSpend { expectedRevenueSum.add(e * s) }
      let v = l.clv ?? 0
      clv.add(v)
      // Each group found once (a hash of its key), then updated in place.
      func count(_ g: inout (customers: Int, clv: ExactSum)) {
        g.customers += 1
        g.clv.add(v)
      }
      if let t = r.tier?.id { count(&clvByTierSums[t, default: (0, ExactSum())]) }
      if let s = r.segment { count(&clvBySegmentSums[s, default: (0, ExactSum())]) }
    }
    if let reps = r.repurchase {
      withRepurchase += 1
      for rep in reps {
        guard let p30 = rep.probability30d else { continue }
        func add(_ sums: inout (ExactSum, ExactSum, ExactSum)) {
          let (a, b, c) = DueCalendar.clamped(p30: p30, p60: rep.probability60d, p90: rep.probability90d)
          sums.0.add(a)
          sums.1.add(b)
          sums.2.add(c)
        }
        add(&dueSums[rep.category, default: (ExactSum(), ExactSum(), ExactSum())])
      }
    }
    if let previous {
      let p: PreviousCustomer?
      switch previous {
      case .byID(let m): p = m[r.customerID]
      case .byCustomer(let a): p = a[customer]
      }
      if let p {
        segmentMoves["\(p.segment ?? "")|\(r.segment ?? "")", default: 0] += 1
        tierMoves["\(p.tier.map(String.init) ?? "")|\(r.tier?.id.map(String.init) ?? "")", default: 0] += 1
      } else {
        newCustomers += 1
      }
    }
  }

  /// Adds the customers `other` holds (the same `bins` and `previous`).
  mutating func merge(_ other: CustomerAggregates) {
    customers += other.customers
    revenueSum.merge(other.revenueSum)
    for i in gridCustomers.indices {
      for j in gridCustomers[i].indices {
        gridCustomers[i][j] += other.gridCustomers[i][j]
        gridRevenueSums[i][j].merge(other.gridRevenueSums[i][j])
      }
    }
    pAlive.merge(other.pAlive)
    withLifetime += other.withLifetime
    active += other.active
    expectedRevenueSum.merge(other.expectedRevenueSum)
    clv.merge(other.clv)
    func merge(_ g: inout (customers: Int, clv: ExactSum), _ h: (customers: Int, clv: ExactSum)) {
      g.customers += h.customers
      g.clv.merge(h.clv)
    }
    for (t, g) in other.clvByTierSums { merge(&clvByTierSums[t, default: (0, ExactSum())], g) }
    for (s, g) in other.clvBySegmentSums { merge(&clvBySegmentSums[s, default: (0, ExactSum())], g) }
    for (category, d) in other.dueSums {
      func merge(_ sums: inout (ExactSum, ExactSum, ExactSum)) {
        sums.0.merge(d.0)
        sums.1.merge(d.1)
        sums.2.merge(d.2)
      }
      merge(&dueSums[category, default: (ExactSum(), ExactSum(), ExactSum())])
    }
    withRepurchase += other.withRepurchase
    segmentMoves.merge(other.segmentMoves, uniquingKeysWith: +)
    tierMoves.merge(other.tierMoves, uniquingKeysWith: +)
    newCustomers += other.newCustomers
  }

  /// The aggregates of customers `0..<count`, `fill(c, &record)` setting
  /// customer c's record, made in chunks on every core and merged.
  static func of(
    count: Int, bins: Int, previous: PreviousCustomers?, minimumChunk: Int,
    _ fill: (Int, inout Record) -> Void
  ) -> CustomerAggregates {
    let chunks = Parallel.chunkCount(for: count, minimumChunk: minimumChunk)
    let parts = Parallel.map(chunks) { k in
      var part = CustomerAggregates(bins: bins, previous: previous)
      var r = Record(customerID: "")
      for c in Parallel.chunk(k, of: chunks, count: count) {
        fill(c, &r)
        part.add(r, customer: c)
      }
      return part
    }
    var all = CustomerAggregates(bins: bins, previous: previous)
    for p in parts { all.merge(p) }
    return all
  }

  /// Adds every customer of a run's columns: the aggregates of the
  /// customers.jsonl that `fields` write (the values read back as
  /// `JSONWriter.valueAsRead` gives them), without writing or reading the
  /// text, which took 4.8 s at 10M rows.
  mutating func add(customerIDs: [String], fields: [any CustomerRecordFields]) {
    let readers = fields.compactMap { $0 as? any ReportRecordFields }
    // One record a chunk, each stage overwriting its own fields: the fields
    // of a stage that did not run stay nil, as they are absent from the file.
    merge(
      Self.of(count: customerIDs.count, bins: bins, previous: previous, minimumChunk: 16_384) { [previous] c, r in
        // Only the migration matrices read the id, and only by id.
        if case .byID = previous { r.customerID = customerIDs[c] }
        // In place: `for f in readers` would copy each stage's fields out of
        // the array, retaining and releasing every column they hold, for
        // every customer (as in `CustomersWriter.format`).
        for i in readers.indices { readers[i].read(customer: c, into: &r) }
      })
  }

  /// Adds every record of the customers.jsonl at `path` (previous
  /// customers by id: a record's index is not the run's).
  mutating func read(path: String) throws {
    if case .byCustomer = previous { preconditionFailure("a file's customers are matched to the previous run by id") }
    try Self.stream(blocksAt: path) { records in
      merge(
        Self.of(count: records.count, bins: bins, previous: previous, minimumChunk: 1_024) { i, r in r = records[i] })
    }
  }

  /// Streams `path` in 8 MiB blocks and hands each block's records to
  /// `body`, in file order. The lines of a block are decoded on every core,
  /// by `CustomerLineScanner` (`JSONDecoder` for what it does not accept);
  /// `body` runs on the calling thread.
  static func stream(blocksAt path: String, _ body: ([Record]) throws -> Void) throws {
    guard let file = FileHandle(forReadingAtPath: path) else {
      throw ReportError(kind: .missing, path: path, message: "cannot be read; check its permissions")
    }
    defer { try? file.close() }
    var pending = Data()
    var line = 0
    func take(_ block: Data) throws {
      // Line boundaries by a plain byte scan (`Data.split` cost more than
      // the decoding here).
      var lines: [Data] = []
      block.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var start = 0
        for i in 0..<raw.count where raw[i] == 10 {
          lines.append(block[(block.startIndex + start)..<(block.startIndex + i)])
          start = i + 1
        }
        lines.append(block[(block.startIndex + start)..<block.endIndex])
      }
      try body(try decode(lines, firstLine: line + 1, path: path))
      line += lines.count
    }
    while let block = try file.read(upToCount: 8 << 20), !block.isEmpty {
      pending.append(block)
      guard let last = pending.lastIndex(of: 10) else { continue }
      try take(pending[pending.startIndex..<last])
      pending = Data(pending[pending.index(after: last)...])
    }
    if !pending.isEmpty { try take(pending) }
  }

  /// Decodes `lines` (empty ones skipped) in parallel chunks; the error of
  /// the first bad line, if any, names it.
  static func decode(_ lines: [Data], firstLine: Int, path: String) throws -> [Record] {
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 256))
    var parts = [[Record]](repeating: [], count: workers)
    var failures = [(line: Int, error: Error)?](repeating: nil, count: workers)
    parts.withUnsafeMutableBufferPointer { parts in
      failures.withUnsafeMutableBufferPointer { failures in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
          let decoder = JSONDecoder()
          let range = (w * lines.count / workers)..<((w + 1) * lines.count / workers)
          var out: [Record] = []
          out.reserveCapacity(range.count)
          for i in range where !lines[i].isEmpty {
            if let r = CustomerLineScanner.record(lines[i]) {
              out.append(r)
              continue
            }
            do { out.append(try decoder.decode(Record.self, from: lines[i])) } catch {
              failures[w] = (firstLine + i, error)
              break
            }
          }
          parts[w] = out
        }
      }
    }
    if let (line, error) = failures.compactMap({ $0 }).first {
      throw ReportError(
        kind: .invalid, path: "\(path):\(line)",
        message:
          "not a complete customer record (\(ReportInputs.describe(error))); the file is truncated or damaged: run koi score again"
      )
    }
    return parts.flatMap { $0 }
  }
}

/// The first rows of rejects.csv for each reason: file, line, reason and
/// field only (the raw text and detail may hold customer ids).
enum RejectsSample {
  /// Reads records (quotes may hold line breaks) until every reason seen
  /// has `perReason` examples or 200,000 records were read.
  static func read(path: String, perReason: Int) -> [ReportInputs.RejectExample] {
    guard let file = FileHandle(forReadingAtPath: path) else { return [] }
    defer { try? file.close() }
    var out: [ReportInputs.RejectExample] = []
    var perCount: [String: Int] = [:]
    var header: [String]?
    var field = [UInt8]()
    var record: [String] = []
    var inQuotes = false
    var afterQuote = false
    var records = 0
    func endRecord() -> Bool {
      record.append(String(decoding: field, as: UTF8.self))
      field.removeAll(keepingCapacity: true)
      defer { record.removeAll(keepingCapacity: true) }
      guard let h = header else {
        var first = record
        if let f = first.first, f.hasPrefix("\u{FEFF}") { first[0] = String(f.dropFirst()) }
        header = first
        return true
      }
      records += 1
      func col(_ name: String) -> String? { h.firstIndex(of: name).flatMap { $0 < record.count ? record[$0] : nil } }
      guard let reason = col("reason"), let line = col("line") else { return records < 200_000 }
      if perCount[reason, default: 0] < perReason {
        perCount[reason, default: 0] += 1
        out.append(.init(file: col("file"), line: line, reason: reason, field: col("field") ?? ""))
      }
      return records < 200_000
    }
    reading: while let block = try? file.read(upToCount: 1 << 20), !block.isEmpty {
      for b in block {
        if inQuotes {
          if b == UInt8(ascii: "\"") { inQuotes = false; afterQuote = true } else { field.append(b) }
          continue
        }
        switch b {
        case UInt8(ascii: "\""):
          if afterQuote { field.append(b) }
          inQuotes = true
          afterQuote = false
        case UInt8(ascii: ","):
          record.append(String(decoding: field, as: UTF8.self))
          field.removeAll(keepingCapacity: true)
          afterQuote = false
        case 10:
          afterQuote = false
          if !endRecord() { break reading }
        case 13: afterQuote = false
        default:
          afterQuote = false
          field.append(b)
        }
      }
    }
    if !field.isEmpty || !record.isEmpty { _ = endRecord() }
    return out
  }
}
