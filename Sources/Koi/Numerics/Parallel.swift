import Dispatch
import Foundation

/// Fixed, deterministic chunking for data-parallel loops.
///
/// Work over `0..<count` is cut into `chunkCount` contiguous ranges whose
/// boundaries depend only on `count` and `chunkCount`, never on scheduling,
/// so a reduction that combines per-chunk partial results in chunk order is
/// bit-identical whatever the number of threads.
enum Parallel {
  /// Processor cores available to this process.
  static var coreCount: Int { max(1, min(threadLimit ?? Int.max, System.activeProcessorCount)) }

  /// At most this many threads work at once (`--threads`), nil for one per
  /// core. Set once, before any work starts. Results do not depend on it:
  /// chunk boundaries depend only on the counts.
  nonisolated(unsafe) static var threadLimit: Int?

  /// The `index`-th of `chunkCount` near-equal contiguous ranges of `0..<count`.
  @inlinable
  public static func chunk(_ index: Int, of chunkCount: Int, count: Int) -> Range<Int> {
    let lo = count * index / chunkCount
    let hi = count * (index + 1) / chunkCount
    return lo..<hi
  }

  /// Runs `body(chunkIndex, range)` for `chunkCount` chunks of `0..<count`,
  /// concurrently when `chunkCount > 1`. `body` must only write state owned by
  /// its chunk.
  static func forEachChunk(
    count: Int, chunkCount: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
  ) {
    precondition(chunkCount >= 1, "need at least one chunk")
    if chunkCount == 1 {
      body(0, 0..<count)
      return
    }
    if let limit = threadLimit, limit < chunkCount {
      // `limit` workers, each taking every limit-th chunk.
      DispatchQueue.concurrentPerform(iterations: max(1, limit)) { w in
        for c in stride(from: w, to: chunkCount, by: max(1, limit)) {
          body(c, chunk(c, of: chunkCount, count: count))
        }
      }
      return
    }
    DispatchQueue.concurrentPerform(iterations: chunkCount) { c in
      body(c, chunk(c, of: chunkCount, count: count))
    }
  }

  /// `first()` and `second()` at once, `second` on a thread of its own, for
  /// two pieces of work of which `first` runs parallel loops itself: a
  /// `forEachChunk` inside another one runs serially (`dispatch_apply`), so
  /// `second` is not one of its chunks. Under `--threads` (`threadLimit`)
  /// or on one core, one after the other, so Koi keeps to its threads.
  /// `second` and what it captures are released before `both` returns, on
  /// the thread that ran it: a capture whose deinit does work (a staging
  /// directory that removes itself) must not run it later, beside the
  /// caller (it did, and a failed run's directory was left half-removed).
  static func both<A, B>(_ first: () -> A, _ second: @escaping () -> B) -> (A, B) {
    guard threadLimit == nil && coreCount > 1 else { return (first(), second()) }
    let work = Handoff<B>(second), result = OneShot<B>()
    // `run` releases the work before its value is put.
    Thread { result.put(work.run()) }.start()
    let a = first()
    return (a, result.take())
  }

  /// `(0..<count).map(transform)`, the items computed concurrently (one
  /// chunk each, for a few large independent pieces of work). Each item is
  /// computed exactly as alone, so the result does not depend on the threads.
  static func map<T>(_ count: Int, _ transform: (Int) -> T) -> [T] {
    [T](unsafeUninitializedCapacity: count) { out, initialized in
      forEachChunk(count: count, chunkCount: max(1, count)) { _, range in
        for i in range { (out.baseAddress! + i).initialize(to: transform(i)) }  // capacity count > i ≥ 0
      }
      initialized = count
    }
  }

  /// `(0..<count).map(transform)` for many cheap items: computed in
  /// `chunkCount(for: count, minimumChunk: minimumChunk)` contiguous chunks
  /// on every core, each item exactly as alone.
  static func map<T>(elements count: Int, minimumChunk: Int = 16_384, _ transform: (Int) -> T) -> [T] {
    [T](unsafeUninitializedCapacity: count) { out, initialized in
      forEachChunk(count: count, chunkCount: chunkCount(for: count, minimumChunk: minimumChunk)) { _, range in
        for i in range { (out.baseAddress! + i).initialize(to: transform(i)) }  // capacity count > i ≥ 0
      }
      initialized = count
    }
  }

  /// A chunk count for `count` items: enough chunks to keep every core busy,
  /// none smaller than `minimumChunk` items. The result depends only on
  /// `count` and `minimumChunk`, never on the machine, so reductions stay
  /// deterministic across machines too.
  static func chunkCount(for count: Int, minimumChunk: Int = 16_384, maximumChunks: Int = 64) -> Int {
    max(1, min(maximumChunks, count / max(1, minimumChunk)))
  }

  /// A chunk count for a loop over `customers` whose work is in their
  /// `rows` rows: as many chunks as the customers call for, or as the rows
  /// do (65,536 a chunk) when that is more, never more than one chunk a
  /// customer. By customers alone, a few customers with many rows each
  /// (Complete Journey: 2,469 households, 1.46M rows) made one chunk, run
  /// on one core. Like `chunkCount(for:)`, it depends only on the counts.
  static func chunkCount(customers: Int, rows: Int, minimumChunk: Int = 16_384) -> Int {
    max(
      chunkCount(for: customers, minimumChunk: minimumChunk),
      min(customers, chunkCount(for: rows, minimumChunk: 65_536)))
  }
}

/// Work run once by a thread, released with its captures as soon as it has
/// run (the thread object keeps its own closure until the thread ends).
private final class Handoff<T>: @unchecked Sendable {
  private var work: (() -> T)?

  init(_ work: @escaping () -> T) { self.work = work }

  /// Computes the value; the work is released when this returns.
  func run() -> T {
    guard let w = work else { preconditionFailure("the work runs once") }
    work = nil
    return w()
  }
}

/// A value one thread hands to another once.
final class OneShot<T>: @unchecked Sendable {
  private var value: T?
  private let ready = DispatchSemaphore(value: 0)

  /// Call once.
  func put(_ v: T) {
    value = v
    ready.signal()
  }

  /// Waits for `put`'s value (call once, after or while it is put).
  func take() -> T {
    ready.wait()
    // Set before the signal just received.
    guard let v = value else { preconditionFailure("signalled without a value") }
    return v
  }
}

private enum System {
  /// Read once: Foundation reads the cgroup's CPU quota and cpuset files
  /// on every call, and the boosting asks before each parallel step (2% of
  /// a 1M-row interval stage's samples, file reads included).
  static let activeProcessorCount = ProcessInfo.processInfo.activeProcessorCount
}
