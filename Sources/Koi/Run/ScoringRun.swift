import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a long run reports while it works. The library never prints; the
/// command line turns these into a progress line or log records.
public enum ProgressEvent: Sendable {
  case reading(bytesRead: Int64, totalBytes: Int64)
  case stage(String)
  case writing(String)
  /// Reading shard `index` (from 1) of `count`: `koi merge`'s shard
  /// outputs, or `koi fit`'s statistics in its `pass` (1 or 2; `ShardFit`).
  case shard(index: Int, count: Int, pass: Int? = nil)
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
  /// A saved model.json to score with instead of fitting (`--model`): fit
  /// monthly and score daily, or score the shards of one chain alike.
  public var modelPath: String?
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
  var oneOffCategories: Set<String> = []
  /// SCRM tag rules evaluated per customer into customers.jsonl `tags`.
  var tagRules: [TagRule] = TagRule.defaults
  /// Also write shard.json, what `koi merge --outputs` needs to merge this
  /// run with the other shards of one chain (`koi score --shard`; with
  /// `--model`). A shard with no usable rows is then fine.
  public var shardOutput = false
  /// The subcommand recorded in run.json `command`: `score`, or `run` for
  /// a scheduled run.
  public var command = "score"
  /// How warnings name settings: flags for `koi score`, keys for `koi run`.
  var frontend: Frontend { command == "run" ? .configuration : .commandLine }

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
    if let modelPath { o["model"] = modelPath }
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
  /// The run's ledger; with the standard stages, without the columns no
  /// step after the tier stage reads (list price, promotion flag, channel
  /// and store are empty; `columns` says which the input had).
  public var ledger: Ledger
  public var table: CustomerTable
  public var model: Model
  /// Each stage's columns (`outputs[TierStage.self]`); the standard stages
  /// also have named accessors (`result.tiers`).
  var outputs: StageOutputs
  /// What tag rules and campaign lists look at, and the tags themselves.
  public var facts: CustomerFactTable
  public var tags: CustomerTags
  /// What customers.jsonl was written from, for report.html
  /// (`RunReport.write(…, scoring:)`).
  var recordFields: [any CustomerRecordFields]
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
    _ options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard,
    progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> ScoringResult {
    try run(options, stages: stages, ingested: nil, progress: progress)
  }

