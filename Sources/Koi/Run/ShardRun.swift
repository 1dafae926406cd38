import Foundation

/// A chain too large for one machine, scored in shards with the answers of
/// one `koi score`:
///
/// ```
/// shard k (executor):  koi stats SHARD_k --out k.stats      ShardRun.statistics
/// driver:              koi fit --stats *.stats --out M       ShardRun.fit
/// driver:              koi merge --stats *.stats --model M   ShardRun.merge
/// ```
///
/// A shard is a file with the original header whose other lines may be
/// blank: every line keeps its line number, so rejects keep their line and
/// the first-appearance lines put customers and treatments back in
/// single-run order. Shards must split the input by customer (every row of
/// a customer in one shard).
///
/// Exactness: `koi fit` (`ShardFit`) reads the shards one at a time and
/// gathers per-customer statistics in single-run order; `merged` (`koi
/// merge --stats`) rebuilds, from the shards' rows, the very ledger one
/// `koi score` of the whole input builds (same customer, category, channel
/// and store order, same row order). Either way every fit and every
/// floating-point sum runs in single-run order: model.json,
/// customers.jsonl, segments.json, due.json and rejects.csv are
/// byte-identical to a single run's. `koi merge --stats` holds every row
/// (as compact columns, 38 bytes a row); `koi fit` holds per-customer
/// statistics and one shard's rows; shards parse and validate in parallel.
public enum ShardRun {
  /// Reads one shard and returns its statistics (`koi stats`). A shard with
  /// a header and no rows (or an empty file) gives empty statistics.
  ///
  /// - Throws: `IngestError` for unreadable input, a bad header, a bad row
  ///   under `--strict`.
  public static func statistics(_ options: ScoreOptions) throws -> ShardStatistics {
    var ingestOptions = options.ingest
    ingestOptions.recordsFirstLines = true
    let inputs = try InputList.expand(options.inputs)
    guard inputs.files.count == 1, !options.inputs.contains(where: { $0.contains("*") }) else {
      throw IngestError(
        .namedTwice, "koi stats reads one shard: give one file (or -) per koi stats.",
        at: SourceLocation(path: options.inputPath))
    }
    ingestOptions.allowsNoUsableRows = true
    do {
      let ingest = try TransactionReader.read(inputs: inputs, options: ingestOptions)
      return ShardStatistics(ingest: ingest, options: ingestOptions, input: options.inputPath)
    } catch let e as IngestError where e.code == .empty {
      return ShardStatistics.empty(input: options.inputPath, options: ingestOptions)
    }
  }

  /// The ingest result a single `koi score` of the shards' union would have
  /// read: the shards' rows in single-run order, their rejects by line,
  /// their counts summed.
  ///
  /// - Throws: `IngestError` when the shards disagree (versions, columns,
  ///   as-of) or share a customer, or have no rows at all.
  static func merged(_ input: consuming [ShardStatistics], asOfDay: Int32?) throws -> IngestResult {
    // Owned here: each row column of the shards is released as soon as it
    // is merged, so the merge holds little more than one copy of the rows.
    var shards = consume input
    let layout = try ShardLayout(shards, asOfDay: asOfDay)
    var l = Ledger(empty: layout.columns)
    l.categories = layout.categories.names
    l.channels = layout.channels.names
    l.stores = layout.stores.names
    l.customerIDs = layout.order.gather(shards.map(\.ledger.customerIDs))
    // Each customer's rows: its shard and their range there.
    let spans = layout.order.indices.map { c in
      let k = layout.order.shard(c)
      return (shard: k, rows: shards[k].ledger.rows(of: layout.order.index(c)))
    }
    l.customerStart = [0]
    l.customerStart.reserveCapacity(spans.count + 1)
    for s in spans { l.customerStart.append(l.customerStart.last! + s.rows.count) }
    for k in shards.indices {
      shards[k].ledger.customerIDs = []
      shards[k].ledger.customer = []
    }
    let rowCount = l.customerStart.last!
    l.customer = [Int32](unsafeUninitializedCapacity: rowCount) { out, count in
      for c in spans.indices { for i in l.customerStart[c]..<l.customerStart[c + 1] { out[i] = Int32(c) } }
      count = rowCount
    }
    /// Column `column` of every shard in single-run row order, each value
    /// through `map(shard, value)`; then the shards' column is released.
    func gather<T>(_ column: WritableKeyPath<Ledger, [T]>, _ map: (Int, T) -> T = { $1 }) -> [T] {
      let parts = shards.map { $0.ledger[keyPath: column] }
      for k in shards.indices { shards[k].ledger[keyPath: column] = [] }
      var merged: [T] = []
      merged.reserveCapacity(rowCount)
      for s in spans { merged += parts[s.shard][s.rows].lazy.map { map(s.shard, $0) } }
      return merged
    }
    l.day = gather(\.day)
    l.category = gather(\.category) { layout.categories.maps[$0][Int($1)] }
    l.channel = gather(\.channel) { $1 < 0 ? -1 : layout.channels.maps[$0][Int($1)] }
    l.store = gather(\.store) { $1 < 0 ? -1 : layout.stores.maps[$0][Int($1)] }
    l.amount = gather(\.amount)
    l.listPrice = gather(\.listPrice)
    l.promo = gather(\.promo)
    return try layout.ingestResult(ledger: l)
  }

  /// Fits every stage of `options.stages` on the statistics of the files
  /// at `paths`: the model.json of one `koi score` of the whole input
  /// (`koi fit`). The standard stages fit on per-customer statistics, the
  /// shards read one at a time (`ShardFit`). One file, or a run with
  /// another stage, fits on the merged rows (the shards dropped once
  /// merged): a single file's rows are all the rows, and holding them once
  /// costs less than the per-customer statistics beside a second read of
  /// them (10M rows: 0.88 against 1.03 GB peak).
  public static func fit(
    statisticsAt paths: [String], options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard,
    progress: (ProgressEvent) -> Void = { _ in }
  ) throws -> (model: Model, warnings: [String]) {
    if paths.count > 1,
      stages.allSatisfy({ !options.stages.contains($0.name) || StageRegistry.isStandard($0) })
    {
      return try ShardFit.fit(statisticsAt: paths, options: options, progress: progress)
    }
    let shards = try paths.enumerated().map { k, path in
      progress(.shard(index: k + 1, count: paths.count))
      return try ShardStatistics.read(path: path)
    }
    return try ScoringRun.fitOnly(
      options, ingest: try merged(shards, asOfDay: options.ingest.asOfDay), stages: stages, progress: progress)
  }

  /// Scores the merged statistics of the files at `paths` with
  /// `options.modelPath`'s model and writes every output of one `koi score`
  /// of the whole input into `options.outputDirectory` (`koi merge`).
  /// Without a model, fits first. The shards are dropped once merged.
  public static func merge(
    statisticsAt paths: [String], options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard,
    progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> ScoringResult {
    let ingest = try merged(paths.map { try ShardStatistics.read(path: $0) }, asOfDay: options.ingest.asOfDay)
    return try ScoringRun.run(options, stages: stages, ingested: ingest, progress: progress)
  }
}

extension ShardRun {
  /// Writes `model` as model.json (the bytes `koi score` writes), atomically.
  public static func writeModel(_ model: Model, to path: String) throws {
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(model)) + [10], to: path)
  }
}
