import Foundation
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// Where a run writes all its result files before any of them replaces a
/// previous result: a hidden directory `DIR/.koi-staging-<pid>-<n>` inside
/// the output directory (so on the same file system, where `rename` is
/// atomic and needs no space). `publish` moves the files into `DIR`
/// together; until then `DIR` holds the previous results untouched. A
/// staging directory never published (an error, a full disk) is removed on
/// deinit; one left by a killed process is removed by the next run in the
/// same directory.
///
/// Publishing is a series of renames (microseconds, no data written), the
/// manifest last. If one fails, the files already moved are put back from
/// hard links to the previous files taken before the first rename, so a
/// failed run leaves the previous results as they were. Only a kill in the
/// middle of those renames can leave a mix; the manifest, moved last, is
/// then still the previous run's.
final class StagingDirectory {
  /// The output directory the files are published to.
  let destination: String
  /// The staging directory itself.
  let path: String
  private var finished = false

  private static let prefix = ".koi-staging-"
  private static let counter = Counter()

  /// Creates the staging directory in `destination` (which must exist) and
  /// removes those left there by processes that are gone.
  init(destination: String) throws {
    self.destination = destination
    StagingDirectory.removeStale(in: destination)
    path = destination + "/" + StagingDirectory.prefix + "\(getpid())-\(StagingDirectory.counter.next())"
    unlinkTree(path)
    guard mkdir(path, 0o755) == 0 else {
      throw OutputError(
        path: path,
        message:
          "cannot create a staging directory for the results (\(String(cString: strerror(errno)))); check that the output directory is writable"
      )
    }
  }

  deinit { if !finished { discard() } }

  /// The staging path of the output file `name`.
  func path(_ name: String) -> String { path + "/" + name }

  /// Removes the staging directory and everything in it.
  func discard() {
    finished = true
    unlinkTree(path)
  }

  /// Moves the staged files `names` into the destination in order, then
  /// removes the destination's files `removing` (outputs of an earlier run
  /// that this one does not write), then moves `last` (the manifest), and
  /// removes the staging directory. On failure, restores the previous files
  /// and throws.
  func publish(_ names: [String], removing stale: [String], last: String) throws {
    precondition(!finished, "a staging directory is published once")
    let backup = path + "/.previous"
    guard mkdir(backup, 0o755) == 0 else {
      throw OutputError(path: backup, message: "cannot prepare publishing (\(String(cString: strerror(errno))))")
    }
    // Hard links to the previous files: no data copied, no space needed.
    // Where the file system has none, a failure cannot be undone for that file.
    var saved = Set<String>()
    for name in names + stale + [last] where link(destination + "/" + name, backup + "/" + name) == 0 {
      saved.insert(name)
    }
    var moved: [String] = [], removed: [String] = []
    func undo() {
      for name in moved.reversed() {
        if saved.contains(name) {
          rename(backup + "/" + name, destination + "/" + name)
        } else {
          unlink(destination + "/" + name)
        }
      }
      for name in removed where saved.contains(name) { rename(backup + "/" + name, destination + "/" + name) }
    }
    func move(_ name: String) throws {
      guard rename(path(name), destination + "/" + name) == 0 else {
        let e = errno
        undo()
        throw OutputError(
          path: destination + "/" + name,
          message: "could not be moved into place (\(String(cString: strerror(e)))); the previous results were kept")
      }
      moved.append(name)
    }
    for name in names { try move(name) }
    for name in stale {
      guard unlink(destination + "/" + name) == 0 || errno == ENOENT else {
        let e = errno
        undo()
        throw OutputError(
          path: destination + "/" + name,
          message:
            "could not remove this output of an earlier run (\(String(cString: strerror(e)))); the previous results were kept"
        )
      }
      removed.append(name)
    }
    try move(last)
    finished = true
    // The renames reach the disk with the directory; a failure here loses nothing already visible.
    if let directory = try? FileDescriptor.open(FilePath(destination), .readOnly, options: .directory) {
      _ = try? directory.closeAfter { fsync(directory.rawValue) }
    }
    unlinkTree(path)
  }

  /// Removes staging directories of processes that no longer run.
  static func removeStale(in directory: String) {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
      let pidText = name.dropFirst(prefix.count).prefix { $0 != "-" }
      guard let pid = Int32(pidText), pid != getpid() else { continue }
      if kill(pid, 0) == 0 || errno == EPERM { continue }  // still running (or not ours to judge)
      unlinkTree(directory + "/" + name)
    }
  }

  /// A process-wide sequence number, so two runs in one process do not share a staging directory.
  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
      lock.withLock {
        value += 1; return value
      }
    }
  }
}

/// Removes a file or directory tree; nothing if it does not exist.
private func unlinkTree(_ path: String) {
  try? FileManager.default.removeItem(atPath: path)
}
