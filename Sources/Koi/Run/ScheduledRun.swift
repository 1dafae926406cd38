import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Another run holds the output directory's lock. Exit code 5.
public struct RunLockedError: Error, Sendable, CustomStringConvertible {
  let lockPath: String
  public var description: String {
    "\(lockPath): another koi run is using this output directory; wait for it to finish (this run did nothing)"
  }
}

/// An exclusive `flock` on `OUT/.koi.lock`, released on deinit, or by the
/// kernel when the process dies (so a killed run never leaves a stale
/// lock).
final class RunLock {
  let fd: Int32
  public let path: String

  public init(directory: String) throws {
    path = directory + "/.koi.lock"
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw OutputError(path: path, message: "cannot create the lock file (\(String(cString: strerror(errno))))")
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      // No close here: the lock is fully initialised, so throwing runs
      // deinit, which closes `fd`. Closing it here too closed whatever
      // another thread had opened under the same number in between (seen
      // as "write failed (Bad file descriptor)" in parallel tests).
      let e = errno
      if e == EWOULDBLOCK { throw RunLockedError(lockPath: path) }
      throw OutputError(path: path, message: "cannot lock (\(String(cString: strerror(e))))")
    }
  }

  deinit { if fd >= 0 { close(fd) } }
}

/// What a scheduled run did.
public struct ScheduledRunResult: Sendable {
  public var runID: String
  public var runDirectory: String
  public var scoring: ScoringResult
  /// The previous successful run's model.json handed to this run, if any.
  var warmStartModelPath: String?
  public var exports: [String]
  var deletedRuns: [String]
  public var warnings: [String]
}

/// `koi run --config koi.toml`: one scheduled scoring run.
///
/// Layout of the output directory `OUT`:
///
/// ```
/// OUT/.koi.lock            flock: one run at a time
/// OUT/history.sqlite       every run, and per kept run each customer's segment/tier
/// OUT/runs/<run-id>/       customers.jsonl, segments.json, model.json, rejects.csv,
///                          run.json, exports/ (lists as JSON and CSV, tags.jsonl,
///                          tag_changes.jsonl, tag_dictionary.json)
/// OUT/runs/.partial-<id>/  a run being written (removed on failure)
/// OUT/latest -> runs/<id>  the newest successful run (symlink, repointed by rename)
/// ```
///
/// Run id: `<start time UTC, yyyyMMdd'T'HHmmss'Z'>-<as-of yyyyMMdd>`, with
/// `-2`, `-3` … when a run with the same id exists, so ids sort in start
/// order.
///
/// The history is the commit point. A run writes everything to
/// `.partial-<id>`, then records itself `succeeded` with its customers'
/// rows (one transaction), then renames the directory to `<id>` and
/// repoints `latest`. A kill at any instant leaves one of:
///
/// | killed                       | history           | on disk                  | the next run (lock held)           |
/// | ---------------------------- | ----------------- | ------------------------ | ---------------------------------- |
/// | before the record            | running           | `.partial-<id>` or none  | marks it abandoned, removes partial |
/// | after the record, before the rename | succeeded, rows | `.partial-<id>` complete | renames it to `<id>`, repoints `latest` |
/// | after the rename, before `latest`   | succeeded, rows | `<id>`                   | repoints `latest`                   |
/// | while deleting old runs      | succeeded, rows   | fewer old runs           | drops rows of runs no longer on disk |
///
/// so after the next run's start, `latest` is the newest succeeded run,
/// every run directory is a succeeded run, and every kept succeeded run has
/// its customers' rows (`reconcile`).
public enum ScheduledRun {
  /// Test hooks.
  public struct Hooks: Sendable {
    /// Called after the run directory is in place and before `latest` is
    /// repointed (a failure injected here must leave `latest` alone).
    var beforeRepoint: @Sendable () throws -> Void = {}
    public var now: @Sendable () -> Date = { Date() }
    /// Called at each step of the run; by default kills the process with
    /// SIGKILL at the step named by the environment variable
    /// `KOI_TEST_KILL_AT`, so tests can kill a real `koi run` at every
    /// instant that matters.
    var checkpoint: @Sendable (Checkpoint) -> Void = { point in
      if ScheduledRun.killPoint == point.rawValue { kill(getpid(), SIGKILL) }
    }
    public init() {}
  }

