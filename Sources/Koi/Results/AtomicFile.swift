import Foundation
import SystemPackage

#if canImport(Glibc)
  import Glibc
#endif

/// A file written under a temporary name in its destination directory and
/// renamed into place by `commit()`, so readers see either the previous file
/// or the complete new one. A file never committed is removed.
public final class AtomicFile {
  public let path: String
  /// The file's name, the last component of `path`.
  private let name: String
  private let temporaryPath: String
  private let fd: FileDescriptor
  /// Set once `close` was called: close(2) releases the descriptor even when
  /// it reports an error, so it must not be closed again.
  private var closed = false
  private var buffer: [UInt8] = []
  private var committed = false
  private let streamed: Bool
  /// Bytes in the file so far.
  private var size = 0
  static let flushThreshold = 1 << 20
  static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

  /// - Parameter streamed: for large files (customers.jsonl): after each
  ///   write, the file's dirty pages are handed to writeback and those
  ///   already on disk leave the page cache (`POSIX_FADV_DONTNEED`), so the
  ///   file streams through a few blocks of page cache whose pages are
  ///   reused. A fresh page for every 4 KB is what costs: on the 2-core VM
  ///   (which hands free pages back to its host) 1.43 GB in 16 MB writes
  ///   took about 4 s into fresh pages against 0.6-0.9 s streamed, fsync
  ///   included. `commit()` syncs either way; the price is that the file is
  ///   not left cached for its next reader. Only whole pages are advised:
  ///   the partly written last page, once dropped, was read back from disk
  ///   by the next write, which then waited for it (in a 10M-row run, ~375
  ///   such waits in a 1.5 s write step, the cores about 11% idle). Advice
  ///   after every write, not every 8 MiB: with less writeback started
  ///   early, the 58 `fsync` calls of a 10M-row `koi run` waited
  ///   0.20 and 0.35 s in all, against 0.11 and 0.15 s.
  public init(path: String, streamed: Bool = false) throws {
    self.path = path
    self.streamed = streamed
    let url = URL(fileURLWithPath: path)
    name = url.lastPathComponent
    temporaryPath =
      url.deletingLastPathComponent()
      .appendingPathComponent(".\(name).partial-\(getpid())").path
    do {
      fd = try FileDescriptor.open(
        FilePath(temporaryPath), .writeOnly, options: [.create, .truncate],
        permissions: FilePermissions(rawValue: 0o644))
    } catch {
      // `Errno` describes itself with strerror(3).
      throw OutputError(path: path, message: "cannot create (\(error)); check that the output directory is writable")
    }
    buffer.reserveCapacity(AtomicFile.flushThreshold * 2)
  }

  deinit {
    if !committed {
      if !closed { try? fd.close() }
      unlink(temporaryPath)
    }
  }

  public func write(_ bytes: some ContiguousBytes) throws {
    try bytes.withUnsafeBytes { bytes in
      if bytes.count >= AtomicFile.flushThreshold {
        // Large blocks go straight to the file, without a copy into the buffer.
        try flush()
        try writeAll(bytes)
        return
      }
      buffer.append(contentsOf: bytes)
      if buffer.count >= AtomicFile.flushThreshold { try flush() }
    }
  }

  public func write(_ text: String) throws { try write(Array(text.utf8)) }

  private func flush() throws {
    try buffer.withUnsafeBytes { try writeAll($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes all of `bytes` (`FileDescriptor.writeAll` retries short writes
  /// and EINTR), or as many as `WriteFaults` allows before failing as with
  /// ENOSPC.
  private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
    let allowed = WriteFaults.shared.allowance(path: temporaryPath, file: name, bytes: bytes.count)
    do {
      size += try fd.writeAll(UnsafeRawBufferPointer(rebasing: bytes[..<allowed]))
      if allowed < bytes.count { throw Errno.noSpace }
    } catch {
      throw OutputError(path: path, message: "write failed (\(error))")
    }
    let wholePages = size / AtomicFile.pageSize * AtomicFile.pageSize
    // Not with 0: a length of 0 means to the end of the file, the partly
    // written page included. Advice: its result does not matter, and write
    // errors surface at fsync.
    if streamed && wholePages > 0 { _ = posix_fadvise(fd.rawValue, 0, off_t(wholePages), POSIX_FADV_DONTNEED) }
  }

  /// Flushes, syncs and renames into place.
  func commit() throws {
    try flush()
    do {
      guard fsync(fd.rawValue) == 0 else { throw Errno(rawValue: errno) }
      closed = true
      try fd.close()
    } catch {
      throw OutputError(path: path, message: "could not be saved (\(error))")
    }
    committed = true
    guard rename(temporaryPath, path) == 0 else {
      unlink(temporaryPath)
      throw OutputError(path: path, message: "could not be moved into place (\(String(cString: strerror(errno))))")
    }
  }

  /// Writes `bytes` to `path` atomically.
  public static func write(_ bytes: some ContiguousBytes, to path: String) throws {
    let f = try AtomicFile(path: path)
    try f.write(bytes)
    try f.commit()
  }
}
