/// Options for reading a transactions file.
public struct IngestOptions: Sendable {
  /// `--column canonical=header` overrides.
  public var columnOverrides: [String: String] = [:]
  public var encoding: InputEncoding = .auto
  /// Stop at the first bad row instead of rejecting it.
  public var strict = false
  /// Rows dated on or after this day are rejected; nil: keep every row and
  /// let the as-of date default to the day after the last transaction.
  public var asOfDay: Int32?
  /// Bytes read per block; a batch is one block per core.
  public var blockSize = 8 << 20
  /// Parallel chunks per batch (defaults to the core count).
  public var chunksPerBatch = Parallel.coreCount

  public init() {}
}

/// Row accounting for one input file: `read == used + rejected`.
public struct RowCounts: Sendable, Equatable, Codable {
  /// Non-blank records after the header.
  public var read = 0
  public var used = 0
  public var rejected = 0
  /// Empty lines, which are not rows.
  public var blankLines = 0
  /// Rejected rows by reason (only reasons that occurred).
  public var rejectedByReason: [String: Int] = [:]

  enum CodingKeys: String, CodingKey {
    case read, used, rejected
    case blankLines = "blank_lines"
    case rejectedByReason = "rejected_by_reason"
  }
}

/// What ingest produced: the ledger, every rejected row, and the facts about
/// the input that go into run.json.
public struct IngestResult: Sendable {
  public var ledger: Ledger
  /// Rejected rows in line order.
  public var rejects: [Reject]
  public var counts: RowCounts
  public var mapping: ColumnMapping
  /// The encoding actually used, and whether it was detected.
  public var encoding: InputEncoding
  public var encodingDetected: Bool
  public var sha256: String
  public var bytes: Int64
  /// The reference day: the option's, or the day after the last used row.
  public var asOfDay: Int32
}

