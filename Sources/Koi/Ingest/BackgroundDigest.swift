import Crypto
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The SHA-256 of a file's bytes as on disk (run.json's `sha256`), computed
/// on a thread of its own at the lowest priority (nice 19), right behind
/// the reader, from a second read of the file (the page cache, by then).
///
/// SHA-256 of 697 MB takes about 0.4 s of a core, even with the
/// processor's SHA instructions, and cannot be split across cores. On the
/// reader's prefetch thread it took a fifth of ingest's CPU while both
/// cores parsed (10M rows, issue 18). Started only once reading ended (at
/// nice 19), it ran through the sort and the stages' first steps and, with
/// RFM alone, on its own for 0.3 s after the results were written, one core
/// idle. Right behind the reader it slows ingest but fills the time the
/// parsing cores leave (each batch's end, the serial merges), and an
/// RFM-only run is shorter: 10M rows, alternating runs, whole process 2.02
/// → 1.96 s (5 each; ingest 1.21 → 1.34 s) and 2.04 → 2.01 s (6 each); with
/// all stages no change beyond the runs' spread (4 each, 9.91 → 10.00 s;
/// 2026-12-06, about 00:55–01:15 UTC). The idle class (`SCHED_IDLE`)
/// measured the same, and a thread cannot leave it without privileges, so
/// on a busy machine it could starve. The run waits only for what is left
/// when it writes run.json.
///
/// It reads no further than the reader read (`advance(to:)`), so the
/// digest is of the bytes that were parsed, unless the file is rewritten
/// while Koi reads it; a file that became shorter is an error, not a
/// checksum of part of it.
final class BackgroundDigest: @unchecked Sendable {
  private let fd: Int32
  private let path: String
  private let condition = NSCondition()
  // Guarded by `condition`.
  private var limit: Int64 = 0
  private var finished = false
  private var hashed: Int64 = 0
  private var cancelled = false
  private var outcome: Result<String, IngestError>?

  /// Starts hashing the file open as `fd` (a regular file, read from
  /// offset 0), through a duplicate descriptor of its own; nil when the
  /// descriptor cannot be duplicated (the caller then hashes as it reads).
  init?(fd: Int32, path: String) {
    let own = dup(fd)
    guard own >= 0 else { return nil }
    self.fd = own
    self.path = path
    let thread = Thread { [self] in run() }
    thread.name = "koi-sha256"
    thread.start()
  }

  /// The reader has read the first `bytes` bytes of the file: the hash
  /// may go that far.
  func advance(to bytes: Int64) {
    condition.lock()
    limit = max(limit, bytes)
    condition.unlock()
    condition.broadcast()
  }

  /// How many bytes have been hashed so far (for tests).
  var hashedBytes: Int64 {
    condition.lock()
    defer { condition.unlock() }
    return hashed
  }

  /// The reader is done: the digest is of the first `limit` bytes.
  func finish() {
    condition.lock()
    finished = true
    condition.unlock()
    condition.broadcast()
  }

  /// The reader stopped early (an error): stop hashing.
  func cancel() {
    condition.lock()
    cancelled = true
    condition.unlock()
    condition.broadcast()
  }

  /// The digest as lower-case hex, once `finish()` was called and the
  /// thread caught up; throws when the file could not be read again as it
  /// was.
  func value() throws -> String {
    condition.lock()
    defer { condition.unlock() }
    while outcome == nil { condition.wait() }
    return try outcome!.get()  // set just above
  }

  private func run() {
    // Linux keeps the nice value per thread: this lowers only this one.
    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 64)
    defer {
      buffer.deallocate()
      close(fd)
    }
    var digest = SHA256()
    var position: Int64 = 0
    var result: Result<String, IngestError>?
    while result == nil {
      condition.lock()
      hashed = position
      while limit == position && !finished && !cancelled { condition.wait() }
      let end = limit, done = finished, stop = cancelled
      condition.unlock()
      if stop { break }
      if position == end {
        if done { result = .success(SHA256Hex.hex(Array(digest.finalize()))) }
        continue
      }
      let n = pread(fd, buffer.baseAddress, Int(min(Int64(buffer.count), end - position)), off_t(position))
      if n < 0 && errno == EINTR { continue }
      if n < 0 {
        result = .failure(
          IngestError(
            .unreadable, "reading the file again for its SHA-256 failed (\(String(cString: strerror(errno)))).",
            at: SourceLocation(path: path)))
      } else if n == 0 {
        result = .failure(
          IngestError(
            .unreadable,
            "the file became shorter while Koi read it (\(end) bytes read, \(position) there now): something else writes to it. Run again when it is complete.",
            at: SourceLocation(path: path)))
      } else {
        digest.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        position += Int64(n)
      }
    }
    condition.lock()
    outcome = result ?? .failure(IngestError(.unreadable, "reading stopped.", at: SourceLocation(path: path)))
    condition.unlock()
    condition.broadcast()
  }
}

/// An input's SHA-256: known, or still computed by a `BackgroundDigest`.
struct InputChecksum: Sendable {
  private let known: String?
  private let pending: BackgroundDigest?

  init(_ known: String) {
    self.known = known
    pending = nil
  }

  init(pending: BackgroundDigest) {
    known = nil
    self.pending = pending
  }

  /// The SHA-256 as lower-case hex, waiting for a background digest.
  func value() throws -> String { try known ?? pending!.value() }  // one of the two is set
}
