import Foundation

extension ShardRun {
  /// `koi merge --outputs`: the single run's outputs of one chain from its
  /// shards' `koi score --shard --model` output directories, without the
  /// rows.
  ///
  /// - customers.jsonl: the shards' lines merged by the line that first
  ///   names each customer (the single run's customer order), streamed.
  /// - segments.json: every shard's exact partial figures merged, then the
  ///   report made once from the sums, as a single run makes it.
  /// - due.json: per treatment, the shards' entries (each shard's list is
  ///   its own top `--due-limit`, so the union holds the whole top) sorted
  ///   by probability, highest first, then customer order, cut at the limit.
  /// - rejects.csv: the shards' rejects by line. model.json: the shards'
  ///   (byte-identical) model.json.
  /// - run.json: counts summed; `command` is `merge`, `input` names the
  ///   directories, `as_of_source` is `model`.
  ///
  /// - Throws: `IngestError` when a directory is not a shard output, the
  ///   shards were scored with different models, options or Koi versions,
  ///   or share a customer.
  /// - Complexity: O(customers · log shards) for customers.jsonl, holding one
  ///   line per shard and the first lines (8 bytes a customer); O(due
  ///   entries) and O(distinct net amounts) besides.
  public static func mergeOutputs(
    _ directories: [String], options: ScoreOptions, progress: (ProgressEvent) -> Void = { _ in }
  ) throws -> RunManifest {
    let started = Date()
    let location = SourceLocation(path: directories.joined(separator: " "))
    guard !directories.isEmpty else {
      throw IngestError(.empty, "give the output directories of koi score --shard.", at: location)
    }
    let shards = try directories.enumerated().map { k, directory in
      progress(.shard(index: k + 1, count: directories.count))
      return try ShardOutput.read(directory: directory)
    }
    let modelPaths = directories.map { $0 + "/model.json" }
    let withCustomers = shards.indices.filter { shards[$0].segments.customers > 0 }
    guard let firstWith = withCustomers.first ?? shards.indices.first(where: { !shards[$0].stages.isEmpty }) else {
      throw IngestError(.empty, "every shard is empty; they need at least one customer between them.", at: location)
    }
    let modelBytes = try Data(contentsOf: URL(fileURLWithPath: modelPaths[firstWith]))
    let model = try Model.load(path: modelPaths[firstWith])
    for k in shards.indices where k != firstWith && FileManager.default.fileExists(atPath: modelPaths[k]) {
      if try Data(contentsOf: URL(fileURLWithPath: modelPaths[k])) != modelBytes {
        throw IngestError(
          .badModel,
          "its model.json differs from \(modelPaths[firstWith]); score every shard with the same --model.",
          at: SourceLocation(path: modelPaths[k]))
      }
    }
    let reference = shards[firstWith]
    // The partial figures of segments.json are those of the standard
    // stages; a stage added later would be left out of the merge silently.
    let known = Set([StageName.rfm, .tiers, .intervals, .lifetime].map(\.rawValue))
    if let other = reference.stages.first(where: { !known.contains($0) }) {
      throw IngestError(
        .badModel,
        "the stage \(other) has no partial figures for koi merge --outputs; merge with koi merge --stats.",
        at: location)
    }
    // Where each shard read its copy of the model does not matter.
    func fitting(_ s: ShardOutput) -> [String: String] { s.options.filter { $0.key != "model" } }
    for (k, s) in shards.enumerated() where s.segments.customers > 0 {
      if s.asOf != reference.asOf || s.stages != reference.stages || fitting(s) != fitting(reference) {
        throw IngestError(
          .badModel,
          "it was scored with other options, stages or as-of date than \(directories[firstWith]); score every shard with the same options.",
          at: SourceLocation(path: directories[k]))
      }
    }

    try OutputDirectory.prepare(options.outputDirectory)
    let staging = try StagingDirectory(destination: options.outputDirectory)
    func path(_ name: String) -> String { staging.path + "/" + name }

    // customers.jsonl, in order of first line.
    progress(.writing("customers.jsonl"))
    let customers = try mergeCustomerLines(
      directories.map { $0 + "/customers.jsonl" }, firstLines: shards.map(\.customerFirstLines),
      to: path("customers.jsonl"), location: location)

    // due.json.
    var outputs = ["customers.jsonl", "segments.json", "model.json", "rejects.csv"]
    var dueListed: [String: Int] = [:]
    if let due = reference.due {
      var lists: [(name: String, entries: [DueListWriter.Entry])] = []
      for (i, list) in due.lists.enumerated() {
        var entries = shards.compactMap { $0.due?.lists }.filter { $0.count > i }.flatMap { $0[i].entries }
        entries.sort { a, b in
          a.entry.probability != b.entry.probability
            ? a.entry.probability > b.entry.probability : a.firstLine < b.firstLine
        }
        if let limit = due.limit, entries.count > limit { entries.removeSubrange(limit...) }
        lists.append((list.category, entries.map(\.entry)))
        dueListed[list.category] = entries.count
      }
      progress(.writing("due.json"))
      try DueListWriter.write(
        to: path("due.json"), asOf: DayNumber.parse(model.asOf) ?? 0, categories: lists,
        dueWithinDays: due.withinDays, minimumProbability: due.minimumProbability, limit: due.limit)
      outputs.append("due.json")
    }

    // segments.json from the merged partials.
    var total = ShardOutput.Segments()
    var merged = reference.segments
    for (k, s) in shards.enumerated() {
      total.customers += s.segments.customers
      total.revenue.merge(s.segments.revenue)
      guard k != firstWith else { continue }
      if let p = s.segments.rfm { merged.rfm?.merge(p) }
      if let t = s.segments.tiers { merged.tiers?.profiles.merge(t.profiles) }
      if let i = s.segments.intervals, var m = merged.intervals {
        for c in 0..<min(m.customers.count, i.customers.count) {
          m.customers[c] += i.customers[c]
          m.status[c].merge(i.status[c], uniquingKeysWith: +)
        }
        merged.intervals = m
      }
      if let l = s.segments.lifetime { merged.lifetime?.partial.merge(l.partial) }
    }
    guard total.customers == customers else {
      throw IngestError(
        .badModel,
        "the shards' customers.jsonl files hold \(customers) customers, their shard.json \(total.customers).",
        at: location)
    }
    var report = SegmentsReport(asOf: model.asOf, customers: total.customers, revenue: rounded(total.revenue.value, 2))
    if let p = merged.rfm, let m = model.rfm { report[.rfm] = RFMReport(p, bins: m.bins) }
    if let t = merged.tiers, let m = model.tiers {
      report[.tiers] = TierStage.report(
        m, scoringNotes: t.scoringNotes, changed: nil, compared: nil, profiles: t.profiles)
    }
    if let i = merged.intervals, let m = model.intervals, let due = reference.due {
      report[.intervals] = IntervalReport(
        model: m, status: i.status, customers: i.customers,
        dueListed: m.categories.map { dueListed[$0.name] ?? 0 }, dueWithinDays: due.withinDays)
    }
    if let l = merged.lifetime, let m = model.lifetime {
      var o = LifetimeOptions()
      o.horizonDays = l.horizonDays
      o.annualDiscountRate = l.annualDiscountRate
      o.margin = l.margin
      report[.lifetime] = LifetimeReport(model: m, partial: l.partial, options: o)
    }
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(report)) + [10], to: path("segments.json"))
    try AtomicFile.write(Array(modelBytes), to: path("model.json"))

    // rejects.csv and the counts.
    var counts = RowCounts()
    var rejects: [Reject] = []
    for s in shards {
      counts.read += s.rows.read
      counts.used += s.rows.used
      counts.rejected += s.rows.rejected
      counts.blankLines += s.rows.blankLines
      for (k, v) in s.rows.rejectedByReason { counts.rejectedByReason[k, default: 0] += v }
      rejects += s.rejects.map {
        Reject(line: $0.line, reason: $0.reason, field: $0.field, detail: $0.detail, raw: $0.raw)
      }
    }
    rejects.sort { $0.line < $1.line }
    try RejectsWriter.write(rejects, files: nil, to: path("rejects.csv"))

    // run.json.
    func union(_ lists: [[String]]) -> [String] {
      var seen = Set<String>(), out: [String] = []
      for l in lists { for w in l where seen.insert(w).inserted { out.append(w) } }
      return out
    }
    var warnings = union(shards.map(\.warningsBeforeRejects))
    if counts.rejected > 0 {
      warnings.append(ScoringRun.rejectedRowsWarning(counts).text(for: options.frontend))
    }
    warnings += union(shards.map(\.warningsAfterRejects))
    var input = reference.input
    input.path = directories.joined(separator: " ")
    input.bytes = shards.reduce(Int64(0)) { $0 + $1.input.bytes }
    input.sha256 = SHA256Hex.of(Array(shards.map { $0.input.sha256 + "\n" }.joined().utf8))
    input.files = nil
    var echoed = fitting(reference)
    echoed["merged_shards"] = String(shards.count)
    let manifest = RunManifest(
      koiVersion: Koi.version, command: "merge", startedAt: UTCTime.iso8601(started),
      finishedAt: UTCTime.iso8601(Date()), input: input, asOf: model.asOf, asOfSource: "model", rows: counts,
      customers: total.customers, categories: model.categories.count, stages: reference.stages, options: echoed,
      seconds: ["total": rounded(Date().timeIntervalSince(started), 3)],
      outputs: outputs + ["run.json"], warnings: warnings)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(manifest)) + [10], to: path("run.json"))
    try staging.publish(outputs, removing: reference.due == nil ? ["due.json"] : [], last: "run.json")
    return manifest
  }

  /// Merges the shards' customers.jsonl files by the first line of each
  /// customer, streaming; returns the number of customers.
  static func mergeCustomerLines(
    _ paths: [String], firstLines: [[Int]], to path: String, location: SourceLocation
  ) throws -> Int {
    var readers = try paths.map { try LineReader(path: $0) }
    var next = [Int](repeating: 0, count: paths.count)
    var current: [[UInt8]?] = try readers.indices.map { try readers[$0].next() }
    let file = try AtomicFile(path: path, streamed: true)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20)
    var written = 0
    var lastLine = Int.min
    while true {
      var best = -1
      for k in readers.indices where current[k] != nil {
        guard next[k] < firstLines[k].count else {
          throw IngestError(
            .badModel, "it has more lines than its shard.json has customers.", at: SourceLocation(path: paths[k]))
        }
        if best < 0 || firstLines[k][next[k]] < firstLines[best][next[best]] { best = k }
      }
      guard best >= 0, let line = current[best] else { break }
      let first = firstLines[best][next[best]]
      if first <= lastLine {
        throw IngestError(
          .badModel,
          "two customers share input line \(first), or a shard's lines are out of order: split the input by customer with every line on its own line number.",
          at: SourceLocation(path: paths[best]))
      }
      lastLine = first
      buffer += line
      buffer.append(10)
      if buffer.count >= 1 << 20 {
        try file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
      }
      written += 1
      next[best] += 1
      current[best] = try readers[best].next()
    }
    for k in readers.indices where next[k] != firstLines[k].count {
      throw IngestError(
        .badModel, "it has \(next[k]) lines and its shard.json \(firstLines[k].count) customers.",
        at: SourceLocation(path: paths[k]))
    }
    try file.write(buffer)
    try file.commit()
    return written
  }
}

