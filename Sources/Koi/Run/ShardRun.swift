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
/// Exactness: `merged` rebuilds, from the shards' rows, the very ledger one
/// `koi score` of the whole input builds (same customer, category, channel
/// and store order, same row order), so every fit and every floating-point
/// sum runs in single-run order: model.json, customers.jsonl,
/// segments.json, due.json and rejects.csv are byte-identical to a single
/// run's. The statistics of the tier and interval stages are rows, so the
/// driver holds every row (as compact columns, 38 bytes a row); shards
/// parse and validate in parallel.
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
    let location = SourceLocation(path: shards.map(\.path).joined(separator: " "))
    guard let first = shards.first(where: { !$0.header.header.isEmpty }).map({ (header: $0.header, path: $0.path) })
    else {
      throw IngestError(.empty, "every shard is empty; they need a header line and at least one row.", at: location)
    }
    for s in shards
    where !s.header.header.isEmpty
      && (s.header.header != first.header.header || s.header.columnOverrides != first.header.columnOverrides)
    {
      throw IngestError(
        .mismatchedColumns,
        "its header differs from \(first.path)'s; every shard must be a part of one input with one header.",
        at: SourceLocation(path: s.path))
    }
    let withRows = shards.filter { !$0.header.header.isEmpty && $0.rows > 0 }.map { (header: $0.header, path: $0.path) }
    for s in withRows where s.header.columns != withRows[0].header.columns {
      throw IngestError(
        .mismatchedColumns, "its optional columns differ from \(withRows[0].path)'s.", at: SourceLocation(path: s.path))
    }
    let shardAsOf = Set(shards.map(\.header.asOf))
    guard shardAsOf.count == 1 else {
      throw IngestError(
        .badModel,
        "the shards were read with different --as-of dates (\(shardAsOf.map { $0 ?? "none" }.sorted().joined(separator: ", "))); give every koi stats the same --as-of.",
        at: location)
    }
    let statsAsOf = shardAsOf.first!.flatMap(DayNumber.parse)  // one element, checked above
    if let asOfDay, asOfDay != statsAsOf {
      throw IngestError(
        .badModel,
        "--as-of \(DayNumber.format(asOfDay)) differs from the shards' (\(statsAsOf.map(DayNumber.format) ?? "none")); give --as-of to koi stats, which applies it to the rows.",
        at: location)
    }

    // Names in order of first appearance over all shards.
    func union(_ names: (ShardStatistics) -> [String], _ lines: (ShardStatistics) -> [Int]) -> (
      names: [String], maps: [[Int32]]
    ) {
      var firstLine: [String: (Int, Int, Int)] = [:]
      for (k, s) in shards.enumerated() {
        for (j, (n, l)) in zip(names(s), lines(s)).enumerated() {
          let key = (l, k, j)
          if let old = firstLine[n], old <= key { continue }
          firstLine[n] = key
        }
      }
      let ordered = firstLine.sorted { $0.value < $1.value }.map(\.key)
      var index: [String: Int32] = [:]
      for (i, n) in ordered.enumerated() { index[n] = Int32(i) }
      return (ordered, shards.map { s in names(s).map { index[$0]! } })  // every name is in `index`
    }
    let categories = union({ $0.ledger.categories }, { $0.header.categoryFirstLines })
    let channels = union({ $0.ledger.channels }, { $0.header.channelFirstLines })
    let stores = union({ $0.ledger.stores }, { $0.header.storeFirstLines })

    // Customers in order of first appearance; each in exactly one shard.
    var order: [(line: Int, shard: Int, customer: Int)] = []
    var seen: [String: Int] = [:]
    for (k, s) in shards.enumerated() {
      for c in 0..<s.customers {
        let id = s.ledger.customerIDs[c]
        if let other = seen.updateValue(k, forKey: id) {
          throw IngestError(
            .badModel,
            "customer '\(UserText.excerpt(id))' is in shards \(shards[other].path) and \(s.path); split the input by customer (every row of a customer in one shard).",
            at: location)
        }
        order.append((s.customerFirstLines[c], k, c))
      }
    }
    order.sort { ($0.line, $0.shard, $0.customer) < ($1.line, $1.shard, $1.customer) }

    var l = Ledger(empty: withRows.first?.header.columns ?? .init())
    l.categories = categories.names
    l.channels = channels.names
    l.stores = stores.names
    l.customerIDs = order.map { shards[$0.shard].ledger.customerIDs[$0.customer] }
    // Each customer's rows: its shard and their range there.
    let spans = order.map { (shard: $0.shard, rows: shards[$0.shard].ledger.rows(of: $0.customer)) }
    l.customerStart = [0]
    l.customerStart.reserveCapacity(order.count + 1)
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
    l.category = gather(\.category) { categories.maps[$0][Int($1)] }
    l.channel = gather(\.channel) { $1 < 0 ? -1 : channels.maps[$0][Int($1)] }
    l.store = gather(\.store) { $1 < 0 ? -1 : stores.maps[$0][Int($1)] }
    l.amount = gather(\.amount)
    l.listPrice = gather(\.listPrice)
    l.promo = gather(\.promo)

    var counts = RowCounts()
    var rejects: [Reject] = []
    for s in shards {
      counts.read += s.header.counts.read
      counts.used += s.header.counts.used
      counts.rejected += s.header.counts.rejected
      counts.blankLines += s.header.counts.blankLines
      for (k, v) in s.header.counts.rejectedByReason { counts.rejectedByReason[k, default: 0] += v }
      rejects += s.header.rejects.map {
        Reject(line: $0.line, reason: $0.reason, field: $0.field, detail: $0.detail, raw: $0.raw)
      }
    }
    rejects.sort { $0.line < $1.line }
    guard l.rowCount > 0 else {
      throw TransactionReader.noUsableRows(counts: counts, first: rejects.first, location: location, several: true)
    }
    let lastDay = l.day.max() ?? 0  // rows checked above
    let mapping = try ColumnMapping(
      header: first.header.header, overrides: first.header.columnOverrides, path: first.path)
    let encoding = InputEncoding(rawValue: first.header.encoding) ?? .utf8
    let bytes = shards.reduce(Int64(0)) { $0 + $1.header.bytes }
    let sha = SHA256Hex.of(Array(shards.map { $0.header.sha256 + "\n" }.joined().utf8))
    var columns: [String: String] = [:]
    for (c, i) in mapping.index { columns[c.rawValue] = mapping.header[i] }
    var file = IngestedFile(
      path: location.path, sheet: nil, format: .csv, bytes: bytes, sha256: sha, encoding: encoding,
      encodingDetected: first.header.encodingDetected, columns: columns)
    file.rows = .init(
      read: counts.read, used: counts.used, rejected: counts.rejected, blankLines: counts.blankLines)
    return IngestResult(
      ledger: l, rejects: rejects, counts: counts, mapping: mapping, encoding: encoding,
      encodingDetected: first.header.encodingDetected, sha256: sha, bytes: bytes,
      asOfDay: statsAsOf ?? (lastDay + 1), files: [file])
  }

  /// Fits every stage of `options.stages` on the merged statistics of the
  /// files at `paths`: the model.json of one `koi score` of the whole input
  /// (`koi fit`). The shards are dropped once merged, so the fit runs beside
  /// one copy of the rows, not two.
  public static func fit(
    statisticsAt paths: [String], options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard
  ) throws -> (model: Model, warnings: [String]) {
    let ingest = try merged(paths.map(ShardStatistics.read(path:)), asOfDay: options.ingest.asOfDay)
    return try ScoringRun.fitOnly(options, ingest: ingest, stages: stages)
  }

  /// Scores the merged statistics of the files at `paths` with
  /// `options.modelPath`'s model and writes every output of one `koi score`
  /// of the whole input into `options.outputDirectory` (`koi merge`).
  /// Without a model, fits first. The shards are dropped once merged.
  public static func merge(
    statisticsAt paths: [String], options: ScoreOptions, stages: [any Stage.Type] = StageRegistry.standard,
    progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> ScoringResult {
    let ingest = try merged(paths.map(ShardStatistics.read(path:)), asOfDay: options.ingest.asOfDay)
    return try ScoringRun.run(options, stages: stages, ingested: ingest, progress: progress)
  }
}

extension ShardRun {
  /// Writes `model` as model.json (the bytes `koi score` writes), atomically.
  public static func writeModel(_ model: Model, to path: String) throws {
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(model)) + [10], to: path)
  }
}
