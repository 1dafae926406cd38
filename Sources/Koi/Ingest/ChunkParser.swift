#if canImport(Glibc)
  import Glibc
#endif

/// Where each canonical column sits in a record, plus the per-run checks.
struct RecordLayout {
  var headerFieldCount: Int
  var customer: Int
  var date: Int
  var item: Int
  var amount: Int
  var listPrice: Int = -1
  var promo: Int = -1
  var channel: Int = -1
  var store: Int = -1
  /// Rows dated on or after this day are rejected.
  var asOfDay: Int32?
  /// Keep a hash, line and byte range of every used row, to find rows
  /// repeated across files (only when a run reads several).
  var hashRows = false
  /// The text comes from a workbook sheet (`WorkbookSheetRows`): a raw row
  /// shows an unsaved formula as `=FORMULA`, without its marker byte.
  var workbook = false

  init(mapping: ColumnMapping, asOfDay: Int32?) {
    let ix = mapping.index
    headerFieldCount = mapping.header.count
    // Required columns are guaranteed present by ColumnMapping.
    customer = ix[.customerID] ?? 0
    date = ix[.date] ?? 0
    item = ix[.item] ?? 0
    amount = ix[.amount] ?? 0
    listPrice = ix[.listPrice] ?? -1
    promo = ix[.promo] ?? -1
    channel = ix[.channel] ?? -1
    store = ix[.store] ?? -1
    self.asOfDay = asOfDay
  }
}

/// The rows of one chunk of records, with chunk-local dictionary ids.
struct ParsedChunk {
  var customer: [Int32] = []
  var day: [Int32] = []
  var category: [Int32] = []
  var amount: [Double] = []
  var listPrice: [Double] = []
  var promo: [Int8] = []
  var channel: [Int32] = []
  var store: [Int32] = []
  var customers = ByteInterner()
  var categories = ByteInterner(capacity: 64)
  var channels = ByteInterner(capacity: 16)
  var stores = ByteInterner(capacity: 16)
  /// Rejected records; `line` is 0-based within the chunk until the reader
  /// adds the chunk's base line.
  var rejects: [Reject] = []
  /// Rows that are not purchases, with their chunk-local line and text, in
  /// case their customer turns out to have no purchase at all.
  var nonPurchases: [(row: Int, line: Int, raw: String)] = []
  /// Non-blank records seen.
  var records = 0
  var blankLines = 0
  /// Newlines in the parsed records (physical lines, for the next chunk's base).
  var newlines = 0
  /// Bytes parsed: the buffer's length, or where an incomplete last record
  /// starts.
  var consumed = 0
  /// With `RecordLayout.hashRows`, per used row: the hash of its canonical
  /// fields' text (`DuplicateRows.rowHash`), its chunk-local line and its
  /// bytes in the chunk (for a reject's raw text).
  var rowHash: [UInt64] = []
  var rowLine: [Int32] = []
  var rowStart: [Int32] = []
  var rowEnd: [Int32] = []
  /// With `RecordLayout.hashRows`, the chunk-local line that interned each
  /// chunk-local customer, category, channel and store id (a rejected row
  /// may intern one): the reader's first-appearance lines (`FirstLines`).
  var internLines: [[Int32]] = [[], [], [], []]
}

/// A parsed row, as the parser hands it to `ParsedRows`.
struct ParsedRow {
  var customer: Int32
  var day: Int32
  var category: Int32
  var channel: Int32
  var store: Int32
  var promo: Int8
  var amount: Double
  var listPrice: Double
}

/// The rows of a chunk while it is parsed, column by column in buffers of
/// their own: a row is eight stores, and the chunk's columns are copies of
/// the buffers. Rows kept as an array of `ParsedRow` and split into columns
/// afterwards cost ~13% of the parser's samples at 10M rows (the append's
/// checks and eight strided passes); appending to the eight arrays in turn
/// cost eight calls that check each array's uniqueness and capacity.
struct ParsedRows: ~Copyable {
  private var capacity: Int
  private(set) var count = 0
  private var customer, day, category, channel, store: UnsafeMutablePointer<Int32>
  private var promo: UnsafeMutablePointer<Int8>
  private var amount, listPrice: UnsafeMutablePointer<Double>