/// Reads a transactions CSV into a `Ledger`, streaming it in batches parsed
/// on every core. Memory grows with the rows kept, not with the file size.
///
/// Every record is used or rejected with a reason; blank lines are counted
/// apart. A customer whose rows are all refunds or zero amounts has nothing
/// to score, so those rows are rejected as `no_purchase`.
///
/// - Complexity: O(bytes + rows); one pass over the file.
public enum TransactionReader {
  public static func read(
    path: String, options: IngestOptions = IngestOptions(),
    progress: ((_ bytesRead: Int64, _ totalBytes: Int64) -> Void)? = nil
  ) throws -> IngestResult {
    let source = try InputSource(path: path)
    let location = SourceLocation(path: path)
    var pending = [UInt8]()
    var eof = !(try source.read(into: &pending, upTo: options.blockSize))
    // The encoding is judged on the same window whatever the block size:
    // the first `InputSniffer.window` bytes (one read at the default size).
    while !eof && pending.count < InputSniffer.window {
      eof = !(try source.read(into: &pending, upTo: options.blockSize))
    }
    if pending.isEmpty {
      throw IngestError(.empty, "the file is empty; it needs a header line and at least one row.", at: location)
    }
    // UTF-16 (Excel's "Unicode Text") is never read as bytes of another encoding.
    if let why = InputSniffer.utf16Evidence(pending) {
      throw IngestError(.encoding, "the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel) and run again (\(why)).", at: location)
    }

    // A UTF-8 byte-order mark settles the encoding.
    var encoding = options.encoding
    var detected = false
    var skipped = 0
    if pending.starts(with: [0xEF, 0xBB, 0xBF]) {
      pending.removeFirst(3)
      skipped = 3
      if encoding == .auto { encoding = .utf8 }
    }

    // Line ends: read on to the first one. CR alone is read as LF.
    var lineEnds = InputSniffer.lineEnds(pending, atEnd: eof)
    while lineEnds == nil {
      guard pending.count < maxHeaderBytes else { break }
      eof = !(try source.read(into: &pending, upTo: options.blockSize))
      lineEnds = InputSniffer.lineEnds(pending, atEnd: eof)
    }
    if lineEnds == .crOnly {
      for i in pending.indices where pending[i] == 13 { pending[i] = 10 }
      source.readsCarriageReturnsAsNewlines = true
    }

    // Otherwise the first block decides (see `InputSniffer.guess`).
    if encoding == .auto {
      encoding = InputSniffer.guess(pending)
      detected = encoding == .gb18030
    }
    if encoding == .gb18030 {
      pending = try source.startTranscoding(pending, fileOffset: skipped, detected: detected)
    }

    // Header: the first record, by the rows' grammar.
    let header: CSVRecord.Header
    while true {
      if let h = pending.withUnsafeBufferPointer({ CSVRecord.header($0, isFinal: eof) }) {
        header = h
        break
      }
      if pending.count >= maxHeaderBytes {
        throw IngestError(.badHeader, "the header line does not end within the first \(maxHeaderBytes >> 20) MiB; a quote opened in it is probably never closed.", at: SourceLocation(path: path, line: 1))
      }
      eof = !(try source.read(into: &pending, upTo: options.blockSize))
    }
    let headerLocation = SourceLocation(path: path, line: 1)
    if header.unterminated {
      throw IngestError(.badHeader, "a quote opened at the start of a header cell is never closed, so the header runs to the end of the file. Close the quote (and double any quote inside the cell), or remove it.", at: headerLocation)
    }
    if header.malformed {
      throw IngestError(.badHeader, "text follows a closing quote in a header cell; quote the whole cell and double any quote inside it.", at: headerLocation)
    }
    if header.cells.allSatisfy({ $0.trimmingSpaces.isEmpty }) {
      throw IngestError(.badHeader, "the first line is empty; it must be the header (customer_id,date,item,amount,…).", at: headerLocation)
    }
    let mapping = try ColumnMapping(header: header.cells, overrides: options.columnOverrides, path: path)
    pending.removeFirst(header.byteCount)
    let layout = RecordLayout(mapping: mapping, asOfDay: options.asOfDay)
    let parser = ChunkParser(layout: layout)

    var merger = ChunkMerger(columns: Ledger.OptionalColumns(
      listPrice: layout.listPrice >= 0, promo: layout.promo >= 0,
      channel: layout.channel >= 0, store: layout.store >= 0))
    var baseLine = header.newlines  // newlines before the first data record: the header's
    let batchBytes = options.blockSize * max(1, options.chunksPerBatch)

    while true {
      while !eof && pending.count < batchBytes {
        eof = !(try source.read(into: &pending, upTo: options.blockSize))
      }
      if pending.isEmpty { break }
      let atEOF = eof
      let (chunks, consumed): ([ParsedChunk], Int) = pending.withUnsafeBufferPointer { all in
        var ranges = RecordBoundaries.split(all, parts: max(1, options.chunksPerBatch))
        let last = ranges.count - 1
        var results = [ParsedChunk?](repeating: nil, count: ranges.count)
        results.withUnsafeMutableBufferPointer { slots in
          Parallel.forEachChunk(count: ranges.count, chunkCount: ranges.count) { c, _ in
            slots[c] = parser.parse(UnsafeBufferPointer(rebasing: all[ranges[c]]), isFinal: atEOF && c == last)
          }
        }
        // A cut inside a quoted field shows as an incomplete piece: parse
        // again from its last record start through the next piece.
        var accepted: [ParsedChunk] = []
        var consumed = 0
        var c = 0
        while c <= last {
          let chunk = results[c]!  // filled above or by the re-parse below
          accepted.append(chunk)
          consumed = ranges[c].lowerBound + chunk.consumed
          if consumed < ranges[c].upperBound && c < last {
            ranges[c + 1] = consumed..<ranges[c + 1].upperBound
            results[c + 1] = parser.parse(UnsafeBufferPointer(rebasing: all[ranges[c + 1]]), isFinal: atEOF && c + 1 == last)
          }
          c += 1
        }
        return (accepted, consumed)
      }
      for chunk in chunks {
        merger.merge(chunk, baseLine: baseLine)
        baseLine += chunk.newlines
      }
      if options.strict, let first = merger.rejects.first {
        throw strictError(first, path: path)
      }
      pending.removeFirst(consumed)
      progress?(source.bytesRead, source.size)
      if eof && pending.isEmpty { break }
      if consumed == 0 {
        // One record longer than the batch: read on before parsing again.
        precondition(!eof, "a final parse consumes everything")
        eof = !(try source.read(into: &pending, upTo: max(options.blockSize, pending.count)))
      }
    }

    let sha = source.finishDigest()
    var (ledger, rejects, counts, lastDay) = merger.finish()
    if options.strict, let first = rejects.first {
      throw strictError(first, path: path)
    }
    rejects.sort { $0.line < $1.line }
    if ledger.rowCount == 0 {
      throw noUsableRows(counts: counts, first: rejects.first, path: path)
    }
    let asOf = options.asOfDay ?? (lastDay + 1)
    ledger.sortByCustomerAndDay()
    return IngestResult(
      ledger: ledger, rejects: rejects, counts: counts, mapping: mapping,
      encoding: encoding, encodingDetected: detected, sha256: sha,
      bytes: source.bytesRead, asOfDay: asOf)
  }

  /// How far the header may run before the reader gives up on it.
  static let maxHeaderBytes = 16 << 20

  /// Why no row is usable, told in the message itself: no rejects.csv is
  /// written when the run stops here.
  static func noUsableRows(counts: RowCounts, first: Reject?, path: String) -> IngestError {
    let location = SourceLocation(path: path)
    guard counts.read > 0, let first else {
      return IngestError(.noUsableRows, "the file has a header but no rows.", at: location)
    }
    let reasons = counts.rejectedByReason.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
      .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    let field = first.field.map { " (\($0.rawValue))" } ?? ""
    return IngestError(.noUsableRows, "none of its \(counts.read) rows is usable (\(reasons)); the first, line \(first.line)\(field): \(first.detail). Fix the rows, or run with --strict to stop at the first bad one.", at: location)
  }

