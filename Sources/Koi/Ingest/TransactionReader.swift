import Foundation

#if canImport(Glibc)
  import Glibc
#endif

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
  /// `--sheet`: which sheets of a workbook to read: nil for the first
  /// visible one, `all` for every visible one, or a name or 1-based number.
  public var sheet: String?
  /// `--header-row N`: the header is on line (workbook row) N; the lines
  /// above it (title rows) are left out and not counted.
  public var headerRow = 1
  /// `--duplicates`: rows repeated across files are reported and kept, or
  /// rejected.
  public var duplicates: DuplicatePolicy = .report
  /// Record the line where each customer, category, channel and store
  /// first appears (`IngestResult.firstLines`): what `koi stats` needs to
  /// put shards back in single-run order.
  var recordsFirstLines = false
  /// Return an input whose rows were all rejected instead of throwing
  /// `noUsableRows` (a shard may hold only a few bad rows).
  var allowsNoUsableRows = false
  /// Leave the inputs' SHA-256 to low-priority threads (`BackgroundDigest`)
  /// and return before they finish: `IngestResult.sha256` and `files`'
  /// checksums are empty until `IngestResult.awaitChecksums()`. What
  /// `koi score` does, so that hashing fills idle time instead of taking
  /// ingest's.
  var checksumsInBackground = false
  /// Leave out the store column and, with `dropsTierInputs`, list price,
  /// promotion flag and channel: not merged (unless rows are compared
  /// across inputs, which needs them) and emptied before the ledger is
  /// sorted (`Ledger.releaseStore`, `releaseTierInputs`), so they are not
  /// stored and reordered only to be emptied: what `koi score` does when no
  /// stage it runs reads them. Rows are still checked and rejected by them,
  /// and `Ledger.columns` still says which the input had.
  var dropsStore = false
  var dropsTierInputs = false

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
}

/// One input read: a file, or one sheet of a workbook. run.json
/// `input.files[]`.
public struct IngestedFile: Sendable, Codable, Equatable {
  /// Rows of one input: `read == used + rejected`.
  public struct Rows: Sendable, Codable, Equatable {
    public var read = 0
    public var used = 0
    public var rejected = 0
    public var blankLines = 0
  }

  /// As named or expanded; `-` for standard input.
  public var path: String
  /// The sheet, for a workbook.
  public var sheet: String?
  public var format: InputFormat
  /// Bytes of the file as on disk (compressed for .csv.gz), and their SHA-256.
  public var bytes: Int64
  public var sha256: String
  /// `utf8` or `gb18030` (a workbook's text is UTF-8).
  public var encoding: InputEncoding
  public var encodingDetected: Bool
  /// Canonical column → header cell (empty for an empty file).
  public var columns: [String: String]
  public var rows = Rows()

  /// Where a row of this input is, for messages.
  func location(line: Int = 0, field: String? = nil) -> SourceLocation {
    SourceLocation(path: path, line: line, field: field, sheet: sheet)
  }
}

/// What ingest produced: the ledger, every rejected row, and the facts about
/// the input that go into run.json.
public struct IngestResult: Sendable {
  public var ledger: Ledger
  /// Rejected rows in read order: by input, then line.
  public var rejects: [Reject]
  public var counts: RowCounts
  /// The first input's mapping (every input maps the same canonical columns).
  public var mapping: ColumnMapping
  /// The encoding actually used, and whether it was detected (several
  /// inputs: the first non-empty one's; each is in `files`).
  public var encoding: InputEncoding
  public var encodingDetected: Bool
  /// One file: its SHA-256; several: the SHA-256 of their SHA-256s in read
  /// order, each as 64 hex digits and a newline.
  public var sha256: String
  public var bytes: Int64
  /// The reference day: the option's, or the day after the last used row.
  public var asOfDay: Int32
  /// Every input read, in read order (a workbook once per sheet read).
  public var files: [IngestedFile] = []
  /// Rows repeated across inputs; nil when the run reads one input.
  public var duplicates: DuplicateReport?
  /// Empty files, hidden sheets left out, duplicates kept.
  public var warnings: [RunWarning] = []
  /// rejects.csv names the file (and sheet) of each row: the input could be
  /// several files (several names, a directory, a glob) or is a workbook.
  var rejectsNameFiles = false
  /// The line where each customer, category, channel and store first
  /// appears, when `IngestOptions.recordsFirstLines` asked for them.
  var firstLines: FirstLines?
  /// Per entry of `files`, its checksum, until `awaitChecksums()` fills
  /// them in.
  var checksums: [InputChecksum] = []

  /// Waits for the inputs' checksums (`IngestOptions.checksumsInBackground`)
  /// and fills `sha256` and each file's. Throws when a file could not be
  /// read again as it was read.
  public mutating func awaitChecksums() throws {
    guard !checksums.isEmpty else { return }
    for k in files.indices { files[k].sha256 = try checksums[k].value() }
    checksums = []
    if files.count == 1 {
      sha256 = files[0].sha256
    } else {
      // A workbook read sheet by sheet is one file: its checksum counts once.
      var distinct: [String] = []
      var seen = Set<String>()
      for f in files where seen.insert(f.path).inserted { distinct.append(f.sha256) }
      sha256 = SHA256Hex.of(Array(distinct.map { $0 + "\n" }.joined().utf8))
    }
  }
}

