import Foundation

/// One stage's part of each customers.jsonl record.
public protocol CustomerRecordFields: Sendable {
  /// Writes this stage's keys for customer `c` into the open record object.
  func write(customer c: Int, into w: inout JSONWriter)
}

/// Streams customers.jsonl: one JSON object per line, in customer-index
/// order (first appearance in the input), `customer_id` first, then each
/// stage's fields in pipeline order.
///
/// Records are formatted on every core in fixed blocks and written in block
/// order, so the bytes do not depend on the thread count.
///
/// - Complexity: O(customers × fields).
enum CustomersWriter {
  /// Customers a block, at most: about 2 MB of output at 10M rows. Each
  /// worker's buffer holds a block, and the buffers are alive at the run's
  /// peak: blocks of 16,384 customers (16 MB buffers) put 27 MiB more on
  /// the peak at 10M rows (903 against 876 MiB, medians of 3 alternating
  /// runs) and wrote no faster.
  static let maximumBlock = 2_048

  /// Customers a block for `customers` in all: `maximumBlock`, or an eighth of
  /// them (64 at least) when that is less. Complete Journey's 2,469
  /// households (25 KB of record each) were a block of 2,048 and one of
  /// 421, so one core formatted most of the file. The bytes do not depend
  /// on the blocks.
  static func blockSize(customers: Int) -> Int { max(64, min(maximumBlock, customers / 8)) }

  public static func write(
    to path: String, customerIDs: [String], fields: [any CustomerRecordFields]
  ) throws {
    let file = try AtomicFile(path: path, streamed: true)
    let block = blockSize(customers: customerIDs.count)
    let blockCount = (customerIDs.count + block - 1) / block
    let workerCount = max(1, min(Parallel.coreCount, blockCount))
    // Each worker takes the next block and formats it into its own buffer.
    // If the blocks before it are written, it writes it (and any later
    // blocks left waiting); if not, it leaves the text for whoever writes
    // the block before and formats the next one. Every core formats and
    // takes its turn at writing, and no core waits for another's block
    // while there is a block to format. Reusing a worker's buffer keeps its
    // pages mapped; a fresh buffer per block was a page fault and a page
    // clear per 4 KB of output.
    let turns = BlockTurns(count: blockCount, file: file)
    Parallel.forEachChunk(count: workerCount, chunkCount: workerCount) { _, _ in
      var w = JSONWriter(capacity: block * 1024)
      while let b = turns.claim() {
        format(
          customers: b * block..<min(customerIDs.count, (b + 1) * block), into: &w, customerIDs: customerIDs,
          fields: fields)
        turns.finish(b, &w)
      }
    }
    if let error = turns.error { throw error }
    try file.commit()
  }

  /// Formats the records of `customers` into `w`, replacing what it held.
  static func format(
    customers: Range<Int>, into w: inout JSONWriter, customerIDs: [String], fields: [any CustomerRecordFields]
  ) {
    w.removeAll()
    for c in customers {
      w.beginObject()
      w.key("customer_id"); w.string(customerIDs[c])
      // Called in place: `for f in fields` (or a read through an unsafe
      // buffer pointer) copies each field value out of the array for every
      // customer, retaining and releasing every column it holds, on the
      // same reference counts from every core.
      for i in fields.indices { fields[i].write(customer: c, into: &w) }
      w.endObject()
      w.newline()
    }
  }
}

/// Hands out blocks `0..<count` in order and writes their texts to the file
/// in block order, one write at a time.
///
/// A block formatted before its turn is left here (`waiting`) by the worker
/// that formatted it, which goes on to the next block; the worker that
/// writes the block before writes it too. Before, that worker waited for
/// its turn: whenever the worker holding the earlier block lost its core
/// (to the run's other files, written beside customers.jsonl, or to
/// another process), the other core idled with it (in a 10M-row run,
/// 110-170 ms of the two cores idle in a write step of about 0.9 s, by
/// `perf sched timehist`; 26-111 ms since). At most `waitingLimit` texts
/// wait; a worker with another finished block then waits as before, so
/// memory stays bounded (4 blocks of about 2 MB). No worker waits forever:
/// blocks are claimed in order, so the block whose turn it is is held by a
/// worker formatting it, which writes it and those waiting when done,
/// whatever the number of threads that actually run.
private final class BlockTurns {
  private let count: Int
  private let file: AtomicFile
  private let condition = NSCondition()
  private var claimed = 0
  /// Blocks written, so the block whose turn it is.
  private var written = 0
  /// Whether a worker is writing (block `written`, then those waiting).
  private var writing = false
  private var waiting: [Int: JSONText] = [:]
  static let waitingLimit = 4
  /// The first write error; once set, no block is handed out or written.
  private(set) var error: Error?

  init(count: Int, file: AtomicFile) {
    self.count = count
    self.file = file
  }

  /// The next block to format, or nil when all are taken or a write failed.
  func claim() -> Int? {
    condition.lock()
    defer { condition.unlock() }
    guard claimed < count, error == nil else { return nil }
    claimed += 1
    return claimed - 1
  }

  /// Block `b`'s text is in `w`: writes it if its turn has come, with the
  /// blocks after it that are waiting, or else leaves it to wait (taking
  /// it out of `w`, which gets fresh storage).
  func finish(_ b: Int, _ w: inout JSONWriter) {
    condition.lock()
    while written < b && waiting.count >= BlockTurns.waitingLimit && error == nil { condition.wait() }
    guard error == nil else {
      condition.unlock()
      return
    }
    if written < b {
      waiting[b] = w.takeText()
      condition.unlock()
      return
    }
    // Block b's turn: every block before it is written, and a block is
    // written only by the worker that reaches its turn, so nobody else is.
    precondition(!writing && written == b, "blocks written out of turn")
    writing = true
    condition.unlock()
    var result = Result { try w.flush(to: file) }
    condition.lock()
    while true {
      if case .failure(let e) = result {
        error = e
        break
      }
      written += 1
      guard let next = waiting.removeValue(forKey: written) else { break }
      condition.unlock()
      result = Result { try file.write(next.bytes) }
      condition.lock()
    }
    writing = false
    condition.broadcast()
    condition.unlock()
  }
}