  /// A run on `ingested` (the merged shards of `koi merge`) instead of
  /// reading `options.inputs`, when given.
  static func run(
    _ options: ScoreOptions, stages: [any Stage.Type], ingested: IngestResult?,
    progress: @escaping (ProgressEvent) -> Void
  ) throws -> ScoringResult {
    var options = options
    let scoringModel = try options.modelPath.map { try Model.loadForScoring(path: $0, options: &options) }
    let started = Date()
    var seconds: [String: Double] = [:]
    var clock = Date()
    func lap(_ name: String) {
      let now = Date()
      seconds[name] = rounded(now.timeIntervalSince(clock), 3)
      clock = now
    }
    try OutputDirectory.prepare(options.outputDirectory)
    // Every output is written here first and published together at the end.
    let staging = try StagingDirectory(destination: options.outputDirectory)
    func path(_ name: String) -> String { staging.path + "/" + name }

    // Ledger columns that no later step reads are emptied once their last
    // reader has run, so that the later stages reuse their memory: the
    // store column (no stage reads it) and, without the tier stage, list
    // price, promotion flag and channel (the tier features) before the
    // ledger is sorted; those three otherwise after the tier stage, in this
    // copy of the ledger and the batch's. Only with the standard stages,
    // whose readers are known; the result's ledger then lacks those columns.
    let running = stages.filter { options.stages.contains($0.name) }
    let releasesColumns = stages.allSatisfy(StageRegistry.isStandard)
    let lastTierInputReader = running.firstIndex { $0 == TierStage.self } ?? -1

    progress(.stage("ingest"))
    var ingest: IngestResult
    do {
      if let ingested {
        ingest = ingested
      } else {
        let inputs = try InputList.expand(options.inputs)
        var ingestOptions = options.ingest
        // Hashed while the stages run; awaited before run.json.
        ingestOptions.checksumsInBackground = true
        // Columns no stage of this run reads are not sorted (see below).
        ingestOptions.dropsStore = releasesColumns
        ingestOptions.dropsTierInputs = releasesColumns && lastTierInputReader < 0
        if options.shardOutput {
          // Line numbers place a shard's customers among the others' only
          // within one input.
          guard inputs.files.count == 1, !options.inputs.contains(where: { $0.contains("*") }) else {
            throw IngestError(
              .namedTwice, "koi score --shard reads one shard: give one file (or -).",
              at: SourceLocation(path: options.inputPath))
          }
          ingestOptions.recordsFirstLines = true
          ingestOptions.allowsNoUsableRows = true
        }
        ingest = try TransactionReader.read(inputs: inputs, options: ingestOptions) {
          progress(.reading(bytesRead: $0, totalBytes: $1))
        }
      }
      if let scoringModel, let path = options.modelPath {
        try ingest.ledger.useCategories(of: scoringModel, path: path)
      }
    } catch var e as IngestError {
      e.frontend = options.frontend  // options named as the user sets them
      throw e
    }
    let table = CustomerTable(ledger: ingest.ledger, asOfDay: ingest.asOfDay)
    lap("ingest")

    var warnings: [RunWarning] = []
    if ingest.encodingDetected {
      warnings.append(
        RunWarning(
          "the input is not UTF-8; it was read as GB18030 (detected).",
          advice: .init(
            lead: "Make this explicit with", commandLine: "--encoding gb18030",
            configuration: "[input] encoding = \"gb18030\"")))
    }
    warnings += ingest.warnings
    let warningsBeforeRejects = warnings
    if ingest.counts.rejected > 0 { warnings.append(rejectedRowsWarning(ingest.counts)) }
    let rejectWarnings = warnings.count - warningsBeforeRejects.count

    let batch = StageBatch(ledger: ingest.ledger, table: table)
    var state = StageRunState(
      batch: batch,
      model: Model(
        koiVersion: Koi.version, asOf: DayNumber.format(ingest.asOfDay), categories: ingest.ledger.categories),
      report: SegmentsReport(
        asOf: DayNumber.format(ingest.asOfDay), customers: table.count,
        revenue: rounded(ExactSum(table.netAmount).value, 2)),
      context: StageContext(
        options: options, previousModel: try options.initModelPath.map { try Model.load(path: $0) },
        scoringModel: scoringModel)
    )
    // The columns no step reads from here (see above): already empty when
    // this run read the input, not when it was given one read (`koi merge`).
    func release(_ columns: (inout Ledger) -> Void) {
      columns(&ingest.ledger)
      state.releaseLedgerColumns(columns)
    }
    if releasesColumns {
      release { $0.releaseStore() }
      if lastTierInputReader < 0 { release { $0.releaseTierInputs() } }
    }
    for (i, stage) in running.enumerated() {
      progress(.stage(stage.name.rawValue))
      state.run(stage)
      lap(stage.name.rawValue)
      if releasesColumns && i == lastTierInputReader { release { $0.releaseTierInputs() } }
    }
    warnings += state.warnings

    var facts = CustomerFactTable(ledger: ingest.ledger, oneOff: options.oneOffCategories)
    state.contribute(to: &facts)
    let (tags, tagWarnings) = TagEngine(rules: options.tagRules).tagAll(facts)
    warnings += tagWarnings.map { RunWarning($0) }
    state.fields.append(TagRecordFields(tags: tags))
    lap("tags")

    progress(.writing("customers.jsonl"))
    // The other files are written while customers.jsonl is: after it, alone
    // on one core, they took the last 0.25 s of a 10M-row run's write step.
    let (customersWritten, othersWritten) = Parallel.both(
      {
        Result {
          try CustomersWriter.write(
            to: path("customers.jsonl"), customerIDs: ingest.ledger.customerIDs, fields: state.fields)
        }
      },
      { [state, ingest] in
        Result { () throws -> [String] in
          try AtomicFile.write(try Array(JSONEncoder.koi.encode(state.report)) + [10], to: path("segments.json"))
          try AtomicFile.write(try Array(JSONEncoder.koi.encode(state.model)) + [10], to: path("model.json"))
          try RejectsWriter.write(
            ingest.rejects, files: ingest.rejectsNameFiles ? ingest.files : nil, to: path("rejects.csv"))
          return try state.writeFiles(to: staging.path)
        }
      })
    try customersWritten.get()
    let stageFiles = try othersWritten.get()
    var outputs = ["customers.jsonl", "segments.json", "model.json", "rejects.csv"] + stageFiles
    // Files of stages that did not run would be stale.
    let staleOutputs = stages.flatMap { $0.files }.filter { !stageFiles.contains($0) }
    lap("write")
    // What is left of the input's SHA-256 (`BackgroundDigest`).
    try ingest.awaitChecksums()
    lap("checksum")
    seconds["total"] = rounded(Date().timeIntervalSince(started), 3)

    var columns: [String: String] = [:]
    for (c, i) in ingest.mapping.index { columns[c.rawValue] = ingest.mapping.header[i] }
    let input = RunManifest.Input(
      path: options.inputPath, sha256: ingest.sha256, bytes: ingest.bytes,
      encoding: ingest.encoding.rawValue, encodingDetected: ingest.encodingDetected,
      columns: columns, files: ingest.files, duplicatesAcrossFiles: ingest.duplicates)
    if options.shardOutput {
      let texts = warnings.map { $0.text(for: options.frontend) }
      let side = ShardOutput.make(
        ingest: ingest, table: table, state: state, options: options, input: input,
        before: Array(texts.prefix(warningsBeforeRejects.count)),
        after: Array(texts.dropFirst(warningsBeforeRejects.count + rejectWarnings)))
      try side.write(to: path(ShardOutput.fileName))
      outputs.append(ShardOutput.fileName)
    }
    let manifest = RunManifest(
      koiVersion: Koi.version, command: options.command,
      startedAt: UTCTime.iso8601(started), finishedAt: UTCTime.iso8601(Date()),
      input: input,
      asOf: state.model.asOf,
      asOfSource: scoringModel != nil
        ? "model" : options.ingest.asOfDay == nil ? "last_transaction_plus_one" : "option",
      rows: ingest.counts, customers: table.count, categories: ingest.ledger.categories.count,
      stages: options.stages.map(\.rawValue), options: options.echoed, seconds: seconds,
      outputs: outputs + ["run.json"],
      warnings: warnings.map { $0.text(for: options.frontend) })
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(manifest)) + [10], to: path("run.json"))
    try staging.publish(outputs, removing: staleOutputs, last: "run.json")
    return ScoringResult(
      manifest: manifest, ledger: ingest.ledger, table: table, model: state.model, outputs: state.outputs,
      facts: facts, tags: tags, recordFields: state.fields)
  }

  /// run.json's warning about rejected rows.
  static func rejectedRowsWarning(_ counts: RowCounts) -> RunWarning {
    RunWarning("\(counts.rejected) of \(counts.read) rows were rejected; see rejects.csv.")
  }
}