  /// The steps of a run at which a kill leaves a different state on disk.
  enum Checkpoint: String, Sendable, CaseIterable {
    /// The history row says `running`; nothing written yet.
    case begun
    /// `.partial-<id>` is complete; not yet recorded.
    case written
    /// Recorded `succeeded` with its customer rows; still `.partial-<id>`.
    case recorded
    /// Renamed to `runs/<id>`; `latest` not yet repointed.
    case moved
    /// `latest` points to the run; old runs not yet deleted.
    case published
    /// Old run directories deleted; their customer rows not yet dropped.
    case pruned
  }

  /// `KOI_TEST_KILL_AT`: see `Hooks.checkpoint`.
  static let killPoint = ProcessInfo.processInfo.environment["KOI_TEST_KILL_AT"]

  public static func run(
    _ config: RunConfig, hooks: Hooks = Hooks(), progress: @escaping (ProgressEvent) -> Void = { _ in }
  ) throws -> ScheduledRunResult {
    let out = config.outputDirectory
    let runsDir = out + "/runs"
    try OutputDirectory.prepare(out)
    try OutputDirectory.prepare(runsDir)
    let lock = try RunLock(directory: out)
    defer { withExtendedLifetime(lock) {} }

    let history = try RunHistory(path: out + "/history.sqlite")
    try reconcile(out: out, history: history)

    let started = hooks.now()
    let asOfDay = config.asOfDay(now: started)
    let known = Set(try history.runs().map(\.id))
    let runID = uniqueRunID(base: runID(started: started, asOfDay: asOfDay), in: runsDir, known: known)
    let finalDir = runsDir + "/" + runID
    let partialDir = runsDir + "/.partial-" + runID

    // Warm start: the model of the newest successful run still on disk.
    var warmStart: String?
    for r in try history.runs().reversed() where r.status == "succeeded" {
      let p = runsDir + "/" + r.id + "/model.json"
      if FileManager.default.fileExists(atPath: p) { warmStart = p; break }
    }

    // Tag changes compare with the newest succeeded run. Its tags come from
    // the history, the commit point: a failed run never has rows there, so it
    // never becomes "previous", and no run directory needs to be read.
    let previousRun = try history.runs().last { $0.status == "succeeded" }?.id
    try history.begin(
      id: runID, asOf: DayNumber.format(asOfDay), startedAt: UTCTime.iso8601(started), inputPath: config.inputPath)
    hooks.checkpoint(.begun)
    var scoring: ScoringResult
    var warnings: [String]
    let exports: WrittenExports
    var recorded = false
    do {
      let options = scoreOptions(config, asOfDay: asOfDay, outputDirectory: partialDir, warmStartModelPath: warmStart)
      scoring = try ScoringRun.run(options, progress: progress)
      warnings = scoring.manifest.warnings
      // The steps after the scoring run are timed into run.json `seconds`.
      let scoringEnded = Date()

      // The run's customers in history.sqlite's key order (by id bytes),
      // for every read and write of the history below: sorted once, not
      // four times (0.5 CPU-s of a second 10M-row run's profile).
      let keyOrder = RadixSort.utf8Order(scoring.ledger.customerIDs)
      progress(.writing("exports"))
      var previousTags: PreviousTags?
      if let previousRun {
        previousTags = try history.tags(ofRun: previousRun, customerIDs: scoring.ledger.customerIDs, order: keyOrder)
        if previousTags == nil {
          warnings.append(
            "the previous run \(previousRun) has no recorded tags (recorded by an older Koi, or its rows were dropped); tag_changes.jsonl lists every tag as added."
          )
        }
      }
      let tagsRead = Date().timeIntervalSince(scoringEnded)
      // Two lines of work at once, one a core, neither reading what the
      // other writes: history.sqlite's (earlier runs' 30-day predictions
      // checked against the purchases since, report.html's history read,
      // this run's predictions recorded for a later run to check) and the
      // files' (the exports, then report.html once its history is read).
      // One after the other, the second core idled through the history's
      // steps (a 10M-row run's predictions took 2.5–7.6 s alone). On one
      // core (`Parallel.both`), the history's line runs first, so the
      // report never waits for a line that has not started.
      //
      // Checks are measurements, not results: a failure is a warning, as is
      // a report that could not be made. Should the exports fail, the
      // earlier runs' checks stand (they measure the purchases since,
      // whatever this run becomes) and `fail` drops this run's predictions.
      // Each step is timed on its own, so in run.json `seconds` the two
      // lines overlap.
      let result = scoring
      let earlier = OneShot<(history: Result<ReportHistory, any Error>, seconds: Double)?>()
      let (historyWork, fileWork) = Parallel.both(
        { () -> HistoryWork in
          let checks = timed {
            Result {
              try PredictionChecks.checkEarlier(
                db: history.db, currentRunID: runID, asOfDay: asOfDay, ledger: result.ledger, order: keyOrder)
            }
          }
          earlier.put(
            config.reportLanguage.map { _ in
              let loaded = timed {
                Result {
                  try ReportHistory.load(
                    history.db, runID: runID, customerIDs: result.ledger.customerIDs, order: keyOrder)
                }
              }
              return (loaded.value, loaded.seconds)
            })
          var work = HistoryWork(checks: checks.value, seconds: checks.seconds)
          guard case .success = checks.value, options.stages.contains(.intervals) else { return work }
          let recorded = timed {
            Result { try PredictionChecks.record(runID: runID, scoring: result, db: history.db, order: keyOrder) }
          }
          if case .failure(let error) = recorded.value { work.recordError = error }
          work.seconds += recorded.seconds
          return work
        },
        { () -> FileWork in
          let exported = timed {
            Result {
              try writeExports(
                scoring: result, config: config, runID: runID, directory: partialDir + "/exports",
                previous: previousTags.map { ($0, previousRun ?? "") })
            }
          }
          var work = FileWork(exports: exported.value, exportSeconds: exported.seconds)
          // report.html, from the run's columns and files and the history of
          // the runs before this one; not made when the run has failed.
          guard case .success = exported.value, let language = config.reportLanguage else { return work }
          progress(.writing("report.html"))
          let loaded = earlier.take()
          let written = timed {
            Result {
              try RunReport.write(
                directory: partialDir, language: language, history: try loaded?.history.get(), scoring: result)
            }
          }
          if case .failure(let error) = written.value { work.reportError = error }
          work.reportSeconds = written.seconds + (loaded?.seconds ?? 0)
          return work
        })
      exports = try fileWork.exports.get()
      warnings += exports.warnings
      scoring.manifest.seconds["exports"] = rounded(tagsRead + fileWork.exportSeconds, 3)
      scoring.manifest.seconds["predictions"] = rounded(historyWork.seconds, 3)
      scoring.manifest.seconds["report"] = rounded(fileWork.reportSeconds, 3)
      switch historyWork.checks {
      case .success(let checks): scoring.manifest.predictionChecks = checks
      case .failure(let error): warnings.append("earlier predictions were not checked (\(error)).")
      }
      if let error = historyWork.recordError {
        warnings.append("this run's predictions were not kept for a later run to check (\(error)).")
      }
      if let error = fileWork.reportError {
        warnings.append("report.html was not written (\(error)); write it with koi report \(finalDir).")
      }
      // run.json, written by the scoring run, gains the exports, their
      // warnings and the tag-change totals; the run directory is published
      // as a whole (renamed), so this rewrite is not visible half-done.
      // Run.json stays last.
      scoring.manifest.outputs.insert(contentsOf: exports.files, at: max(0, scoring.manifest.outputs.count - 1))
      scoring.manifest.warnings = warnings
      scoring.manifest.tagChanges = exports.tagChanges
      try AtomicFile.write(try Array(JSONEncoder.koi.encode(scoring.manifest)) + [10], to: partialDir + "/run.json")
      hooks.checkpoint(.written)

      // Record first: from here on the run exists, and a kill before it is
      // published is finished by the next run (`reconcile`). (About 2.5 s
      // at 10M rows: a progress line, so the run does not look stalled.)
      progress(.writing("history.sqlite"))
      let ids = scoring.ledger.customerIDs
      let segments: [String?] =
        scoring.rfm.map { $0.segment.map { Optional($0.rawValue) } } ?? Array(repeating: nil, count: ids.count)
      let tiers = scoring.tiers.map { $0.tier.map { $0?.rawValue } }
      try history.succeed(
        id: runID, manifest: scoring.manifest, customerIDs: ids, segments: segments, tiers: tiers, tags: scoring.tags,
        order: keyOrder)
      recorded = true
      hooks.checkpoint(.recorded)

      guard rename(partialDir, finalDir) == 0 else {
        throw OutputError(
          path: finalDir, message: "cannot move the finished run into place (\(String(cString: strerror(errno))))")
      }
      hooks.checkpoint(.moved)
      try hooks.beforeRepoint()
      try repointLatest(out: out, runID: runID)
    } catch {
      // Not published: `latest` still points to the previous run.
      try? FileManager.default.removeItem(atPath: partialDir)
      if recorded { try? FileManager.default.removeItem(atPath: finalDir) }
      try? history.fail(id: runID, message: "\(error)", finishedAt: UTCTime.iso8601(hooks.now()))
      throw error
    }
    hooks.checkpoint(.published)

    // The run is published; failing to delete old runs does not undo it.
    var deleted: [String] = []
    do {
      deleted = try pruneRuns(in: runsDir, keep: config.runsToKeep, sparing: runID)
      hooks.checkpoint(.pruned)
      try history.forgetCustomers(ofRuns: deleted)
    } catch {
      warnings.append("old runs were not all cleaned up (\(error)); the next run tries again.")
    }
    return ScheduledRunResult(
      runID: runID, runDirectory: finalDir, scoring: scoring, warmStartModelPath: warmStart,
      exports: exports.files, deletedRuns: deleted, warnings: warnings)
  }