/// Lines of first appearance, by customer, category, channel and store
/// index: the line of the row that interned the name (the index order of a
/// single run), which may be a rejected row's.
struct FirstLines: Sendable, Equatable {
  var customer: [Int] = []
  var category: [Int] = []
  var channel: [Int] = []
  var store: [Int] = []
}

/// A source of CSV text: a file (`InputSource`) or a workbook sheet.
private enum PartSource {
  case text(InputSource)
  case sheet(WorkbookSheetRows)

  func read(into out: inout [UInt8], upTo count: Int) throws -> Bool {
    switch self {
    case let .text(s): return try s.read(into: &out, upTo: count)
    case let .sheet(s): return try s.read(into: &out, upTo: count)
    }
  }
}

/// Reads transactions (CSV, CSV.gz, workbooks; one file or several) into a
/// `Ledger`, streaming each in batches parsed on every core. Memory grows
/// with the rows kept, not with the file sizes.
///
/// Every record is used or rejected with a reason; blank lines are counted
/// apart. A customer whose rows are all refunds or zero amounts has nothing
/// to score, so those rows are rejected as `no_purchase` (over all inputs:
/// a purchase in one file counts for a refund in another).
///
/// Several inputs are read in `InputList` order into one ledger. Each may
/// have its own header order and encoding but must map the same canonical
/// columns. Rows repeated across inputs are found by `DuplicateRows`.
///
/// - Complexity: O(bytes + rows); one pass over each file.
public enum TransactionReader {
  public static func read(
    path: String, options: IngestOptions = IngestOptions(),
    progress: ((_ bytesRead: Int64, _ totalBytes: Int64) -> Void)? = nil
  ) throws -> IngestResult {
    try read(inputs: InputList(single: path), options: options, progress: progress)
  }

  public static func read(
    inputs: InputList, options: IngestOptions = IngestOptions(),
    progress: ((_ bytesRead: Int64, _ totalBytes: Int64) -> Void)? = nil
  ) throws -> IngestResult {
    var totalBytes: Int64 = 0
    for f in inputs.files where f != "-" {
      var st = stat()
      if stat(f, &st) == 0 { totalBytes += Int64(st.st_size) }
    }
    let several = inputs.couldBeSeveral || options.sheet?.lowercased() == "all"
    var state = ReadState(options: options, several: several)
    var doneBytes: Int64 = 0
    var warnings: [RunWarning] = []
    for path in inputs.files {
      let source = try InputSource(path: path, checksumInBackground: options.checksumsInBackground)
      if source.format == .xlsx {
        let workbook = try Workbook(path: path)
        let (sheets, skipped) = try workbook.select(options.sheet)
        for h in skipped {
          let sheet = UserText.excerpt(h.name)
          warnings.append(
            RunWarning(
              "\(UserText.excerpt(path, limit: UserText.pathLimit)): hidden sheet '\(sheet)' was not read.",
              advice: .init(
                lead: "To read it, name it with", commandLine: "--sheet '\(sheet)'",
                configuration: "[input] sheet = \"\(sheet)\"")))
        }
        let checksum = try source.digestOfWholeFile()
        for sheet in sheets {
          let rows = WorkbookSheetRows(workbook: workbook, sheet: sheet, headerRow: options.headerRow)
          var file = IngestedFile(
            path: path, sheet: sheet.name, format: .xlsx, bytes: source.size, sha256: "",
            encoding: .utf8, encodingDetected: false, columns: [:])
          defer { rows.cancel() }
          let base = doneBytes
          try state.readPart(.sheet(rows), file: &file, warnings: &warnings) {
            let share = rows.xmlBytes > 0 ? Double(rows.xmlBytesRead) / Double(rows.xmlBytes) : 0
            progress?(base + Int64(Double(source.size) * min(1, share) / Double(max(1, sheets.count))), totalBytes)
          }
          state.checksums.append(checksum)
          doneBytes += source.size / Int64(max(1, sheets.count))
        }
        state.rejectsNameFiles = true
      } else {
        var file = IngestedFile(
          path: path, sheet: nil, format: source.format, bytes: 0, sha256: "",
          encoding: .utf8, encodingDetected: false, columns: [:])
        let base = doneBytes
        try state.readPart(.text(source), file: &file, warnings: &warnings) {
          progress?(base + source.bytesRead, totalBytes)
        }
        state.checksums.append(source.finishDigest())
        file.bytes = source.bytesRead
        state.files[state.files.count - 1] = file
        doneBytes += source.bytesRead
      }
    }
    var result = try state.finish(inputs: inputs, warnings: warnings)
    if !options.checksumsInBackground { try result.awaitChecksums() }
    return result
  }

  /// How far the header may run before the reader gives up on it.
  static let maxHeaderBytes = 16 << 20

  /// Why no row is usable, told in the message itself: no rejects.csv is
  /// written when the run stops here.
  static func noUsableRows(counts: RowCounts, first: Reject?, location: SourceLocation, several: Bool) -> IngestError {
    guard counts.read > 0, let first else {
      return IngestError(
        .noUsableRows, several ? "the files have headers but no rows." : "the file has a header but no rows.",
        at: location)
    }
    let reasons = counts.rejectedByReason.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
      .map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    let field = first.field.map { " (\($0.rawValue))" } ?? ""
    return IngestError(
      .noUsableRows,
      "none of its \(counts.read) rows is usable (\(reasons)); the first, line \(first.line)\(field): \(first.detail). Fix the rows, or set {{strict}} to stop at the first bad one.",
      at: location)
  }