  init(capacity: Int) {
    self.capacity = max(1, capacity)
    (customer, day, category) = (
      .allocate(capacity: self.capacity), .allocate(capacity: self.capacity), .allocate(capacity: self.capacity)
    )
    (channel, store) = (.allocate(capacity: self.capacity), .allocate(capacity: self.capacity))
    promo = .allocate(capacity: self.capacity)
    (amount, listPrice) = (.allocate(capacity: self.capacity), .allocate(capacity: self.capacity))
  }

  deinit {
    customer.deallocate(); day.deallocate(); category.deallocate(); channel.deallocate(); store.deallocate()
    promo.deallocate(); amount.deallocate(); listPrice.deallocate()
  }

  @inline(__always)
  mutating func append(_ row: ParsedRow) {
    if count == capacity { grow() }
    (customer + count).initialize(to: row.customer)
    (day + count).initialize(to: row.day)
    (category + count).initialize(to: row.category)
    (channel + count).initialize(to: row.channel)
    (store + count).initialize(to: row.store)
    (promo + count).initialize(to: row.promo)
    (amount + count).initialize(to: row.amount)
    (listPrice + count).initialize(to: row.listPrice)
    count += 1
  }

  /// Doubles every buffer (rare: the parser sizes them for short rows).
  private mutating func grow() {
    func moved<T>(_ p: UnsafeMutablePointer<T>, _ newCapacity: Int) -> UnsafeMutablePointer<T> {
      let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
      q.moveInitialize(from: p, count: count)
      p.deallocate()
      return q
    }
    let c = capacity * 2
    (customer, day, category) = (moved(customer, c), moved(day, c), moved(category, c))
    (channel, store, promo) = (moved(channel, c), moved(store, c), moved(promo, c))
    (amount, listPrice) = (moved(amount, c), moved(listPrice, c))
    capacity = c
  }

  /// Sets `chunk`'s columns to the rows, in order.
  func setColumns(of chunk: inout ParsedChunk) {
    func array<T>(_ p: UnsafeMutablePointer<T>) -> [T] { Array(UnsafeBufferPointer(start: p, count: count)) }
    chunk.customer = array(customer)
    chunk.day = array(day)
    chunk.category = array(category)
    chunk.amount = array(amount)
    chunk.listPrice = array(listPrice)
    chunk.promo = array(promo)
    chunk.channel = array(channel)
    chunk.store = array(store)
  }
}

/// Splits UTF-8 CSV bytes (RFC 4180: quoted fields with `""` escapes and
/// embedded newlines, CRLF or LF) into records and fields, and parses the
/// fields into typed columns.
///
/// - Complexity: O(bytes). No allocation per row on the happy path.
struct ChunkParser {
  let layout: RecordLayout

  /// Cells that mark a total row (compared lower-cased, without a final colon).
  static let totalWords: Set<String> = [
    "合计", "总计", "小计", "总额", "合计金额", "total", "totals", "grand total", "subtotal", "sum",
  ]

  private static let maxRawBytes = 2000

  /// Parses the records of `buf`, which starts at a record start. When
  /// `isFinal` is false, a last record not ended by a newline (or still
  /// inside quotes) is not parsed: `consumed` says where it starts, so the
  /// caller can parse it again with the bytes that follow.
  func parse(_ buf: UnsafeBufferPointer<UInt8>, isFinal: Bool) -> ParsedChunk {
    var out = ParsedChunk()
    var rows = ParsedRows(capacity: buf.count / 48)
    // Room for a customer per 64 bytes without growing: a piece of a large
    // file (2 MiB at 10M rows) holds mostly customers it has not seen, and
    // growing from the default rehashed its keys five times (each growth
    // computes every key's hash again).
    out.customers = ByteInterner(capacity: buf.count / 64)

    // Room for every header column, however many there are; fields past the
    // header's count are only checked for being empty, never stored.
    let slots = FieldSlots(capacity: layout.headerFieldCount)
    let fieldStart = slots.start, fieldEnd = slots.end, fieldEscaped = slots.escaped
    // Unescaped copies of fields with doubled quotes (rare).
    var scratchCapacity = 256
    var scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchCapacity)
    defer {
      slots.deallocate()
      scratch.deallocate()
    }

