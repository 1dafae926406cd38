import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The stages a scoring run can run, in pipeline order.
public enum StageName: String, CaseIterable, Sendable, Codable {
  case rfm
  case tiers
  case intervals
  case lifetime
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
  /// The inputs as named: files, directories, globs, `-` (`InputList`).
  public var inputs: [String]
  /// The inputs as one string (run.json `input.path`); setting it names
  /// one input.
  public var inputPath: String {
    get { inputs.joined(separator: " ") }
    set { inputs = [newValue] }
  }
  public var outputDirectory: String
  public var ingest = IngestOptions()
  public var stages: [StageName] = StageName.allCases
  public var rfm = RFMStage.Options()
  public var tiers = TierOptions()
  /// A previous run's model.json (`--init-model`, or the previous
  /// successful scheduled run's): the tier fit starts from its centroids so
  /// tier identities stay stable between runs.
  public var initModelPath: String?
  public var intervals = IntervalOptions()
  /// Window of the due lists, days.
  public var dueWithinDays = 30
  /// Customers below this probability of buying within the window are left
  /// off the due lists.
  public var dueMinimumProbability = 0.25
  /// At most this many customers per category's due list (nil: no cap).
  public var dueLimit: Int?
  public var lifetime = LifetimeOptions()
  /// Treatments known to be one-off whatever the data says (configuration).
  public var oneOffCategories: Set<String> = []
  /// SCRM tag rules evaluated per customer into customers.jsonl `tags`.
  public var tagRules: [TagRule] = TagRule.defaults
  /// The subcommand recorded in run.json `command`: `score`, or `run` for
  /// a scheduled run.
  public var command = "score"

  public init(inputPath: String, outputDirectory: String) {
    self.inputs = [inputPath]
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
    o["tiers_k"] = String(tiers.k)
    o["tiers_restarts"] = String(tiers.restarts)
    o["seed"] = String(tiers.seed)
    if let initModelPath { o["init_model"] = initModelPath }
    if let sheet = ingest.sheet { o["sheet"] = sheet }
    if ingest.headerRow != 1 { o["header_row"] = String(ingest.headerRow) }
    if ingest.duplicates != .report { o["duplicates"] = ingest.duplicates.rawValue }
    o["due_within_days"] = String(dueWithinDays)
    o["due_minimum_probability"] = String(dueMinimumProbability)
    if let dueLimit { o["due_limit"] = String(dueLimit) }
    o["horizon_days"] = String(lifetime.horizonDays)
    o["discount_rate"] = String(lifetime.annualDiscountRate)
    o["margin"] = String(lifetime.margin)
    o["max_erlang_k"] = String(lifetime.maximumErlangK)
    for (k, v) in intervals.priors { o["prior.\(k)"] = String(v) }
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
  public var tiers: TierColumns?
  public var intervals: IntervalColumns?
  public var lifetime: LifetimeColumns?
  /// What tag rules and campaign lists look at, and the tags themselves.
  public var facts: CustomerFactTable
  public var tags: [[String]]
}

/// `koi score`: ingest one file, run the chosen stages, write the results.
///
/// Output files (customers.jsonl, segments.json, model.json, rejects.csv,
/// due.json, run.json) are all written into a staging directory inside the
/// output directory and, once every one is complete, moved into place
/// together (`StagingDirectory`), run.json last: a run that fails (a full
/// disk) or is killed while writing leaves the previous results as they
/// were.
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
    // Every output is written here first and published together at the end.
    let staging = try StagingDirectory(destination: options.outputDirectory)

    progress(.stage("ingest"))
    let inputs = try InputList.expand(options.inputs)
    let ingest = try TransactionReader.read(inputs: inputs, options: options.ingest) {
      progress(.reading(bytesRead: $0, totalBytes: $1))
    }
    let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
    lap("ingest")

    var warnings: [String] = []
    if ingest.encodingDetected {
      warnings.append("the input is not UTF-8; it was read as GB18030 (detected). Pass --encoding to make this explicit.")
    }
    warnings += ingest.warnings
    if ingest.counts.rejected > 0 {
      warnings.append("\(ingest.counts.rejected) of \(ingest.counts.read) rows were rejected; see rejects.csv.")
    }

    var model = Model(
      koiVersion: Koi.version, asOf: DayNumber.format(ingest.asOfDay),
      categories: ingest.ledger.categories)
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