  static func strictError(_ r: Reject, file: IngestedFile) -> IngestError {
    IngestError(
      .badRow,
      "\(r.detail) [\(r.reason.rawValue)]. Without {{strict}} this row would be rejected and the run would go on.",
      at: file.location(line: r.line, field: r.field?.rawValue))
  }
}

/// The state of one read over all inputs.
private struct ReadState {
  let options: IngestOptions
  /// Several inputs: find rows repeated across them.
  let several: Bool
  var merger: ChunkMerger?
  var firstMapping: ColumnMapping?
  var files: [IngestedFile] = []
  /// Per entry of `files`, its checksum.
  var checksums: [InputChecksum] = []
  var rejectsNameFiles: Bool

  init(options: IngestOptions, several: Bool) {
    self.options = options
    self.several = several
    rejectsNameFiles = several
  }

  /// Reads one input into the merger and appends its `file` record.
  mutating func readPart(
    _ source: PartSource, file: inout IngestedFile, warnings: inout [RunWarning], progress: () -> Void
  ) throws {
    let part = files.count
    files.append(file)
    defer { files[part] = file }
    let isSheet: Bool
    if case .sheet = source { isSheet = true } else { isSheet = false }
    let blockSize = options.blockSize
    var pending = [UInt8]()
    var eof = !(try source.read(into: &pending, upTo: blockSize))
    var skipped = 0
    var encoding = isSheet ? InputEncoding.utf8 : options.encoding
    var detected = false
    if case let .text(text) = source {
      // The encoding is judged on the same window whatever the block size:
      // the first `InputSniffer.window` bytes (one read at the default size).
      while !eof && pending.count < InputSniffer.window {
        eof = !(try source.read(into: &pending, upTo: blockSize))
      }
      if pending.isEmpty {
        if !several {
          throw IngestError(
            .empty, "the file is empty; it needs a header line and at least one row.", at: file.location())
        }
        warnings.append(
          RunWarning("\(UserText.excerpt(file.path, limit: UserText.pathLimit)): the file is empty; it adds no rows."))
        return
      }
      // UTF-16 (Excel's "Unicode Text") is never read as bytes of another encoding.
      if let why = InputSniffer.utf16Evidence(pending) {
        throw IngestError(
          .encoding, "the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel) and run again (\(why)).",
          at: file.location())
      }
      // A UTF-8 byte-order mark settles the encoding.
      if pending.starts(with: [0xEF, 0xBB, 0xBF]) {
        pending.removeFirst(3)
        skipped = 3
        if encoding == .auto { encoding = .utf8 }
      }
      // Line ends: read on to the first one. CR alone is read as LF.
      var lineEnds = InputSniffer.lineEnds(pending, atEnd: eof)
      while lineEnds == nil {
        guard pending.count < TransactionReader.maxHeaderBytes else { break }
        eof = !(try source.read(into: &pending, upTo: blockSize))
        lineEnds = InputSniffer.lineEnds(pending, atEnd: eof)
      }
      if lineEnds == .crOnly {
        for i in pending.indices where pending[i] == 13 { pending[i] = 10 }
        text.readsCarriageReturnsAsNewlines = true
      }
      // Otherwise the first block decides (see `InputSniffer.guess`).
      if encoding == .auto {
        encoding = InputSniffer.guess(pending)
        detected = encoding == .gb18030
      }
      if encoding == .gb18030 {
        pending = try text.startTranscoding(pending, fileOffset: skipped, detected: detected)
      }
      // Title lines above the header (`--header-row`).
      var lines = options.headerRow - 1
      while lines > 0 {
        if let lf = pending.firstIndex(of: 10) {
          pending.removeFirst(lf + 1)
          lines -= 1
        } else if eof {
          throw IngestError(
            .badHeader,
            "the file has fewer than \(options.headerRow) lines, so line \(options.headerRow) cannot be the header ({{header-row \(options.headerRow)}}).",
            at: file.location())
        } else {
          eof = !(try source.read(into: &pending, upTo: blockSize))
        }
      }
    } else if pending.isEmpty {
      throw IngestError(
        .badHeader,
        "the sheet has no row \(options.headerRow) or below, so it has no header. Give the header's row with {{header-row N}}, or choose another sheet with {{sheet NAME}}.",
        at: file.location())
    }
    file.encoding = encoding
    file.encodingDetected = detected

    // Header: the first record, by the rows' grammar.
    let header: CSVRecord.Header
    while true {
      if let h = pending.withUnsafeBufferPointer({ CSVRecord.header($0, isFinal: eof) }) {
        header = h
        break
      }
      if pending.count >= TransactionReader.maxHeaderBytes {
        throw IngestError(
          .badHeader,
          "the header line does not end within the first \(TransactionReader.maxHeaderBytes >> 20) MiB; a quote opened in it is probably never closed.",
          at: file.location(line: options.headerRow))
      }
      eof = !(try source.read(into: &pending, upTo: blockSize))
    }
    let headerLocation = file.location(line: options.headerRow)
    let rowHint =
      isSheet || options.headerRow > 1
      ? " If the header is on another row (title rows above it), give its row with {{header-row N}}." : ""
    if header.unterminated {
      throw IngestError(
        .badHeader,
        "a quote opened at the start of a header cell is never closed, so the header runs to the end of the file. Close the quote (and double any quote inside the cell), or remove it.",
        at: headerLocation)
    }
    if header.malformed {
      throw IngestError(
        .badHeader,
        "text follows a closing quote in a header cell; quote the whole cell and double any quote inside it.",
        at: headerLocation)
    }
    if header.cells.allSatisfy({ $0.trimmingSpaces.isEmpty }) {
      let what =
        isSheet
        ? "row \(options.headerRow) of the sheet is empty"
        : (options.headerRow > 1 ? "line \(options.headerRow) is empty" : "the first line is empty")
      throw IngestError(
        .badHeader, "\(what); it must be the header (customer_id,date,item,amount,…).\(rowHint)", at: headerLocation)
    }
    let mapping: ColumnMapping
    do {
      mapping = try ColumnMapping(header: header.cells, overrides: options.columnOverrides, path: file.path)
    } catch let e as IngestError {
      throw IngestError(e.code, e.message + rowHint, at: headerLocation)
    }
    for (c, i) in mapping.index { file.columns[c.rawValue] = mapping.header[i] }
    if let first = firstMapping {
      let mine = Set(mapping.index.keys), theirs = Set(first.index.keys)
      if mine != theirs {
        let names = { (s: Set<CanonicalColumn>) in
          CanonicalColumn.allCases.filter(s.contains).map(\.rawValue).joined(separator: ", ")
        }
        let firstFile = files[0]
        let extra = mine.subtracting(theirs), missing = theirs.subtracting(mine)
        var diff: [String] = []
        if !extra.isEmpty { diff.append("it has \(names(extra)), which the first has not") }
        if !missing.isEmpty { diff.append("it lacks \(names(missing))") }
        throw IngestError(
          .mismatchedColumns,
          "its columns map to \(names(mine)), but the first input (\(firstFile.location())) maps \(names(theirs)): \(diff.joined(separator: "; ")). Every file must have the same columns: add or remove them (or map them with {{column CANONICAL=HEADER}}), or score the files in separate runs.",
          at: headerLocation)
      }
    }
    pending.removeFirst(header.byteCount)
    var layout = RecordLayout(mapping: mapping, asOfDay: options.asOfDay)
    layout.hashRows = several || options.recordsFirstLines
    layout.workbook = isSheet
    if case let .sheet(rows) = source { rows.dateColumn = layout.date }
    if firstMapping == nil {
      firstMapping = mapping
      merger = ChunkMerger(
        columns: Ledger.OptionalColumns(
          listPrice: layout.listPrice >= 0, promo: layout.promo >= 0,
          channel: layout.channel >= 0, store: layout.store >= 0),
        duplicates: several ? options.duplicates : nil, dropsStore: options.dropsStore,
        dropsTierInputs: options.dropsTierInputs)
      if options.recordsFirstLines { merger!.firstLines = FirstLines() }  // set just above
    }
    while merger!.partNames.count <= part {  // set above
      let f = files[merger!.partNames.count]
      merger!.partNames.append(SourceLocation(path: f.path, sheet: f.sheet).description)
    }
    let parser = ChunkParser(layout: layout)
    var reserved = false
    let rowsBefore = merger!.rowCount  // set above
    // Newlines before the first data record: the title lines and the header's.
    var baseLine = options.headerRow - 1 + header.newlines
    let batchBytes = blockSize * max(1, options.chunksPerBatch)
    let chunksPerBatch = options.chunksPerBatch

    // A text file's next batch is read (and hashed) on another thread
    // while this one is parsed and merged.
    var prefetch: BatchPrefetch?
    defer { prefetch?.cancel() }
    // The prefetch's buffer, kept from batch to batch: a new one of 24 MiB
    // each batch had its pages zeroed by the kernel again.
    var spare: [UInt8] = []
    // What is left to parse: `pending[start...]`.
    var start = 0
    // The first batch is what the sniffer read (a block), parsed while the
    // prefetch reads the next: filled to a whole batch first, it was read
    // on this thread with every core idle (8 MiB more, 20–30 ms).
    var first = true
    while true {
      if let p = prefetch {
        eof = !(try p.take(after: &pending, from: &start, returning: &spare))
        prefetch = nil
      } else if start > 0 {
        pending.removeFirst(start)
        start = 0
      }
      let fill = first && pending.count > start ? 0 : batchBytes
      first = false
      while !eof && pending.count - start < fill {
        eof = !(try source.read(into: &pending, upTo: blockSize))
      }
      if pending.count == start { break }
      progress()
      let bytesBefore: Int64
      if case let .text(text) = source {
        bytesBefore = text.bytesRead
        if !eof { prefetch = BatchPrefetch(text, into: &spare, bytes: batchBytes, blockSize: blockSize) }
      } else {
        bytesBefore = 0
      }
      let atEOF = eof
      let consumed: Int = pending.withUnsafeBufferPointer { whole in
        let all = UnsafeBufferPointer(rebasing: whole[start...])
        // Pieces are parsed on every core, and each is merged (serially, in
        // order) as soon as it and every piece before it are parsed, so the
        // merge of one piece overlaps the parse of the next.
        let pieces = RecordBoundaries.split(all, parts: max(1, chunksPerBatch) * (chunksPerBatch > 1 ? 4 : 1))
        let last = pieces.count - 1
        var results = [ParsedChunk?](repeating: nil, count: pieces.count)
        var ready = [Bool](repeating: false, count: pieces.count)
        var merging = false
        var next = 0
        var consumed = 0
        let lock = NSLock()
        results.withUnsafeMutableBufferPointer { results in
          /// Merges piece `k`, which starts at `consumed`: where the
          /// pieces before it ended. A cut inside a quoted field shows as
          /// a piece that ends early: this one is then parsed again from
          /// there.
          func merge(_ k: Int) {
            var chunk = results[k]!  // parsed before `ready[k]` was set
            results[k] = nil
            let start = k == 0 ? pieces[0].lowerBound : consumed
            if start != pieces[k].lowerBound {
              chunk = parser.parse(
                UnsafeBufferPointer(rebasing: all[start..<pieces[k].upperBound]), isFinal: atEOF && k == last)
            }
            merger!.merge(chunk, baseLine: baseLine, part: part, base: start, buffer: all)  // set above
            baseLine += chunk.newlines
            consumed = start + chunk.consumed
          }
          Parallel.forEachChunk(count: pieces.count, chunkCount: pieces.count) { c, _ in
            let chunk = parser.parse(UnsafeBufferPointer(rebasing: all[pieces[c]]), isFinal: atEOF && c == last)
            lock.lock()
            results[c] = chunk
            ready[c] = true
            // One thread merges at a time; it takes every piece that is
            // ready in order, including those finished while it merged.
            if !merging {
              merging = true
              while next <= last && ready[next] {
                let k = next
                lock.unlock()
                merge(k)
                lock.lock()
                next += 1
              }
              merging = false
            }
            lock.unlock()
          }
        }
        return consumed
      }
      if options.strict, let first = merger!.rejects.first {  // set above
        throw TransactionReader.strictError(first, file: files[first.file])
      }
      if !reserved, case let .text(text) = source, text.format == .csv, consumed > 0 {
        // Size the columns for the whole file from the first batch's rows
        // per byte (2% over), so they are not grown by doubling: at 100M
        // rows that would leave up to a third of every column unused and
        // copy each column again on every growth.
        reserved = true
        let rowsPerByte = Double(merger!.rowCount - rowsBefore) / Double(consumed)  // set above
        let remaining = Double(max(0, text.size - bytesBefore)) + Double(pending.count - start - consumed)
        merger!.reserve(additionalRows: Int((remaining * rowsPerByte * 1.02).rounded(.up)))  // set above
      }
      start += consumed
      if eof && pending.count == start { break }
      if consumed == 0 && prefetch == nil {
        // One record longer than the batch: read on before parsing again
        // (a prefetch adds a batch at the top of the loop).
        precondition(!eof, "a final parse consumes everything")
        eof = !(try source.read(into: &pending, upTo: max(blockSize, pending.count - start)))
      }
    }
    progress()
  }

