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
    // Each worker takes the next block, formats it into its own buffer and,
    // when the blocks before it are written, writes it: every core formats
    // and takes its turn at writing, so no core waits for a batch's slowest
    // block or idles while another writes. Reusing one buffer per worker
    // keeps its pages mapped; a fresh buffer per block was a page
    // fault and a page clear per 4 KB of output.
    let turns = BlockTurns(count: blockCount)
    Parallel.forEachChunk(count: workerCount, chunkCount: workerCount) { _, _ in
      var w = JSONWriter(capacity: block * 1024)
      while let b = turns.claim() {
        format(
          customers: b * block..<min(customerIDs.count, (b + 1) * block), into: &w, customerIDs: customerIDs,
          fields: fields)
        turns.inTurn(b) { try w.flush(to: file) }
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

/// Hands out blocks `0..<count` in order and lets their writes run one at a
/// time, in block order. Blocks are claimed in order by running workers, so
/// the block whose turn it is is always held by one that can write it: a
/// worker never waits for a block nobody has taken, whatever the number of
/// threads that actually run.
private final class BlockTurns {
  private let count: Int
  private let condition = NSCondition()
  private var claimed = 0
  private var written = 0
  /// The first write error; once set, no block is handed out or written.
  private(set) var error: Error?

  init(count: Int) { self.count = count }

  /// The next block to format, or nil when all are taken or a write failed.
  func claim() -> Int? {
    condition.lock()
    defer { condition.unlock() }
    guard claimed < count, error == nil else { return nil }
    claimed += 1
    return claimed - 1
  }

  /// Waits until every block before `b` is written, then runs `write` (unless
  /// a write failed) and passes the turn on.
  func inTurn(_ b: Int, _ write: () throws -> Void) {
    condition.lock()
    while written < b { condition.wait() }
    let failed = error != nil
    condition.unlock()
    // Only the worker holding the turn gets here, so writes never overlap.
    var writeError: Error?
    if !failed {
      do { try write() } catch { writeError = error }
    }
    condition.lock()
    if error == nil { error = writeError }
    written += 1
    condition.broadcast()
    condition.unlock()
  }
}
