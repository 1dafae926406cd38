import CLibZ
import Foundation
import ZIPFoundation

/// One sheet of a workbook as CSV text, one line per spreadsheet row, so the
/// CSV row parser reads it and line numbers are row numbers.
///
/// The sheet XML is inflated on a helper thread in 1 MiB chunks and handed
/// over through a queue of at most four chunks (`ChunkPipe`); each complete
/// `<row>` is converted as it arrives. Memory: a few chunks and one row,
/// whatever the sheet's size.
///
/// Conversion, cell by cell (text as Excel holds it, not as it displays it):
///
/// ```
/// shared string (t="s"), inline string, formula string   its text
/// number                                                 as stored ("1280", "1280.5")
/// number with a date style, or any number in the date    the date, 2025-03-05 (with
///   column (serial days; 1900 or 1904 system)              " 14:22:01" when it has a time)
/// boolean                                                TRUE / FALSE
/// error (#N/A …)                                         the error text
/// formula without a saved value                          a marker the row parser
///                                                          rejects as formula_without_value
/// line breaks inside a cell                              a space (one row = one line)
/// ```
///
/// Rows above `headerRow` are left out (title rows, merged or not); a row
/// missing from the XML or with only empty cells is a blank line; rows are
/// padded with empty cells to the header's width.
final class WorkbookSheetRows {
  let workbook: Workbook
  let sheet: Workbook.Sheet
  let headerRow: Int
  /// The column the dates are in (0-based), once the header is mapped.
  var dateColumn: Int?
  /// Cells in the header row (its last non-empty cell), once read.
  private(set) var headerWidth: Int?

  private var pipe: ChunkPipe?
  private var buffer: [UInt8] = []
  private var bufferStart = 0
  private var finished = false
  /// The next row number a line stands for.
  private var nextRow: Int
  /// XML bytes taken from the pipe, and the part's size, for progress.
  private(set) var xmlBytesRead: Int64 = 0
  let xmlBytes: Int64

  /// Marks a formula cell with no saved value (never valid UTF-8, so it
  /// cannot come from cell text).
  static let uncachedFormulaMarker: UInt8 = 0xFF

  init(workbook: Workbook, sheet: Workbook.Sheet, headerRow: Int) {
    self.workbook = workbook
    self.sheet = sheet
    self.headerRow = max(1, headerRow)
    nextRow = max(1, headerRow)
    let part = sheet.part ?? ""
    xmlBytes = Int64(workbook.archive[part]?.uncompressedSize ?? 0)
  }

  deinit { pipe?.cancel() }

