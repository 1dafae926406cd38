import Foundation

/// Test hook: simulated "disk full" for files written under a directory.
/// A directory given a budget of N bytes accepts N more bytes of writes
/// through `AtomicFile` (all files under it together), then every write
/// fails as with `ENOSPC`. Keyed by directory so tests running in parallel
/// in one process do not see each other's faults; with no budget set, a
/// write costs one uncontended lock per flushed block (1 MB).
final class WriteFaults: @unchecked Sendable {
  static let shared = WriteFaults()
  private let lock = NSLock()
  /// Directory path with a trailing slash → bytes still writable.
  private var budgets: [String: Int] = [:]

  /// From now on, at most `bytes` more bytes can be written under `directory`.
  func failWrites(under directory: String, after bytes: Int) {
    lock.withLock { budgets[WriteFaults.key(directory)] = bytes }
  }

  func removeFault(under directory: String) {
    lock.withLock { _ = budgets.removeValue(forKey: WriteFaults.key(directory)) }
  }

  static func key(_ directory: String) -> String {
    URL(fileURLWithPath: directory).standardizedFileURL.path + "/"
  }

  /// How many of `bytes` a write to `path` may write now (0: fail).
  func allowance(path: String, bytes: Int) -> Int {
    lock.withLock {
      if budgets.isEmpty { return bytes }
      guard let k = budgets.keys.first(where: { path.hasPrefix($0) }), let left = budgets[k] else { return bytes }
      let n = min(left, bytes)
      budgets[k] = left - n
      return n
    }
  }
}
