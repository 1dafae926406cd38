import Foundation

/// Test hook: simulated "disk full" for files written under a directory.
/// A directory given a budget of N bytes accepts N more bytes of writes
/// through `AtomicFile` (all files under it together, or only those of one
/// output file), then every such write fails as with `ENOSPC`. Keyed by
/// directory so tests running in parallel in one process do not see each
/// other's faults; with no budget set, a write costs one uncontended lock
/// per flushed block (1 MB).
final class WriteFaults: @unchecked Sendable {
  static let shared = WriteFaults()
  private let lock = NSLock()
  /// Directory path with a trailing slash → bytes still writable, and the
  /// output file they are for (nil: every file).
  private var budgets: [String: (left: Int, file: String?)] = [:]

  /// From now on, at most `bytes` more bytes can be written under
  /// `directory`; with `file`, to output files of that name only (a run
  /// writes several files at once, so a budget over all of them would
  /// not say which one fills the disk).
  func failWrites(under directory: String, after bytes: Int, writing file: String? = nil) {
    lock.withLock { budgets[WriteFaults.key(directory)] = (bytes, file) }
  }

  func removeFault(under directory: String) {
    lock.withLock { _ = budgets.removeValue(forKey: WriteFaults.key(directory)) }
  }

  static func key(_ directory: String) -> String {
    URL(fileURLWithPath: directory).standardizedFileURL.path + "/"
  }

  /// How many of `bytes` a write to `path` (`AtomicFile`'s temporary file
  /// for `file`) may write now (0: fail).
  func allowance(path: String, file: String, bytes: Int) -> Int {
    lock.withLock {
      if budgets.isEmpty { return bytes }
      guard let k = budgets.keys.first(where: { path.hasPrefix($0) }), let budget = budgets[k],
        budget.file == nil || budget.file == file
      else { return bytes }
      let n = min(budget.left, bytes)
      budgets[k]!.left = budget.left - n  // found just above
      return n
    }
  }
}