  private func start() {
    guard pipe == nil, let part = sheet.part, let entry = workbook.archive[part] else { return }
    let p = ChunkPipe()
    pipe = p
    let archive = workbook.archive
    let thread = Thread {
      do {
        // The CRC-32 by the system zlib (ZIPFoundation's own, on Linux, is
        // a Swift loop that took a tenth of the time of a 1M-row sheet).
        var crc = CLibZ.crc32(0, nil, 0)
        _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true) { data in
          data.withUnsafeBytes { raw in
            crc = CLibZ.crc32(crc, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(raw.count))
          }
          try p.put([UInt8](data))
        }
        guard UInt32(truncatingIfNeeded: crc) == entry.checksum else { throw Archive.ArchiveError.invalidCRC32 }
        p.finish(nil)
      } catch {
        p.finish(error)
      }
    }
    thread.stackSize = 1 << 20
    thread.start()
  }

  /// Stops the helper thread (an error stopped the read early).
  func cancel() { pipe?.cancel() }

  /// Appends CSV lines for about `count` bytes of rows to `out`; until the
  /// header has been handed out, only the header line. Returns false once
  /// the sheet is done and nothing was added.
  func read(into out: inout [UInt8], upTo count: Int) throws -> Bool {
    start()
    let before = out.count
    let hadHeader = headerWidth != nil
    while !finished {
      // Convert the complete rows in the buffer (only the header line, the
      // first time), up to about `count` bytes.
      var emitted = 0
      var stoppedAt: Int?
      let rest = try WorkbookXML.forEachElement("row", in: buffer, from: bufferStart, stop: "sheetData") { s, e in
        if stoppedAt != nil { return }
        if (!hadHeader && headerWidth != nil) || out.count - before >= count { stoppedAt = s; return }
        if try convertRow(s, e, into: &out) { emitted += 1 }
      }
      if let stoppedAt {
        bufferStart = stoppedAt
      } else if let rest {
        bufferStart = rest
      } else {
        end()
        break
      }
      if (!hadHeader && headerWidth != nil) || out.count - before >= count { break }
      let chunk: [UInt8]?
      do {
        chunk = try pipe?.take()
      } catch {
        throw workbook.damaged(sheet.part ?? "", error)
      }
      guard let chunk else {
        end()
        // A row still open at the end: the XML is cut short.
        if WorkbookXML.find(Array("<row".utf8), in: buffer, from: bufferStart, to: buffer.count) != nil {
          throw IngestError(
            .corrupt,
            "sheet '\(UserText.excerpt(sheet.name))' ends in the middle of a row: the workbook is damaged. Open it in Excel and save it again.",
            at: SourceLocation(path: workbook.path))
        }
        break
      }
      xmlBytesRead += Int64(chunk.count)
      if bufferStart > 0 {
        buffer.removeFirst(bufferStart)
        bufferStart = 0
      }
      buffer.append(contentsOf: chunk)
    }
    return out.count > before || !finished
  }

  /// The sheet is done: stop the helper thread (it may still be inflating
  /// what follows the sheet data) before another part of the archive is read.
  private func end() {
    finished = true
    pipe?.cancel()
    buffer = []
    bufferStart = 0
  }

  private var cells: [[UInt8]?] = []
  private var formulaText: [UInt8] = []

  /// Converts one `<row>`; false when it lies above the header row.
  private func convertRow(_ start: Int, _ end: Int, into out: inout [UInt8]) throws -> Bool {
    let b = buffer
    guard let (_, rowTag) = WorkbookXML.nextTag(b, from: start, to: end) else { return false }
    let r = WorkbookXML.attributeString("r", in: b, rowTag.attributes).flatMap { Int($0) } ?? nextRow
    if r < nextRow { return false }  // above the header (or out of order: ignored)
    cells.removeAll(keepingCapacity: true)
    var pos = rowTag.end
    var column = -1
    while !rowTag.selfClosing, let (_, tag) = WorkbookXML.nextTag(b, from: pos, to: end) {
      pos = tag.end
      guard !tag.isEnd, WorkbookXML.nameIs(b, tag.name, "c") else { continue }
      if let ref = WorkbookXML.attribute("r", in: b, tag.attributes), let c = Self.columnIndex(b[ref]) {
        column = c
      } else {
        column += 1
      }
      let type = WorkbookXML.attribute("t", in: b, tag.attributes).map { Self.cellType(b, $0) } ?? .number
      var style = 0
      if let sr = WorkbookXML.attribute("s", in: b, tag.attributes) {
        for i in sr {
          guard b[i] &- 48 < 10, style < 1 << 40 else { break }
          style = style * 10 + Int(b[i] &- 48)
        }
      }
      var value: ArraySlice<UInt8>?
      var inline: [UInt8]?
      var hasFormula = false
      formulaText.removeAll(keepingCapacity: true)
      if !tag.selfClosing {
        // The cell's children, to its </c>.
        var k = tag.end
        while let (_, inner) = WorkbookXML.nextTag(b, from: k, to: end) {
          k = inner.end
          if inner.isEnd && WorkbookXML.nameIs(b, inner.name, "c") { break }
          if inner.isEnd { continue }
          if WorkbookXML.nameIs(b, inner.name, "v") && !inner.selfClosing {
            let close = WorkbookXML.index(of: 60, in: b, from: inner.end, to: end) ?? end
            value = b[inner.end..<close]
            k = close
          } else if WorkbookXML.nameIs(b, inner.name, "f") {
            hasFormula = true
            if !inner.selfClosing {
              let close = WorkbookXML.index(of: 60, in: b, from: inner.end, to: end) ?? end
              WorkbookXML.appendDecoded(b[inner.end..<close], to: &formulaText)
              k = close
            }
          } else if WorkbookXML.nameIs(b, inner.name, "is") && !inner.selfClosing {
            var close = k
            while let (_, t) = WorkbookXML.nextTag(b, from: close, to: end) {
              if t.isEnd && WorkbookXML.nameIs(b, t.name, "is") { close = t.end; break }
              close = t.end
            }
            inline = Workbook.stringItemText(b, inner.end, close)
            k = close
          }
        }
        pos = k
      }
      guard column >= 0 && column < 16_384 else { continue }
      while cells.count <= column { cells.append(nil) }
      if let inline {
        cells[column] = inline
      } else if let value {
        cells[column] = try text(of: value, type: type, style: style, column: column)
      } else if hasFormula {
        var marker: [UInt8] = [Self.uncachedFormulaMarker, 61]  // "="
        marker += formulaText.isEmpty ? Array("(shared formula)".utf8) : Array(formulaText.prefix(60))
        cells[column] = marker
      }
    }
    // Blank lines for rows the XML leaves out.
    if r > nextRow {
      out.append(contentsOf: repeatElement(10, count: r - nextRow))
    }
    nextRow = r + 1
    let lastNonEmpty = cells.lastIndex { $0.map { !$0.isEmpty } ?? false } ?? -1
    if headerWidth == nil {
      headerWidth = lastNonEmpty + 1
    }
    if lastNonEmpty < 0 {
      out.append(10)
      return true
    }
    let width = max(headerWidth ?? 0, lastNonEmpty + 1)
    for c in 0..<width {
      if c > 0 { out.append(44) }
      if c < cells.count, let cell = cells[c] { Self.appendField(cell, to: &out) }
    }
    out.append(10)
    return true
  }

  /// A cell value as text (see the type's documentation).
  enum CellType { case sharedString, boolean, number, other }

  static func cellType(_ b: [UInt8], _ r: Range<Int>) -> CellType {
    if r.count == 1 && b[r.lowerBound] == 115 { return .sharedString }  // s
    if r.count == 1 && b[r.lowerBound] == 98 { return .boolean }  // b
    if r.count == 1 && b[r.lowerBound] == 110 { return .number }  // n
    return .other  // str, inlineStr, e, d
  }

  private func text(of v: ArraySlice<UInt8>, type: CellType, style: Int, column: Int) throws -> [UInt8] {
    switch type {
    case .sharedString:
      guard let i = Int(String(decoding: v, as: UTF8.self)), i >= 0, i < workbook.sharedStrings.count else {
        throw IngestError(
          .corrupt,
          "sheet '\(UserText.excerpt(sheet.name))' refers to shared string \(String(decoding: v.prefix(20), as: UTF8.self)), which the workbook does not have: it is damaged. Open it in Excel and save it again.",
          at: SourceLocation(path: workbook.path))
      }
      return workbook.sharedStrings[i]
    case .boolean:
      return v.first == 49 ? Array("TRUE".utf8) : Array("FALSE".utf8)
    case .number:
      let isDate =
        (style >= 0 && style < workbook.dateStyles.count && workbook.dateStyles[style]) || column == dateColumn
      if isDate, let serial = Double(String(decoding: v, as: UTF8.self)),
        let d = Self.dateText(serial: serial, uses1904: workbook.uses1904)
      {
        return d
      }
      return Array(v)
    case .other:  // str, e, d, inlineStr with <v>
      var out: [UInt8] = []
      WorkbookXML.appendDecoded(v, to: &out)
      return out
    }
  }

  /// `2025-03-05`, or `2025-03-05 14:22:01` with a time of day, for a
  /// serial day number: the 1900 system counts from 1899-12-31 = 0 with
  /// Lotus 1-2-3's phantom 1900-02-29 (serial 60), so from serial 61 on the
  /// day is 1899-12-30 + serial; the 1904 system counts from 1904-01-01 = 0.
  /// Nil for a negative or absurd serial (left as the number, so the row is
  /// rejected as `bad_date`).
  static func dateText(serial: Double, uses1904: Bool) -> [UInt8]? {
    guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }  // < 10000-01-01
    var days = serial.rounded(.down)
    var seconds = ((serial - days) * 86_400).rounded()
    if seconds >= 86_400 { days += 1; seconds = 0 }
    let day: Int32
    if uses1904 {
      day = DayNumber.from(year: 1904, month: 1, day: 1) + Int32(days)
    } else if days >= 61 {
      day = DayNumber.from(year: 1899, month: 12, day: 30) + Int32(days)
    } else if days == 60 {
      return Array("1900-02-29".utf8)  // Excel's phantom day: rejected as bad_date
    } else {
      day = DayNumber.from(year: 1899, month: 12, day: 31) + Int32(days)
    }
    var s = DayNumber.format(day)
    if seconds > 0 { s += " " + DayNumber.formatTime(secondsOfDay: Int(seconds)) }
    return Array(s.utf8)
  }

  /// 0-based column of a cell reference such as `AB12`.
  static func columnIndex(_ ref: ArraySlice<UInt8>) -> Int? {
    var c = 0
    var letters = 0
    for b in ref {
      let u = b & 0xDF
      guard u >= 65 && u <= 90 else { break }
      c = c * 26 + Int(u - 64)
      letters += 1
      if letters > 3 { return nil }
    }
    return letters == 0 ? nil : c - 1
  }

  /// A CSV field: quoted when it holds a comma or a quote (quotes doubled);
  /// CR and LF become spaces.
  static func appendField(_ cell: [UInt8], to out: inout [UInt8]) {
    let needsQuotes = cell.contains(44) || cell.contains(34)
    if needsQuotes { out.append(34) }
    for b in cell {
      switch b {
      case 10, 13: out.append(32)
      case 34: out.append(34); out.append(34)
      default: out.append(b)
      }
    }
    if needsQuotes { out.append(34) }
  }
}