    let n = buf.count
    var pos = 0
    var line = 0
    var incomplete = false
    var dates = FieldParsers.DateReader()
    while pos < n {
      let recordStart = pos
      let recordLine = line
      let split =
        CSVRecord.splitUnquoted(buf, at: &pos, line: &line, into: slots).map { CSVRecord.Split(fieldCount: $0) }
        ?? CSVRecord.split(buf, at: &pos, line: &line, into: slots)
      let fieldCount = split.fieldCount
      if split.endedAtBufferEnd && !isFinal {
        // Incomplete: its end is in bytes not read yet.
        out.consumed = recordStart
        incomplete = true
        line = recordLine
        break
      }
      var recordEnd = pos
      while recordEnd > recordStart && (buf[recordEnd - 1] == 10 || buf[recordEnd - 1] == 13) { recordEnd -= 1 }
      if recordEnd == recordStart {
        out.blankLines += 1
        continue
      }
      out.records += 1

      func raw() -> String {
        let hi = min(recordEnd, recordStart + ChunkParser.maxRawBytes)
        let bytes = UnsafeBufferPointer(rebasing: buf[recordStart..<hi])
        if layout.workbook && bytes.contains(WorkbookSheetRows.uncachedFormulaMarker) {
          return String(decoding: bytes.filter { $0 != WorkbookSheetRows.uncachedFormulaMarker }, as: UTF8.self)
        }
        return String(decoding: bytes, as: UTF8.self)
      }
      func reject(_ reason: RejectReason, _ field: CanonicalColumn?, _ detail: String) {
        var detail = detail
        if [.badDate, .missingCustomerID, .missingItem, .badAmount].contains(reason), let label = totalLabel() {
          detail += "; the row reads '\(label)': a total row, not a transaction (totals are never used)"
        }
        out.rejects.append(Reject(line: recordLine, reason: reason, field: field, detail: detail, raw: raw()))
      }
      // A cell such as 合计 or Total in a row that did not parse: a total row.
      func totalLabel() -> String? {
        for k in 0..<min(fieldCount, layout.headerFieldCount) {
          let f = field(k)
          guard !f.isEmpty, f.count <= 24 else { continue }
          let t = String(decoding: f, as: UTF8.self)
          var l = t.lowercased()
          while l.hasSuffix(":") || l.hasSuffix("：") { l.removeLast() }
          if ChunkParser.totalWords.contains(l) { return t }
        }
        return nil
      }
      // A workbook formula with no saved value (`WorkbookSheetRows`).
      func isUncachedFormula(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
        f.count >= 2 && f[0] == WorkbookSheetRows.uncachedFormulaMarker && f[1] == 61
      }
      func rejectFormula(_ f: UnsafeBufferPointer<UInt8>, _ column: CanonicalColumn) {
        let formula = String(decoding: UnsafeBufferPointer(rebasing: f[1...]), as: UTF8.self)
        reject(
          .formulaWithoutValue, column,
          "the \(column.rawValue) is a formula (\(UserText.excerpt(formula))) with no saved value: the workbook was written by a program that does not calculate. Open it in Excel and save it (or paste values) so the results are stored"
        )
      }

      if split.unterminated {
        reject(.unterminatedQuote, nil, "a quoted field is still open at the end of the file")
        continue
      }
      if split.malformed {
        reject(
          .malformedQuotes, nil, "text follows a closing quote; quote the whole field and double any quote inside it")
        continue
      }
      let expected = layout.headerFieldCount
      if fieldCount != expected {
        // Extra fields after the header's count are allowed when empty.
        if !(fieldCount > expected && split.extraFieldsEmpty) {
          reject(.wrongFieldCount, nil, "expected \(expected) fields as in the header, found \(fieldCount)")
          continue
        }
      }

      // A field's bytes, unescaped and trimmed of spaces and tabs.
      func field(_ k: Int) -> UnsafeBufferPointer<UInt8> {
        var lo = fieldStart[k], hi = fieldEnd[k]
        if fieldEscaped[k] {
          if hi - lo > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = hi - lo
            scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchCapacity)
          }
          var count = 0
          var i = lo
          while i < hi {
            scratch[count] = buf[i]
            count += 1
            i += buf[i] == 34 ? 2 : 1
          }
          var a = 0, b = count
          while a < b && (scratch[a] == 32 || scratch[a] == 9) { a += 1 }
          while b > a && (scratch[b - 1] == 32 || scratch[b - 1] == 9) { b -= 1 }
          // Valid until the next escaped field is read: callers consume one
          // field before asking for the next.
          return UnsafeBufferPointer(start: scratch + a, count: b - a)
        }
        while lo < hi && (buf[lo] == 32 || buf[lo] == 9) { lo += 1 }
        while hi > lo && (buf[hi - 1] == 32 || buf[hi - 1] == 9) { hi -= 1 }
        return UnsafeBufferPointer(rebasing: buf[lo..<hi])
      }
      // A field quoted in a message: one line, cut short (it is user text).
      func text(_ f: UnsafeBufferPointer<UInt8>) -> String { UserText.excerpt(String(decoding: f, as: UTF8.self)) }
      // Rejects a field that did not parse: as `invalid_encoding` when its
      // bytes are not UTF-8 (the cause), else for `reason`.
      func rejectField(
        _ f: UnsafeBufferPointer<UInt8>, _ reason: RejectReason, _ column: CanonicalColumn,
        _ detail: @autoclosure () -> String
      ) {
        if isUncachedFormula(f) {
          rejectFormula(f, column)
        } else if isValidUTF8(f) {
          reject(reason, column, detail())
        } else {
          reject(
            .invalidEncoding, column,
            "the \(column.rawValue) is not valid UTF-8; if the file is GB18030/GBK, set the input encoding to gb18030")
        }
      }
      // Interns a text field; nil when it is not valid UTF-8.
      func intern(_ f: UnsafeBufferPointer<UInt8>, _ table: inout ByteInterner) -> Int32? {
        let k = ByteInterner.key(f)
        if let id = table.find(f, k) { return id }
        guard isValidUTF8(f) else { return nil }
        return table.insert(f, k)
      }
      // With hashRows, the line that interned each new id (`internLines`).
      let interned = (
        out.customers.count, out.categories.count, out.channels.count, out.stores.count
      )
      func noteInterned() {
        guard layout.hashRows else { return }
        let line = Int32(truncatingIfNeeded: recordLine)
        if out.customers.count > interned.0 { out.internLines[0].append(line) }
        if out.categories.count > interned.1 { out.internLines[1].append(line) }
        if out.channels.count > interned.2 { out.internLines[2].append(line) }
        if out.stores.count > interned.3 { out.internLines[3].append(line) }
      }
      defer { noteInterned() }

      let dateField = field(layout.date)
      guard let day = dates.parse(dateField) else {
        rejectField(
          dateField, .badDate, .date,
          dateField.isEmpty
            ? "the date is empty"
            : "'\(text(dateField))' is not a date in a known form (2025-03-05, 2025/3/5, 20250305, with an optional time)"
        )
        continue
      }
      if let asOf = layout.asOfDay, day >= asOf {
        reject(
          .afterAsOf, .date, "dated \(DayNumber.format(day)), on or after the as-of date \(DayNumber.format(asOf))")
        continue
      }
      let amountField = field(layout.amount)
      guard let amount = FieldParsers.parseAmount(amountField) else {
        rejectField(
          amountField, .badAmount, .amount,
          amountField.isEmpty ? "the amount is empty" : "'\(text(amountField))' is not an amount")
        continue
      }
      var listPrice = Double.nan
      if layout.listPrice >= 0 {
        let f = field(layout.listPrice)
        if !FieldParsers.isMissing(f) {
          guard let v = FieldParsers.parseAmount(f), v >= 0 else {
            rejectField(f, .badListPrice, .listPrice, "'\(text(f))' is not a non-negative list price")
            continue
          }
          listPrice = v
        }
      }
      var promo: Int8 = -1
      if layout.promo >= 0 {
        let f = field(layout.promo)
        if !FieldParsers.isMissing(f) {
          guard let v = FieldParsers.parseFlag(f) else {
            rejectField(f, .badPromo, .promo, "'\(text(f))' is not a promotion flag (1/0, yes/no, true/false, 是/否)")
            continue
          }
          promo = v
        }
      }
      let customerField = field(layout.customer)
      if customerField.isEmpty {
        reject(.missingCustomerID, .customerID, "the customer id is empty")
        continue
      }
      guard let customer = intern(customerField, &out.customers) else {
        if isUncachedFormula(customerField) { rejectFormula(customerField, .customerID); continue }
        reject(
          .invalidEncoding, .customerID,
          "the customer id is not valid UTF-8; if the file is GB18030/GBK, set the input encoding to gb18030")
        continue
      }
      let itemField = field(layout.item)
      if itemField.isEmpty {
        reject(.missingItem, .item, "the item is empty")
        continue
      }
      guard let category = intern(itemField, &out.categories) else {
        if isUncachedFormula(itemField) { rejectFormula(itemField, .item); continue }
        reject(
          .invalidEncoding, .item,
          "the item is not valid UTF-8; if the file is GB18030/GBK, set the input encoding to gb18030")
        continue
      }
      // An optional text column's id: -1 when the column is absent or the
      // value missing, nil when the text is not valid UTF-8.
      func optionalText(_ column: Int, _ table: inout ByteInterner) -> Int32? {
        guard column >= 0 else { return -1 }
        let f = field(column)
        return FieldParsers.isMissing(f) ? -1 : intern(f, &table)
      }
      guard let channel = optionalText(layout.channel, &out.channels) else {
        let f = field(layout.channel)
        if isUncachedFormula(f) {
          rejectFormula(f, .channel)
        } else {
          reject(.invalidEncoding, .channel, "the channel is not valid UTF-8")
        }
        continue
      }
      guard let store = optionalText(layout.store, &out.stores) else {
        let f = field(layout.store)
        if isUncachedFormula(f) {
          rejectFormula(f, .store)
        } else {
          reject(.invalidEncoding, .store, "the store is not valid UTF-8")
        }
        continue
      }
      if layout.hashRows {
        out.rowHash.append(DuplicateRows.rowHash(layout: layout, field: field))
        out.rowLine.append(Int32(truncatingIfNeeded: recordLine))
        out.rowStart.append(Int32(truncatingIfNeeded: recordStart))
        out.rowEnd.append(Int32(truncatingIfNeeded: recordEnd))
      }
      if !isPurchase(amount) {
        out.nonPurchases.append((rows.count, recordLine, raw()))
      }
      rows.append(
        ParsedRow(
          customer: customer, day: day, category: category, channel: channel, store: store, promo: promo,
          amount: amount, listPrice: listPrice))
    }
    rows.setColumns(of: &out)
    out.newlines = line
    if !incomplete { out.consumed = n }
    return out
  }
}

/// Where to cut a batch for parallel parsing.
enum RecordBoundaries {
  /// Cuts `p` into about `parts` pieces just after a newline. A newline may
  /// sit inside a quoted field, so a cut is only a guess: the reader checks
  /// each piece's `consumed` and re-parses across a wrong cut.
  static func split(_ p: UnsafeBufferPointer<UInt8>, parts: Int) -> [Range<Int>] {
    let n = p.count
    var cuts = [0]
    guard let base = p.baseAddress, parts > 1 else { return [0..<n] }
    for k in 1..<parts {
      let nominal = max(n * k / parts, cuts[cuts.count - 1])
      guard nominal < n, let hit = memchr(base + nominal, 10, n - nominal) else { break }
      let cut = UnsafeRawPointer(hit) - UnsafeRawPointer(base) + 1
      if cut < n && cut > cuts[cuts.count - 1] { cuts.append(cut) }
    }
    cuts.append(n)
    return zip(cuts, cuts.dropFirst()).map { $0..<$1 }
  }
}
