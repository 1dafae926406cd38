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
    directory: String, previous: [String: (segment: String?, tier: Int?)]? = nil, scoring: ScoringResult? = nil
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

/// Aggregates of customers.jsonl for the report, merged one record at a
/// time: O(bins² + categories × weeks + log bins) memory whatever the
/// customer count.
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
  private(set) var revenue = 0.0
  /// [R − 1][F + M − 2]: customers and net revenue.
  private(set) var gridCustomers: [[Double]]
  private(set) var gridRevenue: [[Double]]
  private(set) var pAlive = BinnedCounts(lower: 0, upper: 1, bins: 20)
  private(set) var withLifetime = 0
  private(set) var active = 0
  private(set) var expectedRevenue = 0.0
  private(set) var clv = LogBinnedSums()
  /// Tier id (1–4) → (customers, CLV sum).
  private(set) var clvByTier: [Int: (customers: Int, clv: Double)] = [:]
  private(set) var clvBySegment: [String: (customers: Int, clv: Double)] = [:]
  /// Treatment → expected purchases in each of the next 12 weeks.
  private(set) var dueWeeks: [String: [Double]] = [:]
  private(set) var withRepurchase = 0
  /// Migration from the previous run: "previous|current" → customers.
  let previous: [String: (segment: String?, tier: Int?)]?
  private(set) var segmentMoves: [String: Int] = [:]
  private(set) var tierMoves: [String: Int] = [:]
  private(set) var newCustomers = 0

  init(bins: Int, previous: [String: (segment: String?, tier: Int?)]? = nil) {
    self.bins = max(1, bins)
    gridCustomers = Array(repeating: Array(repeating: 0, count: 2 * self.bins - 1), count: self.bins)
    gridRevenue = gridCustomers
    self.previous = previous
  }

  mutating func add(_ r: Record) {
    customers += 1
    let m = r.monetary ?? 0
    revenue += m
    if let rs = r.rScore, let fs = r.fScore, let ms = r.mScore, (1...bins).contains(rs), (1...bins).contains(fs),
      (1...bins).contains(ms)
    {
      gridCustomers[rs - 1][fs + ms - 2] += 1
      gridRevenue[rs - 1][fs + ms - 2] += m
    }
    if let l = r.lifetime, let p = l.pAlive {
      withLifetime += 1
      pAlive.add(p)
      if p >= 0.5 { active += 1 }
      if let e = l.expectedPurchases, let s = l.expectedSpend { expectedRevenue += e * s }
      let v = l.clv ?? 0
      clv.add(v)
      if let t = r.tier?.id { clvByTier[t, default: (0, 0)].customers += 1; clvByTier[t, default: (0, 0)].clv += v }
      if let s = r.segment {
        clvBySegment[s, default: (0, 0)].customers += 1
        clvBySegment[s, default: (0, 0)].clv += v
      }
    }
    if let reps = r.repurchase {
      withRepurchase += 1
      for rep in reps {
        guard let p30 = rep.probability30d else { continue }
        let w = DueCalendar.weekly(p30: p30, p60: rep.probability60d, p90: rep.probability90d)
        // Summed in place: a copy per pair would allocate.
        dueWeeks[rep.category, default: Array(repeating: 0, count: w.count)].withUnsafeMutableBufferPointer { acc in
          for i in w.indices { acc[i] += w[i] }
        }
      }
    }
    if let previous {
      if let p = previous[r.customerID] {
        segmentMoves["\(p.segment ?? "")|\(r.segment ?? "")", default: 0] += 1
        tierMoves["\(p.tier.map(String.init) ?? "")|\(r.tier?.id.map(String.init) ?? "")", default: 0] += 1
      } else {
        newCustomers += 1
      }
    }
  }

  /// Adds every customer of a run's columns: the aggregates of the
  /// customers.jsonl that `fields` write (in customer order, with the
  /// values read back as `JSONWriter.valueAsRead` gives them), without
  /// writing or reading the text, which took 4.8 s at 10M rows.
  mutating func add(customerIDs: [String], fields: [any CustomerRecordFields]) {
    let readers = fields.compactMap { $0 as? any ReportRecordFields }
    // One record, each stage overwriting its own fields: the fields of a
    // stage that did not run stay nil, as they are absent from the file.
    var r = Record(customerID: "")
    for c in customerIDs.indices {
      r.customerID = customerIDs[c]
      for f in readers { f.read(customer: c, into: &r) }
      add(r)
    }
  }

  /// Adds every record of the customers.jsonl at `path`.
  mutating func read(path: String) throws {
    try Self.stream(path: path) { add($0) }
  }

  /// Streams `path` in 8 MiB blocks and hands each record to `body`, in
  /// file order. The lines of a block are decoded on every core, by
  /// `CustomerLineScanner` (`JSONDecoder` for what it does not accept);
  /// `body` runs on the calling thread, so aggregates need no locks and
  /// come out the same whatever the core count.
  static func stream(path: String, _ body: (Record) throws -> Void) throws {
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
      for r in try decode(lines, firstLine: line + 1, path: path) { try body(r) }
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