/// A bounded hand-over of byte chunks from one producer thread to one
/// consumer: the producer waits while four chunks are queued, so a sheet is
/// never inflated faster than it is read.
final class ChunkPipe: @unchecked Sendable {
  private let condition = NSCondition()
  private var chunks: [[UInt8]] = []
  private var done = false
  private var failure: Error?
  private var cancelled = false
  private let capacity = 4

  struct Cancelled: Error {}

  func put(_ chunk: [UInt8]) throws {
    condition.lock()
    defer { condition.unlock() }
    while chunks.count >= capacity && !cancelled { condition.wait() }
    if cancelled { throw Cancelled() }
    chunks.append(chunk)
    condition.broadcast()
  }

  func finish(_ error: Error?) {
    condition.lock()
    done = true
    failure = error
    condition.broadcast()
    condition.unlock()
  }

  /// The next chunk; nil at the end.
  func take() throws -> [UInt8]? {
    condition.lock()
    defer { condition.unlock() }
    while chunks.isEmpty && !done { condition.wait() }
    if !chunks.isEmpty {
      let c = chunks.removeFirst()
      condition.broadcast()
      return c
    }
    if let failure, !(failure is Cancelled) { throw failure }
    return nil
  }

  /// Stops the producer and waits for it to end.
  func cancel() {
    condition.lock()
    cancelled = true
    condition.broadcast()
    while !done { condition.wait() }
    chunks.removeAll()
    condition.unlock()
  }
}