    let dir = URL(fileURLWithPath: staging.path)
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    var outputs = ["customers.jsonl", "segments.json", "model.json", "rejects.csv"]

    var tierColumns: TierColumns?
    if options.stages.contains(.tiers) {
      progress(.stage("tiers"))
      let previous = try options.initModelPath.map { try Model.load(path: $0) }
      if previous != nil && previous?.tiers == nil {
        warnings.append("the init model has no tiers; tiers were fitted from scratch.")
      }
      do {
        let m = try TierStage.fit(ledger: ingest.ledger, table: table, options: options.tiers, warmStart: previous?.tiers)
        let cols = TierStage.score(ledger: ingest.ledger, table: table, model: m)
        var changed: Int?, compared: Int?
        if let old = previous?.tiers {
          let before = TierStage.score(ledger: ingest.ledger, table: table, model: old)
          compared = zip(before.tier, cols.tier).filter { $0.0 != nil && $0.1 != nil }.count
          changed = zip(before.tier, cols.tier).filter { $0.0 != nil && $0.1 != nil && $0.0 != $0.1 }.count
        }
        model.tiers = m
        tierColumns = cols
        fields.append(TierRecordFields(columns: cols))
        report.tiers = TierReport(
          k: m.k, inertia: rounded(m.inertia, 4), iterations: m.iterations, converged: m.converged,
          warmStarted: m.warmStarted, changedSinceInitModel: changed, comparedWithInitModel: compared,
          features: m.features.map(\.rawValue), droppedFeatures: m.droppedFeatures, notes: m.notes + cols.notes,
          tiers: TierStage.profiles(table: table, model: m, columns: cols))
        for d in m.droppedFeatures { warnings.append("tier feature \(d.feature.rawValue) dropped: \(d.reason)") }
      } catch {
        warnings.append("tiers were not computed: \(error)")
      }
      lap("tiers")
    }

    var intervalColumns: IntervalColumns?
    var dueLists: (lists: [[IntervalDueEntry]], model: IntervalModel, columns: IntervalColumns)?
    if options.stages.contains(.intervals) {
      progress(.stage("intervals"))
      let (m, cols) = IntervalStage.run(ledger: ingest.ledger, table: table, options: options.intervals)
      let lists = m.categories.indices.map {
        IntervalDueList.make(
          columns: cols, model: m, category: $0, dueWithinDays: options.dueWithinDays,
          minimumProbability: options.dueMinimumProbability, limit: options.dueLimit)
      }
      model.intervals = m
      intervalColumns = cols
      fields.append(IntervalRecordFields(model: m, columns: cols))
      report.intervals = IntervalReport(model: m, columns: cols, dueLists: lists, dueWithinDays: options.dueWithinDays)
      dueLists = (lists, m, cols)
      for c in m.categories where c.basis == .insufficientData {
        warnings.append("treatment '\(UserText.excerpt(c.name))' has \(c.gapCount) repeat gaps, too few to fit (\(options.intervals.minimumGapsForFit) needed), no prior, and the rare treatments together have too few to pool: its customers get status unknown. If it repeats, give its typical cycle with --prior '\(UserText.excerpt(c.name))=DAYS'.")
      }
      lap("intervals")
    }

    var lifetimeColumns: LifetimeColumns?
    if options.stages.contains(.lifetime) {
      progress(.stage("lifetime"))
      let summary = LifetimeSummary(ledger: ingest.ledger, table: table)
      let (m, cols) = LifetimeStage.run(summary, options: options.lifetime)
      model.lifetime = m
      lifetimeColumns = cols
      fields.append(LifetimeRecordFields(columns: cols))
      report.lifetime = LifetimeReport(model: m, columns: cols, options: options.lifetime, segments: rfmColumns?.segment)
      for d in m.diagnostics { warnings.append("lifetime: \(d)") }
      lap("lifetime")
    }

    var facts = CustomerFactTable(ledger: ingest.ledger, rfm: rfmColumns, oneOff: options.oneOffCategories)
    if let lifetimeColumns {
      facts.pAlive = lifetimeColumns.probabilityAlive.map { $0 ?? .nan }
      facts.clv = lifetimeColumns.clv.map { $0 ?? .nan }
    }
    if let tierColumns { facts.add(tiers: tierColumns) }
    if let intervalColumns, let m = model.intervals {
      facts.add(intervals: intervalColumns, model: m, horizonDays: options.dueWithinDays, oneOff: options.oneOffCategories)
    }
    let (tags, tagWarnings) = TagEngine(rules: options.tagRules).tagAll(facts)
    warnings += tagWarnings
    fields.append(TagRecordFields(tags: tags))
    lap("tags")