  static func strictError(_ r: Reject, path: String) -> IngestError {
    IngestError(.badRow, "\(r.detail) [\(r.reason.rawValue)]. Without --strict this row would be rejected and the run would go on.", at: SourceLocation(path: path, line: r.line, field: r.field?.rawValue))
  }
}

/// Appends parsed chunks, in file order, to global columns: chunk-local ids
/// become global ids (first appearance in the file), chunk-local lines become
/// file lines.
struct ChunkMerger {
  private var ledger: Ledger
  private var customers = ByteInterner(capacity: 1 << 16)
  private var categories = ByteInterner(capacity: 64)
  private var channels = ByteInterner(capacity: 16)
  private var stores = ByteInterner(capacity: 16)
  private(set) var rejects: [Reject] = []
  private var nonPurchases: [(row: Int, line: Int, raw: String)] = []
  private var counts = RowCounts()

  init(columns: Ledger.OptionalColumns) {
    ledger = Ledger(empty: columns)
  }

  private static func remap(_ local: ByteInterner, into global: inout ByteInterner) -> [Int32] {
    (0..<local.count).map { id in
      local.key(Int32(id)).withUnsafeBufferPointer { global.intern($0) }
    }
  }

  private static func appendMapped(_ ids: [Int32], _ map: [Int32], to column: inout [Int32]) {
    // No exact reserveCapacity here: it would defeat geometric growth and
    // copy the whole column on every merge (quadratic in the file size).
    for id in ids { column.append(id < 0 ? -1 : map[Int(id)]) }
  }

  mutating func merge(_ chunk: ParsedChunk, baseLine: Int) {
    let firstRow = ledger.customer.count
    Self.appendMapped(chunk.customer, Self.remap(chunk.customers, into: &customers), to: &ledger.customer)
    Self.appendMapped(chunk.category, Self.remap(chunk.categories, into: &categories), to: &ledger.category)
    Self.appendMapped(chunk.channel, Self.remap(chunk.channels, into: &channels), to: &ledger.channel)
    Self.appendMapped(chunk.store, Self.remap(chunk.stores, into: &stores), to: &ledger.store)
    ledger.day.append(contentsOf: chunk.day)
    ledger.amount.append(contentsOf: chunk.amount)
    ledger.listPrice.append(contentsOf: chunk.listPrice)
    ledger.promo.append(contentsOf: chunk.promo)
    for var r in chunk.rejects {
      r.line += baseLine + 1
      rejects.append(r)
    }
    for p in chunk.nonPurchases {
      nonPurchases.append((firstRow + p.row, baseLine + 1 + p.line, p.raw))
    }
    counts.read += chunk.records
    counts.blankLines += chunk.blankLines
  }

  /// The unsorted ledger with purchase-less customers removed, all rejects,
  /// the row counts and the last used day.
  mutating func finish() -> (Ledger, [Reject], RowCounts, Int32) {
    var l = ledger
    l.customerIDs = customers.strings()
    l.categories = categories.strings()
    l.channels = channels.strings()
    l.stores = stores.strings()

    // Customers without any purchase: reject their rows.
    var hasPurchase = [Bool](repeating: false, count: l.customerIDs.count)
    for i in 0..<l.rowCount where isPurchase(l.amount[i]) { hasPurchase[Int(l.customer[i])] = true }
    if hasPurchase.contains(false) {
      var drop = [Bool](repeating: false, count: l.rowCount)
      for p in nonPurchases where !hasPurchase[Int(l.customer[p.row])] {
        drop[p.row] = true
        let id = l.customerIDs[Int(l.customer[p.row])]
        rejects.append(Reject(
          line: p.line, reason: .noPurchase, field: .customerID,
          detail: "customer '\(id)' has no purchase before the as-of date, only refunds or zero amounts",
          raw: p.raw))
      }
      var newID = [Int32](repeating: -1, count: l.customerIDs.count)
      var ids: [String] = []
      for c in 0..<l.customerIDs.count where hasPurchase[c] {
        newID[c] = Int32(ids.count)
        ids.append(l.customerIDs[c])
      }
      l.customerIDs = ids
      let keep = (0..<l.rowCount).filter { !drop[$0] }.map { Int32($0) }
      l.customer = Ledger.gather(l.customer, keep).map { newID[Int($0)] }
      l.day = Ledger.gather(l.day, keep)
      l.category = Ledger.gather(l.category, keep)
      l.amount = Ledger.gather(l.amount, keep)
      l.listPrice = Ledger.gather(l.listPrice, keep)
      l.promo = Ledger.gather(l.promo, keep)
      l.channel = Ledger.gather(l.channel, keep)
      l.store = Ledger.gather(l.store, keep)
    }
    counts.used = l.rowCount
    counts.rejected = rejects.count
    for r in rejects { counts.rejectedByReason[r.reason.rawValue, default: 0] += 1 }
    precondition(counts.read == counts.used + counts.rejected, "row accounting does not reconcile")
    let lastDay = l.day.max() ?? 0
    return (l, rejects, counts, lastDay)
  }
}