  /// Brings the output directory and the history into agreement after a
  /// killed run (call with the lock held, before a new run starts):
  ///
  /// - a run recorded `succeeded` whose directory is still `.partial-<id>`
  ///   (killed between the record and the rename) is moved into place;
  ///   other `.partial-*` directories are removed;
  /// - a run not recorded `succeeded` whose directory `runs/<id>` is in
  ///   place was published by an earlier Koi, which renamed and repointed
  ///   before recording (a kill in between left it `running`, then
  ///   `abandoned`, without customer rows): it is recorded `succeeded` from
  ///   its run.json and customers.jsonl (`recover`);
  /// - runs still `running` are marked `abandoned`;
  /// - `latest` is moved forward to the newest succeeded run on disk if it
  ///   points to an older run or to nothing (killed before the repoint);
  /// - succeeded runs whose directories are gone lose their customer rows
  ///   (killed between deleting old runs and dropping their rows).
  static func reconcile(out: String, history: RunHistory) throws {
    let runsDir = out + "/runs"
    let fm = FileManager.default
    var succeeded = try history.runs().filter { $0.status == "succeeded" }.map(\.id)
    let recorded = Set(succeeded)
    for name in (try? fm.contentsOfDirectory(atPath: runsDir)) ?? [] where name.hasPrefix(".partial-") {
      let id = String(name.dropFirst(".partial-".count))
      if recorded.contains(id) && !fm.fileExists(atPath: runsDir + "/" + id)
        && rename(runsDir + "/" + name, runsDir + "/" + id) == 0
      {
        continue
      }
      try? fm.removeItem(atPath: runsDir + "/" + name)
    }
    for r in try history.runs() where r.status == "running" || r.status == "abandoned" {
      let dir = runsDir + "/" + r.id
      guard fm.fileExists(atPath: dir + "/run.json") else { continue }
      // Unreadable files leave the run as it was (abandoned; deleted in time by runs_to_keep).
      if (try? recover(runID: r.id, from: dir, history: history)) != nil { succeeded.append(r.id) }
    }
    succeeded.sort()
    try history.abandonStale()

    let kept = succeeded.filter { fm.fileExists(atPath: runsDir + "/" + $0 + "/run.json") }
    if let newest = kept.last {
      let target = (try? fm.destinationOfSymbolicLink(atPath: out + "/latest")) ?? ""
      let current = target.hasPrefix("runs/") ? String(target.dropFirst("runs/".count)) : ""
      let targetExists = !current.isEmpty && fm.fileExists(atPath: runsDir + "/" + current + "/run.json")
      // Ids sort in start order; `latest` only moves forward.
      if !targetExists || current < newest { try repointLatest(out: out, runID: newest) }
    }
    try history.forgetCustomers(ofRuns: succeeded.filter { !fm.fileExists(atPath: runsDir + "/" + $0) })
  }