/// Lines of a file, read in 1 MiB pieces (a line's bytes without its `\n`).
struct LineReader {
  private let handle: FileHandle
  private var buffer: [UInt8] = []
  private var start = 0
  private var done = false

  init(path: String) throws {
    guard let h = FileHandle(forReadingAtPath: path) else {
      throw IngestError(
        .badModel, "cannot read it; give the output directories of koi score --shard.", at: SourceLocation(path: path))
    }
    handle = h
  }

  /// The end of the line starting at `start`, if the buffer holds it.
  private func lineEnd() -> Int? {
    buffer.withUnsafeBufferPointer { b -> Int? in
      guard start < b.count, let base = b.baseAddress else { return nil }
      guard let hit = memchr(base + start, 10, b.count - start) else { return nil }
      return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }
  }

  mutating func next() throws -> [UInt8]? {
    while true {
      if let end = lineEnd() {
        let line = Array(buffer[start..<end])
        start = end + 1
        return line
      }
      if done {
        guard start < buffer.count else { return nil }
        let line = Array(buffer[start...])
        start = buffer.count
        return line
      }
      let piece = try handle.read(upToCount: 1 << 20) ?? Data()
      if piece.isEmpty { done = true }
      buffer.removeSubrange(0..<start)
      start = 0
      buffer.append(contentsOf: piece)
    }
  }
}
