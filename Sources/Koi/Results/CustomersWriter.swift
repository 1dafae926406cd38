import Dispatch

/// One stage's part of each customers.jsonl record.
public protocol CustomerRecordFields {
  /// Writes this stage's keys for customer `c` into the open record object.
  func write(customer c: Int, into w: inout JSONWriter)
}

/// Streams customers.jsonl: one JSON object per line, in customer-index
/// order (first appearance in the input), `customer_id` first, then each
/// stage's fields in pipeline order.
///
/// Records are formatted on every core in fixed blocks and written in order,
/// so the bytes do not depend on the thread count.
///
/// - Complexity: O(customers × fields).
enum CustomersWriter {
  static let block = 16_384

  public static func write(
    to path: String, customerIDs: [String], fields: [any CustomerRecordFields]
  ) throws {
    let file = try AtomicFile(path: path, streamed: true)
    let blockCount = (customerIDs.count + block - 1) / block
    let blocksPerBatch = max(1, Parallel.coreCount)
    // Two sets of block writers take turns: one batch is formatted into
    // `formatting` while the previous one is written from `writing`. Reusing
    // them keeps the buffers' pages mapped; a fresh 16 MB buffer per block
    // was a page fault and a page clear per 4 KB of output.
    var formatting = (0..<blocksPerBatch).map { _ in JSONWriter(capacity: block * 1024) }
    var writing = (0..<blocksPerBatch).map { _ in JSONWriter(capacity: block * 1024) }
    var writingCount = 0
    for batchStart in stride(from: 0, to: blockCount, by: blocksPerBatch) {
      let batchCount = min(blocksPerBatch, blockCount - batchStart)
      // Set by task 0 only, read after all tasks have finished.
      var writeError: Error?
      formatting.withUnsafeMutableBufferPointer { out in
        // Task 0 writes the previous batch; task t > 0 formats block t - 1.
        Parallel.forEachChunk(count: batchCount + 1, chunkCount: batchCount + 1) { task, _ in
          if task == 0 {
            do { try write(writing[..<writingCount], to: file) } catch { writeError = error }
          } else {
            // Formatted in a local and moved back: the writers lie side by
            // side in `out`, and updating them there from two threads made
            // the cores take their shared cache line from each other.
            var w = out.moveElement(from: task - 1)
            format(block: batchStart + task - 1, into: &w, customerIDs: customerIDs, fields: fields)
            out.initializeElement(at: task - 1, to: w)
          }
        }
      }
      if let writeError { throw writeError }
      swap(&formatting, &writing)
      writingCount = batchCount
    }
    try write(writing[..<writingCount], to: file)
    try file.commit()
  }

  /// Formats block `b` (customers `b × block` up to the next block) into `w`,
  /// replacing what it held.
  static func format(
    block b: Int, into w: inout JSONWriter, customerIDs: [String], fields: [any CustomerRecordFields]
  ) {
    w.removeAll()
    let start = b * block
    for c in start..<min(customerIDs.count, start + block) {
      w.beginObject()
      w.key("customer_id"); w.string(customerIDs[c])
      for f in fields { f.write(customer: c, into: &w) }
      w.endObject()
      w.newline()
    }
  }

  static func write(_ blocks: ArraySlice<JSONWriter>, to file: AtomicFile) throws {
    for w in blocks { try file.write(w.bytes) }
  }
}
