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
public enum CustomersWriter {
  static let block = 16_384

  public static func write(
    to path: String, customerIDs: [String], fields: [any CustomerRecordFields]
  ) throws {
    let file = try AtomicFile(path: path)
    let n = customerIDs.count
    let blocksPerBatch = max(1, Parallel.coreCount)
    // Batch b is written on `writer` while batch b + 1 is formatted; the
    // semaphore keeps at most one batch in flight, so memory stays bounded.
    let writer = DispatchQueue(label: "koi.customers.writer")
    let inFlight = DispatchSemaphore(value: 1)
    // Set only by the writer before it signals, read only after a wait:
    // the semaphore orders the two accesses (the compiler cannot see that).
    var writeError: Error?
    var start = 0
    while start < n {
      let blockCount = min(blocksPerBatch, (n - start + block - 1) / block)
      var buffers = [ArraySlice<UInt8>](repeating: [], count: blockCount)
      buffers.withUnsafeMutableBufferPointer { out in
        Parallel.forEachChunk(count: blockCount, chunkCount: blockCount) { b, _ in
          var w = JSONWriter(capacity: block * 1024)
          let lo = start + b * block
          for c in lo..<min(n, lo + block) {
            w.beginObject()
            w.key("customer_id"); w.string(customerIDs[c])
            for f in fields { f.write(customer: c, into: &w) }
            w.endObject()
            w.newline()
          }
          out[b] = w.bytes
        }
      }
      inFlight.wait()
      if let writeError {
        inFlight.signal()
        throw writeError
      }
      writer.async { [buffers] in
        defer { inFlight.signal() }
        do { for b in buffers { try file.write(b) } } catch { writeError = error }
      }
      start += blockCount * block
    }
    inFlight.wait()  // the last batch is written; `writeError` is settled
    inFlight.signal()  // back to its initial value: libdispatch traps otherwise
    if let writeError { throw writeError }
    try file.commit()
  }
}

/// The RFM part of a customer record.
public struct RFMRecordFields: CustomerRecordFields {
  let table: CustomerTable
  let columns: RFMColumns

  public init(table: CustomerTable, columns: RFMColumns) {
    self.table = table
    self.columns = columns
  }

  public func write(customer c: Int, into w: inout JSONWriter) {
    let frequency = Double(columns.frequency[c])
    w.key("first_purchase"); w.date(table.firstPurchaseDay[c])
    w.key("last_purchase"); w.date(table.lastPurchaseDay[c])
    w.key("tenure_days"); w.int(table.asOfDay - table.firstPurchaseDay[c])
    w.key("recency_days"); w.int(columns.recencyDays[c])
    w.key("frequency"); w.int(columns.frequency[c])
    w.key("monetary"); w.number(columns.monetary[c], decimals: 2)
    w.key("average_order_value"); w.number(columns.monetary[c] / frequency, decimals: 2)
    w.key("refunds"); w.number(table.refundAmount[c], decimals: 2)
    w.key("r_score"); w.int(columns.rScore[c])
    w.key("f_score"); w.int(columns.fScore[c])
    w.key("m_score"); w.int(columns.mScore[c])
    w.key("rfm"); w.scoreTriple(columns.rScore[c], columns.fScore[c], columns.mScore[c])
    w.key("segment"); w.string(columns.segment[c].rawValue)
  }
}
