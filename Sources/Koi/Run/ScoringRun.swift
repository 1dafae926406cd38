import Foundation

/// The stages a scoring run can run, in pipeline order.
public enum StageName: String, CaseIterable, Sendable, Codable {
  case rfm
}

/// What a long run reports while it works. The library never prints; the
/// command line turns these into a progress line or log records.
public enum ProgressEvent: Sendable {
  case reading(bytesRead: Int64, totalBytes: Int64)
  case stage(String)
  case writing(String)
}

/// Options of `koi score`.
public struct ScoreOptions: Sendable {
  public var inputPath: String
  public var outputDirectory: String
  public var ingest = IngestOptions()
  public var stages: [StageName] = StageName.allCases
  public var rfm = RFMStage.Options()
  /// model.json of the previous successful scheduled run (`koi run`), for
  /// stages that warm-start from it (tier labels); nil for `koi score`.
  public var warmStartModelPath: String?

  public init(inputPath: String, outputDirectory: String) {
    self.inputPath = inputPath
    self.outputDirectory = outputDirectory
  }

  /// The options as echoed in run.json.
  var echoed: [String: String] {
    var o: [String: String] = [
      "encoding": ingest.encoding.rawValue,
      "strict": String(ingest.strict),
      "stages": stages.map(\.rawValue).joined(separator: ","),
      "rfm_bins": String(rfm.bins),
    ]
    if let d = ingest.asOfDay { o["as_of"] = DayNumber.format(d) }
    for (k, v) in ingest.columnOverrides { o["column.\(k)"] = v }
    return o
  }
}

/// The outcome of a scoring run: the manifest plus the in-memory results,
/// for callers (tests, other programs) that want more than the files.
public struct ScoringResult: Sendable {
  public var manifest: RunManifest
  public var ledger: Ledger
  public var table: CustomerTable
  public var model: Model
  public var rfm: RFMColumns?
}

/// `koi score`: ingest one file, run the chosen stages, write the results.
///
/// Output files (customers.jsonl, segments.json, model.json, rejects.csv,
/// run.json) are each written under a temporary name and renamed into
/// place; run.json goes last, so its presence marks a complete run.
public enum ScoringRun {
  public static func run(
    _ options: ScoreOptions, progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> ScoringResult {
    let started = Date()
    var seconds: [String: Double] = [:]
    var clock = Date()
    func lap(_ name: String) {
      let now = Date()
      seconds[name] = rounded(now.timeIntervalSince(clock), 3)
      clock = now
    }
    try prepareDirectory(options.outputDirectory)

    progress(.stage("ingest"))
    let ingest = try TransactionReader.read(path: options.inputPath, options: options.ingest) {
      progress(.reading(bytesRead: $0, totalBytes: $1))
    }
    let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
    lap("ingest")

    var warnings: [String] = []
    if ingest.encodingDetected {
      warnings.append("the input is not UTF-8; it was read as GB18030 (detected). Pass --encoding to make this explicit.")
    }
    if ingest.counts.rejected > 0 {
      warnings.append("\(ingest.counts.rejected) of \(ingest.counts.read) rows were rejected; see rejects.csv.")
    }

    var model = Model(
      koiVersion: Koi.version, asOf: DayNumber.format(ingest.asOfDay),
      categories: ingest.ledger.categories, rfm: nil)
    var fields: [any CustomerRecordFields] = []
    var rfmColumns: RFMColumns?
    var report = SegmentsReport(asOf: model.asOf, customers: table.count, revenue: rounded(table.netAmount.reduce(0, +), 2))

    if options.stages.contains(.rfm) {
      progress(.stage("rfm"))
      let m = RFMStage.fit(table, options: options.rfm)
      let cols = RFMStage.score(table, model: m)
      model.rfm = m
      rfmColumns = cols
      fields.append(RFMRecordFields(table: table, columns: cols))
      report.rfm = RFMReport(columns: cols, bins: m.bins)
      lap("rfm")
    }

    progress(.writing("customers.jsonl"))
    let dir = URL(fileURLWithPath: options.outputDirectory)
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    try CustomersWriter.write(to: path("customers.jsonl"), customerIDs: ingest.ledger.customerIDs, fields: fields)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(report)) + [10], to: path("segments.json"))
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(model)) + [10], to: path("model.json"))
    try RejectsWriter.write(ingest.rejects, to: path("rejects.csv"))
    lap("write")
    seconds["total"] = rounded(Date().timeIntervalSince(started), 3)

    var columns: [String: String] = [:]
    for (c, i) in ingest.mapping.index { columns[c.rawValue] = ingest.mapping.header[i] }
    let manifest = RunManifest(
      koiVersion: Koi.version, command: "score",
      startedAt: iso8601(started), finishedAt: iso8601(Date()),
      input: .init(
        path: options.inputPath, sha256: ingest.sha256, bytes: ingest.bytes,
        encoding: ingest.encoding.rawValue, encodingDetected: ingest.encodingDetected,
        columns: columns),
      asOf: model.asOf,
      asOfSource: options.ingest.asOfDay == nil ? "last_transaction_plus_one" : "option",
      rows: ingest.counts, customers: table.count, categories: ingest.ledger.categories.count,
      stages: options.stages.map(\.rawValue), options: options.echoed, seconds: seconds,
      outputs: ["customers.jsonl", "segments.json", "model.json", "rejects.csv", "run.json"],
      warnings: warnings)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(manifest)) + [10], to: path("run.json"))
    return ScoringResult(manifest: manifest, ledger: ingest.ledger, table: table, model: model, rfm: rfmColumns)
  }

  static func prepareDirectory(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw OutputError(path: path, message: "exists and is not a directory; choose another --out")
      }
      return
    }
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw OutputError(path: path, message: "cannot create the output directory (\(error.localizedDescription))")
    }
  }

  static func iso8601(_ d: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: d)
  }
}

/// segments.json: population totals and one section per stage.
public struct SegmentsReport: Sendable, Codable {
  public var asOf: String
  public var customers: Int
  public var revenue: Double
  public var rfm: RFMReport?

  public init(asOf: String, customers: Int, revenue: Double) {
    self.asOf = asOf
    self.customers = customers
    self.revenue = revenue
  }

  enum CodingKeys: String, CodingKey {
    case asOf = "as_of"
    case customers, revenue, rfm
  }
}