  /// Records a published but unrecorded run as succeeded from its
  /// directory: the manifest from run.json, each customer's segment and tier
  /// id from customers.jsonl (read in 1 MB blocks, one line at a time).
  ///
  /// - Complexity: O(size of customers.jsonl).
  static func recover(runID: String, from dir: String, history: RunHistory) throws {
    let manifest = try JSONDecoder.koi.decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/run.json")))
    struct Record: Decodable {
      struct Tier: Decodable { var id: Int }
      var customer_id: String
      var segment: String?
      var tier: Tier?
      var tags: [String]?
    }
    guard let file = FileHandle(forReadingAtPath: dir + "/customers.jsonl") else {
      throw OutputError(path: dir + "/customers.jsonl", message: "cannot be read")
    }
    defer { try? file.close() }
    let decoder = JSONDecoder()
    var ids: [String] = [], segments: [String?] = [], tiers: [Int?] = [], tags: [[String]?] = []
    var pending = Data()
    func take(_ line: Data) throws {
      guard !line.isEmpty else { return }
      let r = try decoder.decode(Record.self, from: line)
      ids.append(r.customer_id)
      segments.append(r.segment)
      tiers.append(r.tier?.id)
      tags.append(r.tags)
    }
    while let block = try file.read(upToCount: 1 << 20), !block.isEmpty {
      pending.append(block)
      var start = pending.startIndex
      while let nl = pending[start...].firstIndex(of: 10) {
        try take(pending[start..<nl])
        start = pending.index(after: nl)
      }
      pending = Data(pending[start...])
    }
    try take(pending)
    guard ids.count == manifest.customers else {
      throw OutputError(
        path: dir + "/customers.jsonl", message: "has \(ids.count) customers, run.json says \(manifest.customers)")
    }
    try history.succeed(
      id: runID, manifest: manifest, customerIDs: ids, segments: segments,
      tiers: tiers.contains { $0 != nil } ? tiers : nil,
      message: "recorded by a later run from its directory (it was published, then killed before it was recorded)",
      tags: tags.contains { $0 == nil } ? nil : CustomerTags(tags.map { $0 ?? [] }))
  }