  mutating func finish(inputs: InputList, warnings: [RunWarning]) throws -> IngestResult {
    var warnings = warnings
    let wholeLocation = SourceLocation(path: inputs.names.joined(separator: " "))
    guard var merger, let mapping = firstMapping else {
      // Every input was empty.
      throw IngestError(
        .empty, "every input is empty; they need a header line and at least one row.", at: wholeLocation)
    }
    // The local copy must own the columns alone: the sort below replaces
    // each of them, and a second owner would keep every unsorted column
    // alive beside its sorted copy (4 GB more at 100M rows).
    self.merger = nil
    var (ledger, rejects, counts, lastDay) = merger.finish()
    let partCounts = merger.partCounts(parts: files.count, rejects: rejects)
    for k in files.indices { files[k].rows = partCounts[k] }
    if options.strict, let first = rejects.first {
      throw TransactionReader.strictError(first, file: files[first.file])
    }
    rejects.sort { ($0.file, $0.line) < ($1.file, $1.line) }
    if ledger.rowCount == 0 && !options.allowsNoUsableRows {
      let location = inputs.files.count == 1 && files.count == 1 ? files[0].location() : wholeLocation
      throw TransactionReader.noUsableRows(
        counts: counts, first: rejects.first, location: location, several: files.count > 1)
    }
    let asOf = options.asOfDay ?? (lastDay + 1)
    if options.dropsStore { ledger.releaseStore() }
    if options.dropsTierInputs { ledger.releaseTierInputs() }
    ledger.sortByCustomerAndDay()
    var duplicates: DuplicateReport?
    if several {
      var report = DuplicateReport(
        rows: merger.duplicateCount, action: options.duplicates == .report ? "kept" : "dropped")
      report.examples = merger.duplicateExamples.map { e in
        DuplicateReport.Example(
          file: files[e.part].path, sheet: files[e.part].sheet, line: e.line,
          sameAsFile: files[e.firstPart].path, sameAsSheet: files[e.firstPart].sheet, sameAsLine: e.firstLine)
      }
      if report.rows > 0 {
        let e = report.examples[0]
        let at = SourceLocation(path: e.file, line: e.line, sheet: e.sheet)
        let first = SourceLocation(path: e.sameAsFile, line: e.sameAsLine, sheet: e.sameAsSheet)
        let repeats =
          "\(report.rows) \(report.rows == 1 ? "row repeats" : "rows repeat") a row of an earlier file exactly"
        warnings.append(
          options.duplicates == .report
            ? RunWarning(
              "\(repeats) (overlapping exports?), e.g. \(at) = \(first); they were kept and count twice; run.json lists the first \(DuplicateReport.exampleLimit).",
              advice: .init(
                lead: "To reject them, set", commandLine: "--duplicates drop-across-files",
                configuration: "[input] duplicates = \"drop-across-files\""))
            : RunWarning(
              "\(repeats), e.g. \(at) = \(first); they were rejected as duplicate_across_files (see rejects.csv)."))
      }
      duplicates = report
    }
    let nonEmpty = files.first { !$0.columns.isEmpty } ?? files[0]
    var bytes: Int64 = 0
    var seenPaths = Set<String>()
    for f in files where seenPaths.insert(f.path).inserted { bytes += f.bytes }
    return IngestResult(
      ledger: ledger, rejects: rejects, counts: counts, mapping: mapping,
      encoding: nonEmpty.encoding, encodingDetected: nonEmpty.encodingDetected, sha256: "",
      bytes: bytes, asOfDay: asOf, files: files, duplicates: duplicates, warnings: warnings,
      rejectsNameFiles: rejectsNameFiles, firstLines: merger.firstLines, checksums: checksums)
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
  private var nonPurchases: [(row: Int, line: Int, raw: String, part: Int)] = []
  private var counts = RowCounts()
  /// Per input: records read and blank lines.
  private var partRead: [Int] = []
  private var partBlank: [Int] = []

  // Rows repeated across inputs (only when a run reads several).
  private let duplicatePolicy: DuplicatePolicy?
  private var duplicateRows = DuplicateRows()
  /// Per ledger row (before purchase-less customers are removed): its input
  /// and line, to say where the first of a repeated row is.
  private var rowPart: [Int32] = []
  private var rowLine: [Int32] = []
  private(set) var duplicateCount = 0
  private(set) var duplicateExamples: [(part: Int, line: Int, firstPart: Int, firstLine: Int)] = []
  /// Each input as messages name it (`FILE` or `FILE[SHEET]`).
  var partNames: [String] = []
  /// Lines of first appearance, when recorded (needs the parser's row lines).
  var firstLines: FirstLines?
  /// Whether the store column, and the list price, promotion flag and
  /// channel columns, are merged (`IngestOptions.dropsStore`,
  /// `dropsTierInputs`): not when the run drops them, unless rows are
  /// compared across inputs, which compares every column. Left out, they
  /// cost no fresh pages on the serial merge.
  private let keepsStore: Bool
  private let keepsTierInputs: Bool

  init(
    columns: Ledger.OptionalColumns, duplicates: DuplicatePolicy? = nil, dropsStore: Bool = false,
    dropsTierInputs: Bool = false
  ) {
    ledger = Ledger(empty: columns)
    duplicatePolicy = duplicates
    keepsStore = !dropsStore || duplicates != nil
    keepsTierInputs = !dropsTierInputs || duplicates != nil
  }

  static func name(_ names: [String], _ part: Int) -> String {
    part < names.count ? names[part] : "input \(part + 1)"
  }

  /// Rows read, used and rejected per input.
  func partCounts(parts: Int, rejects: [Reject]) -> [IngestedFile.Rows] {
    var out = [IngestedFile.Rows](repeating: .init(), count: parts)
    for p in 0..<min(parts, partRead.count) {
      out[p].read = partRead[p]
      out[p].blankLines = partBlank[p]
    }
    for r in rejects where r.file < parts { out[r.file].rejected += 1 }
    for p in out.indices { out[p].used = out[p].read - out[p].rejected }
    return out
  }

  private static func remap(_ local: ByteInterner, into global: inout ByteInterner) -> [Int32] {
    local.ids(in: &global)
  }

  private static func appendMapped(_ ids: [Int32], _ map: [Int32], to column: inout [Int32]) {
    // No exact reserveCapacity here: it would defeat geometric growth and
    // copy the whole column on every merge (quadratic in the file size).
    for id in ids { column.append(id < 0 ? -1 : map[Int(id)]) }
  }

  /// Rows merged so far.
  var rowCount: Int { ledger.customer.count }

  /// Makes room for `additionalRows` more rows in every column.
  mutating func reserve(additionalRows: Int) {
    let n = ledger.customer.count + additionalRows
    guard additionalRows > 0, n > ledger.customer.capacity else { return }
    ledger.customer.reserveCapacity(n); ledger.day.reserveCapacity(n); ledger.category.reserveCapacity(n)
    ledger.amount.reserveCapacity(n)
    if keepsTierInputs {
      ledger.listPrice.reserveCapacity(n); ledger.promo.reserveCapacity(n); ledger.channel.reserveCapacity(n)
    }
    if keepsStore { ledger.store.reserveCapacity(n) }
  }

  /// Appends `chunk`, which was parsed from `buffer[base...]`, from input
  /// `part`, whose first line is `baseLine + 1`.
  mutating func merge(
    _ chunk: ParsedChunk, baseLine: Int, part: Int, base: Int = 0, buffer: UnsafeBufferPointer<UInt8>? = nil
  ) {
    var chunk = chunk
    let firstRow = ledger.customer.count
    let customerMap = Self.remap(chunk.customers, into: &customers)
    let categoryMap = Self.remap(chunk.categories, into: &categories)
    let channelMap = Self.remap(chunk.channels, into: &channels)
    let storeMap = Self.remap(chunk.stores, into: &stores)
    if let policy = duplicatePolicy {
      findDuplicates(
        &chunk, policy: policy, maps: (customerMap, categoryMap, channelMap, storeMap), baseLine: baseLine, part: part,
        base: base, buffer: buffer)
    }
    if firstLines != nil {
      recordFirstLines(chunk, baseLine: baseLine, maps: (customerMap, categoryMap, channelMap, storeMap))
    }
    Self.appendMapped(chunk.customer, customerMap, to: &ledger.customer)
    Self.appendMapped(chunk.category, categoryMap, to: &ledger.category)
    ledger.day.append(contentsOf: chunk.day)
    ledger.amount.append(contentsOf: chunk.amount)
    if keepsTierInputs {
      Self.appendMapped(chunk.channel, channelMap, to: &ledger.channel)
      ledger.listPrice.append(contentsOf: chunk.listPrice)
      ledger.promo.append(contentsOf: chunk.promo)
    }
    if keepsStore { Self.appendMapped(chunk.store, storeMap, to: &ledger.store) }
    for var r in chunk.rejects {
      r.line += baseLine + 1
      r.file = part
      rejects.append(r)
    }
    for p in chunk.nonPurchases {
      nonPurchases.append((firstRow + p.row, baseLine + 1 + p.line, p.raw, part))
    }
    counts.read += chunk.records
    counts.blankLines += chunk.blankLines
    while partRead.count <= part { partRead.append(0); partBlank.append(0) }
    partRead[part] += chunk.records
    partBlank[part] += chunk.blankLines
  }

  /// Records the line that first interned each new global id in
  /// `firstLines`: new global ids arrive in chunk-local id order, which is
  /// the order the chunk interned them.
  private mutating func recordFirstLines(
    _ chunk: ParsedChunk, baseLine: Int,
    maps: (customer: [Int32], category: [Int32], channel: [Int32], store: [Int32])
  ) {
    guard var f = firstLines else { return }
    firstLines = nil  // one owner while appending: no copy of the arrays
    func note(_ map: [Int32], _ chunkLines: [Int32], _ lines: inout [Int]) {
      for (local, g) in map.enumerated() where Int(g) == lines.count {
        lines.append(baseLine + 1 + Int(chunkLines[local]))
      }
    }
    note(maps.customer, chunk.internLines[0], &f.customer)
    note(maps.category, chunk.internLines[1], &f.category)
    note(maps.channel, chunk.internLines[2], &f.channel)
    note(maps.store, chunk.internLines[3], &f.store)
    firstLines = f
  }

  /// Marks the chunk's rows that repeat a row of an earlier input; with
  /// `dropAcrossFiles`, removes them from the chunk and rejects them.
  private mutating func findDuplicates(
    _ chunk: inout ParsedChunk, policy: DuplicatePolicy,
    maps: (customer: [Int32], category: [Int32], channel: [Int32], store: [Int32]),
    baseLine: Int, part: Int, base: Int, buffer: UnsafeBufferPointer<UInt8>?
  ) {
    let n = chunk.customer.count
    var drop: [Bool]? = nil
    var kept = 0
    let firstRow = Int32(ledger.customer.count)
    let l = ledger
    for i in 0..<n {
      func global(_ id: Int32, _ map: [Int32]) -> Int32 { id < 0 ? -1 : map[Int(id)] }
      let customer = global(chunk.customer[i], maps.customer)
      let category = global(chunk.category[i], maps.category)
      let channel = global(chunk.channel[i], maps.channel)
      let store = global(chunk.store[i], maps.store)
      let row = firstRow + Int32(kept)
      let match = duplicateRows.findOrInsert(hash: chunk.rowHash[i], row: row) { r in
        let k = Int(r)
        if k >= l.customer.count { return false }  // a row of this chunk: same input
        return l.customer[k] == customer && l.day[k] == chunk.day[i] && l.category[k] == category
          && l.amount[k].bitPattern == chunk.amount[i].bitPattern
          && l.listPrice[k].bitPattern == chunk.listPrice[i].bitPattern
          && l.promo[k] == chunk.promo[i] && l.channel[k] == channel && l.store[k] == store
      }
      let line = baseLine + 1 + Int(chunk.rowLine[i])
      if let match, Int(rowPart[Int(match)]) != part {
        duplicateCount += 1
        if duplicateExamples.count < DuplicateReport.exampleLimit {
          duplicateExamples.append((part, line, Int(rowPart[Int(match)]), Int(rowLine[Int(match)])))
        }
        if policy == .dropAcrossFiles {
          if drop == nil { drop = [Bool](repeating: false, count: n) }
          drop![i] = true  // set just above
          var raw = ""
          if let buffer {
            let lo = base + Int(chunk.rowStart[i])
            let hi = min(base + Int(chunk.rowEnd[i]), lo + 2000)
            if lo <= hi && hi <= buffer.count {
              raw = String(decoding: UnsafeBufferPointer(rebasing: buffer[lo..<hi]), as: UTF8.self)
            }
          }
          let first = Int(rowLine[Int(match)])
          rejects.append(
            Reject(
              line: line, reason: .duplicateAcrossFiles, field: nil,
              detail:
                "the same row as \(Self.name(partNames, Int(rowPart[Int(match)]))):\(first), an earlier file; dropped by the duplicates policy drop-across-files",
              raw: raw, file: part))
          continue
        }
      }
      rowPart.append(Int32(part))
      rowLine.append(Int32(truncatingIfNeeded: line))
      kept += 1
    }
    guard let drop else { return }
    // Remove the dropped rows; renumber the non-purchases that stay.
    var newIndex = [Int](repeating: -1, count: n)
    var k = 0
    for i in 0..<n where !drop[i] { newIndex[i] = k; k += 1 }
    func keep<T>(_ a: [T]) -> [T] { (0..<n).filter { !drop[$0] }.map { a[$0] } }
    chunk.customer = keep(chunk.customer); chunk.day = keep(chunk.day); chunk.category = keep(chunk.category)
    chunk.amount = keep(chunk.amount); chunk.listPrice = keep(chunk.listPrice); chunk.promo = keep(chunk.promo)
    chunk.channel = keep(chunk.channel); chunk.store = keep(chunk.store)
    chunk.nonPurchases = chunk.nonPurchases.compactMap { p in
      newIndex[p.row] < 0 ? nil : (newIndex[p.row], p.line, p.raw)
    }
  }

  /// The unsorted ledger with purchase-less customers removed, all rejects,
  /// the row counts and the last used day.
  mutating func finish() -> (Ledger, [Reject], RowCounts, Int32) {
    var l = ledger
    ledger = Ledger(empty: l.columns)  // the columns move to the result
    l.customerIDs = customers.strings()
    customers = ByteInterner(capacity: 1)
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
        rejects.append(
          Reject(
            line: p.line, reason: .noPurchase, field: .customerID,
            detail: "customer '\(id)' has no purchase before the as-of date, only refunds or zero amounts",
            raw: p.raw, file: p.part))
      }
      var newID = [Int32](repeating: -1, count: l.customerIDs.count)
      var ids: [String] = []
      for c in 0..<l.customerIDs.count where hasPurchase[c] {
        newID[c] = Int32(ids.count)
        ids.append(l.customerIDs[c])
      }
      l.customerIDs = ids
      if let f = firstLines {
        firstLines!.customer = f.customer.indices.filter { hasPurchase[$0] }.map { f.customer[$0] }  // set
      }
      let keep = (0..<l.rowCount).filter { !drop[$0] }.map { Int32($0) }
      // A column left out (`keepsStore`, `keepsTierInputs`) stays empty.
      func kept<T>(_ column: [T]) -> [T] { column.isEmpty ? column : Ledger.gather(column, keep) }
      l.customer = Ledger.gather(l.customer, keep).map { newID[Int($0)] }
      l.day = kept(l.day)
      l.category = kept(l.category)
      l.amount = kept(l.amount)
      l.listPrice = kept(l.listPrice)
      l.promo = kept(l.promo)
      l.channel = kept(l.channel)
      l.store = kept(l.store)
    }
    counts.used = l.rowCount
    counts.rejected = rejects.count
    for r in rejects { counts.rejectedByReason[r.reason.rawValue, default: 0] += 1 }
    precondition(counts.read == counts.used + counts.rejected, "row accounting does not reconcile")
    let lastDay = l.day.max() ?? 0
    return (l, rejects, counts, lastDay)
  }
}