    progress(.writing("customers.jsonl"))
    var staleOutputs: [String] = []
    try CustomersWriter.write(to: path("customers.jsonl"), customerIDs: ingest.ledger.customerIDs, fields: fields)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(report)) + [10], to: path("segments.json"))
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(model)) + [10], to: path("model.json"))
    try RejectsWriter.write(ingest.rejects, files: ingest.rejectsNameFiles ? ingest.files : nil, to: path("rejects.csv"))
    if let due = dueLists {
      try DueListWriter.write(
        to: path("due.json"), lists: due.lists, model: due.model, columns: due.columns,
        customerIDs: ingest.ledger.customerIDs, dueWithinDays: options.dueWithinDays,
        minimumProbability: options.dueMinimumProbability, limit: options.dueLimit)
      outputs.append("due.json")
    } else {
      // A due.json left by an earlier run with intervals would be stale.
      staleOutputs.append("due.json")
    }
    lap("write")
    seconds["total"] = rounded(Date().timeIntervalSince(started), 3)

    var columns: [String: String] = [:]
    for (c, i) in ingest.mapping.index { columns[c.rawValue] = ingest.mapping.header[i] }
    let manifest = RunManifest(
      koiVersion: Koi.version, command: options.command,
      startedAt: iso8601(started), finishedAt: iso8601(Date()),
      input: .init(
        path: options.inputPath, sha256: ingest.sha256, bytes: ingest.bytes,
        encoding: ingest.encoding.rawValue, encodingDetected: ingest.encodingDetected,
        columns: columns, files: ingest.files, duplicatesAcrossFiles: ingest.duplicates),
      asOf: model.asOf,
      asOfSource: options.ingest.asOfDay == nil ? "last_transaction_plus_one" : "option",
      rows: ingest.counts, customers: table.count, categories: ingest.ledger.categories.count,
      stages: options.stages.map(\.rawValue), options: options.echoed, seconds: seconds,
      outputs: outputs + ["run.json"],
      warnings: warnings)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(manifest)) + [10], to: path("run.json"))
    try staging.publish(outputs, removing: staleOutputs, last: "run.json")
    return ScoringResult(
      manifest: manifest, ledger: ingest.ledger, table: table, model: model, rfm: rfmColumns,
      tiers: tierColumns, intervals: intervalColumns, lifetime: lifetimeColumns, facts: facts, tags: tags)
  }

  /// Makes `path` a directory, creating it and its parents if missing.
  /// Names the component that is in the way: `x.csv/out` with `x.csv` a
  /// regular file fails with "x.csv is a file, not a directory".
  static func prepareDirectory(_ path: String) throws {
    func failure(_ message: String) -> OutputError {
      OutputError(path: path, message: "cannot be used as the output directory: \(message)")
    }
    guard !path.isEmpty else { throw failure("the path is empty") }
    // Each prefix of the path in turn: "a", "a/b", "a/b/c" (or "/a", …).
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
      var st = stat()
      if stat(prefix, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
          throw failure("\(prefix) is a file, not a directory; choose another output directory")
        }
        continue
      }
      let statError = errno
      guard statError == ENOENT else {
        throw failure("cannot look at \(prefix) (\(String(cString: strerror(statError))))")
      }
      if mkdir(prefix, 0o755) != 0 {
        let e = errno
        // Made meanwhile by another process: fine if it is a directory.
        if e == EEXIST, stat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { continue }
        throw failure("cannot create \(prefix) (\(String(cString: strerror(e))))")
      }
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
  public var tiers: TierReport?
  public var intervals: IntervalReport?
  public var lifetime: LifetimeReport?

  public init(asOf: String, customers: Int, revenue: Double) {
    self.asOf = asOf
    self.customers = customers
    self.revenue = revenue
  }

  enum CodingKeys: String, CodingKey {
    case asOf = "as_of"
    case customers, revenue, rfm, tiers, intervals, lifetime
  }
}