  /// The `ScoreOptions` of one scheduled run.
  static func scoreOptions(
    _ config: RunConfig, asOfDay: Int32, outputDirectory: String, warmStartModelPath: String?
  ) -> ScoreOptions {
    var options = ScoreOptions(inputPath: config.inputPath, outputDirectory: outputDirectory)
    options.inputs = config.inputs
    options.command = "run"
    options.ingest = config.ingest
    options.ingest.asOfDay = asOfDay
    options.stages = config.stages
    options.rfm = config.rfm
    options.initModelPath = warmStartModelPath
    options.tiers = config.tiers
    options.lifetime = config.lifetime
    options.intervals = config.intervals
    for (item, prior) in config.categoryPriors {
      switch prior {
      case let .cycleDays(d): options.intervals.priors[item] = Double(d)
      case .oneOff: options.oneOffCategories.insert(item)
      }
    }
    options.dueWithinDays = config.exports.dueWithinDays
    options.dueMinimumProbability = config.dueMinimumProbability
    options.dueLimit = config.dueLimit
    options.tagRules = config.tagRules
    return options
  }

  /// The exports' file names, warnings and tag-change totals (`writeExports`).
  typealias WrittenExports = (files: [String], warnings: [String], tagChanges: TagChangeSummary)

  /// What the history's line of work after the scoring run gives.
  struct HistoryWork {
    var checks: Result<[PredictionCheck], any Error>
    var recordError: (any Error)?
    var seconds: Double
  }

  /// What the files' line of work after the scoring run gives.
  struct FileWork {
    var exports: Result<WrittenExports, any Error>
    var exportSeconds: Double
    var reportError: (any Error)?
    var reportSeconds = 0.0
  }