/// The next batch of a text input, read on a thread of its own while the
/// current batch is parsed: reading and hashing (SHA-256) are serial, so
/// they would otherwise leave a core idle through every batch. The source
/// is used by one thread at a time: the reader's until `take`, the
/// caller's after.
private final class BatchPrefetch: @unchecked Sendable {
  /// Bytes kept free at the front of the buffer: `take` puts what is left
  /// of the previous batch (usually part of one record) there, instead of
  /// copying the new batch after it (16 MiB a batch, on the reading thread
  /// while the other cores waited).
  static let headroom = 1 << 16
  private var bytes: [UInt8]
  private var more = true
  private var error: Error?
  private let done = DispatchSemaphore(value: 0)
  private var taken = false

  /// Reads into `buffer`'s storage (taken, emptied, and handed back by
  /// `take`).
  init(_ source: InputSource, into buffer: inout [UInt8], bytes count: Int, blockSize: Int) {
    bytes = []
    swap(&bytes, &buffer)
    bytes.removeAll(keepingCapacity: true)
    bytes.reserveCapacity(Self.headroom + count + blockSize)
    bytes.append(contentsOf: repeatElement(0, count: Self.headroom))
    let thread = Thread { [self] in
      do {
        while more && bytes.count - Self.headroom < count {
          more = try source.read(into: &bytes, upTo: blockSize)
        }
      } catch {
        self.error = error
      }
      done.signal()
    }
    thread.start()
  }

  /// Waits for the read; makes `pending[start...]` followed by the bytes
  /// read the new `pending[start...]`, hands the storage left unused back to
  /// `buffer`, and says whether the input has more; rethrows the read's
  /// error.
  func take(after pending: inout [UInt8], from start: inout Int, returning buffer: inout [UInt8]) throws -> Bool {
    done.wait()
    taken = true
    if let error { throw error }
    let left = pending.count - start
    if left <= Self.headroom {
      let at = Self.headroom - left
      bytes.replaceSubrange(at..<Self.headroom, with: pending[start...])
      swap(&pending, &bytes)
      start = at
    } else {
      pending.removeFirst(start)
      start = 0
      pending += bytes[Self.headroom...]
    }
    swap(&bytes, &buffer)
    return more
  }

  /// Waits for a read that was not taken (the caller is leaving by an
  /// error), so the source is not read from two threads.
  func cancel() {
    guard !taken else { return }
    done.wait()
    taken = true
  }
}