  /// `body()`'s value and the seconds it took.
  static func timed<T>(_ body: () -> T) -> (value: T, seconds: Double) {
    let start = Date()
    let value = body()
    return (value, Date().timeIntervalSince(start))
  }

  /// The campaign lists, exports/tags.jsonl, exports/tag_changes.jsonl
  /// (against `previous`: the previous run's tags matched to this run's
  /// customers, and that run's id; nil on a first run) and
  /// exports/tag_dictionary.json. Ids are pseudonymised alike in every file
  /// when `hash_ids_salt` is set.
  static func writeExports(
    scoring: ScoringResult, config: RunConfig, runID: String, directory: String,
    previous: (tags: PreviousTags, runID: String)? = nil
  ) throws -> WrittenExports {
    let tags = scoring.tags
    let ids = scoring.ledger.customerIDs
    let pseudonym: (String) -> String
    if let salt = config.exports.hashIDsSalt {
      let p = Pseudonymizer(salt: salt)
      pseudonym = p.pseudonym
    } else {
      pseudonym = { $0 }
    }
    let exported = config.exports.hashIDsSalt == nil ? ids : ids.map(pseudonym)
    let (lists, listWarnings) = CampaignLists.build(
      facts: scoring.facts, tags: tags, customerIDs: ids, exportedIDs: exported,
      options: config.exports, runID: runID, asOf: scoring.model.asOf)
    var files = try CampaignListWriter.write(
      lists, to: directory, csv: config.exports.csv, language: config.exports.language)
    try CustomersWriter.write(
      to: directory + "/tags.jsonl", customerIDs: exported, fields: [TagRecordFields(tags: tags)])
    files.append("tags.jsonl")
    let (changes, summary) = TagChanges.compute(
      customerIDs: ids, exportedIDs: exported, tags: tags, previous: previous?.tags, previousRun: previous?.runID,
      pseudonym: pseudonym)
    try TagChanges.write(changes, to: directory + "/tag_changes.jsonl")
    files.append("tag_changes.jsonl")
    let (dictionary, dictionaryWarnings) = TagDictionary.build(
      rules: config.tagRules, categories: scoring.ledger.categories, runID: runID)
    try AtomicFile.write(try Array(JSONEncoder.koi.encode(dictionary)) + [10], to: directory + "/tag_dictionary.json")
    files.append("tag_dictionary.json")
    return (files.map { "exports/" + $0 }, listWarnings + dictionaryWarnings, summary)
  }

  static func runID(started: Date, asOfDay: Int32) -> String {
    UTCTime.compact(started) + "-" + DayNumber.format(asOfDay).replacingOccurrences(of: "-", with: "")
  }

  /// `base`, or `base-2`, `base-3` … when a directory or a history row
  /// (a killed or failed run) already has the id.
  static func uniqueRunID(base: String, in dir: String, known: Set<String>) -> String {
    var id = base, n = 1
    while known.contains(id) || FileManager.default.fileExists(atPath: dir + "/" + id) { n += 1; id = "\(base)-\(n)" }
    return id
  }

  /// `OUT/latest` → `runs/<id>`: a relative symlink made under a temporary
  /// name and renamed over the old one (rename is atomic).
  static func repointLatest(out: String, runID: String) throws {
    let tmp = out + "/.latest-\(getpid())"
    unlink(tmp)
    guard symlink("runs/" + runID, tmp) == 0 else {
      throw OutputError(path: tmp, message: "cannot create the latest link (\(String(cString: strerror(errno))))")
    }
    guard rename(tmp, out + "/latest") == 0 else {
      let e = errno
      unlink(tmp)
      throw OutputError(path: out + "/latest", message: "cannot repoint (\(String(cString: strerror(e))))")
    }
  }

  /// The run directories, oldest first (ids sort in start order).
  static func runDirectories(in dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
  }

  /// Deletes all but the newest `keep` run directories; returns their ids.
  static func pruneRuns(in dir: String, keep: Int, sparing current: String) throws -> [String] {
    let all = runDirectories(in: dir)
    // The run just made is never deleted, even if the clock went back.
    let old = Array(all.filter { $0 != current }.dropLast(max(0, keep - 1)))
    for id in old { try? FileManager.default.removeItem(atPath: dir + "/" + id) }
    return old
  }
}
