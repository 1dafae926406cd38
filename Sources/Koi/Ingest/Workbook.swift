import Foundation
import ZIPFoundation

/// An Excel workbook (.xlsx) opened for reading: its sheets, shared strings,
/// date styles and date system. The sheets themselves are streamed
/// (`WorkbookSheetRows`); the shared-string table is held, as Excel holds it.
///
/// Read from the package: `_rels/.rels` (where the workbook part is),
/// `xl/workbook.xml` (sheets in workbook order, hidden state, `date1904`),
/// its relationships (sheet parts), `xl/styles.xml` (which cell styles are
/// dates) and `xl/sharedStrings.xml`.
final class Workbook {
  struct Sheet: Equatable {
    var name: String
    /// 1-based position in workbook order, hidden sheets included.
    var number: Int
    var hidden: Bool
    /// The part in the package, e.g. `xl/worksheets/sheet1.xml`; nil for a
    /// chart sheet or a sheet whose part is missing.
    var part: String?
  }

  let path: String
  let archive: Archive
  private(set) var sheets: [Sheet] = []
  /// `workbookPr date1904`: serial 0 is 1904-01-01 instead of 1899-12-31.
  private(set) var uses1904 = false
  /// Shared strings, as UTF-8.
  private(set) var sharedStrings: [[UInt8]] = []
  /// Per cell style (`s`), whether its number format is a date.
  private(set) var dateStyles: [Bool] = []

  /// Package parts larger than this are refused rather than read (all but
  /// the sheets and shared strings are read whole; they are small).
  static let maxSmallPart = 64 << 20

  init(path: String) throws {
    self.path = path
    let at = SourceLocation(path: path)
    do {
      archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
    } catch {
      throw IngestError(
        .corrupt,
        "not a readable workbook: the zip archive is damaged or truncated. Open it in Excel and save it again, or export it again.",
        at: at)
    }
    guard let workbookPart = try locateWorkbook() else {
      throw IngestError(
        .corrupt,
        "a zip archive but not an Excel workbook (it has no xl/workbook.xml). Save it from Excel as .xlsx (Excel Workbook).",
        at: at)
    }
    let directory = workbookPart.split(separator: "/").dropLast().joined(separator: "/")
    let relsPath =
      (directory.isEmpty ? "" : directory + "/") + "_rels/"
      + (workbookPart.split(separator: "/").last.map(String.init) ?? "workbook.xml") + ".rels"
    let targets = try relationships(relsPath, base: directory)
    try readWorkbook(workbookPart, targets: targets)
    if let styles = targets.values.first(where: { $0.type.hasSuffix("/styles") })?.target {
      try readStyles(styles)
    }
    if let strings = targets.values.first(where: { $0.type.hasSuffix("/sharedStrings") })?.target {
      try readSharedStrings(strings)
    }
  }

  // MARK: Package parts

  private func entry(_ part: String) -> Entry? {
    archive[part] ?? archive[part.hasPrefix("/") ? String(part.dropFirst()) : "/" + part]
  }

  /// A small part, whole.
  func small(_ part: String) throws -> [UInt8]? {
    guard let e = entry(part) else { return nil }
    guard e.uncompressedSize <= UInt64(Self.maxSmallPart) else {
      throw IngestError(
        .corrupt,
        "the workbook part \(part) is larger than \(Self.maxSmallPart >> 20) MiB; this is not a workbook Koi can read.",
        at: SourceLocation(path: path))
    }
    var out: [UInt8] = []
    do {
      _ = try archive.extract(e, bufferSize: 1 << 16) { out.append(contentsOf: $0) }
    } catch {
      throw damaged(part, error)
    }
    return out
  }

  func damaged(_ part: String, _ error: Error) -> IngestError {
    IngestError(
      .corrupt,
      "the workbook is damaged: its part \(part) cannot be read (\(error)). Open it in Excel and save it again.",
      at: SourceLocation(path: path))
  }

  private func locateWorkbook() throws -> String? {
    if let rels = try small("_rels/.rels") {
      var pos = 0
      while let (_, tag) = WorkbookXML.nextTag(rels, from: pos) {
        pos = tag.end
        guard !tag.isEnd, WorkbookXML.nameIs(rels, tag.name, "Relationship"),
          let type = WorkbookXML.attributeString("Type", in: rels, tag.attributes), type.hasSuffix("/officeDocument"),
          let target = WorkbookXML.attributeString("Target", in: rels, tag.attributes)
        else { continue }
        let part = target.hasPrefix("/") ? String(target.dropFirst()) : target
        if entry(part) != nil { return part }
      }
    }
    return entry("xl/workbook.xml") != nil ? "xl/workbook.xml" : nil
  }

  private func relationships(_ part: String, base: String) throws -> [String: (type: String, target: String)] {
    guard let xml = try small(part) else { return [:] }
    var out: [String: (String, String)] = [:]
    var pos = 0
    while let (_, tag) = WorkbookXML.nextTag(xml, from: pos) {
      pos = tag.end
      guard !tag.isEnd, WorkbookXML.nameIs(xml, tag.name, "Relationship"),
        let id = WorkbookXML.attributeString("Id", in: xml, tag.attributes),
        let target = WorkbookXML.attributeString("Target", in: xml, tag.attributes)
      else { continue }
      let type = WorkbookXML.attributeString("Type", in: xml, tag.attributes) ?? ""
      out[id] = (type, Self.resolve(target, base: base))
    }
    return out
  }

  /// A relationship target relative to the folder `base` (`../` allowed),
  /// or absolute (`/xl/…`).
  static func resolve(_ target: String, base: String) -> String {
    if target.hasPrefix("/") { return String(target.dropFirst()) }
    var parts = base.split(separator: "/").map(String.init)
    for p in target.split(separator: "/") {
      if p == ".." { _ = parts.popLast() } else if p != "." { parts.append(String(p)) }
    }
    return parts.joined(separator: "/")
  }

  private func readWorkbook(_ part: String, targets: [String: (type: String, target: String)]) throws {
    guard let xml = try small(part) else { return }
    var pos = 0
    while let (_, tag) = WorkbookXML.nextTag(xml, from: pos) {
      pos = tag.end
      if tag.isEnd { continue }
      if WorkbookXML.nameIs(xml, tag.name, "workbookPr") {
        let v = WorkbookXML.attributeString("date1904", in: xml, tag.attributes)?.lowercased()
        uses1904 = v == "1" || v == "true"
      } else if WorkbookXML.nameIs(xml, tag.name, "sheet") {
        let name = WorkbookXML.attributeString("name", in: xml, tag.attributes) ?? "Sheet\(sheets.count + 1)"
        let state = WorkbookXML.attributeString("state", in: xml, tag.attributes) ?? "visible"
        let rid =
          WorkbookXML.attributeString("r:id", in: xml, tag.attributes)
          ?? WorkbookXML.attributeString("id", in: xml, tag.attributes)
        var sheetPart: String?
        if let rid, let t = targets[rid], t.type.isEmpty || t.type.hasSuffix("/worksheet"), entry(t.target) != nil {
          sheetPart = t.target
        }
        sheets.append(Sheet(name: name, number: sheets.count + 1, hidden: state != "visible", part: sheetPart))
      }
    }
  }

  /// Builtin number formats that show a date: 14–22 (date, date-time), 27–36
  /// and 50–58 (the East Asian date formats Excel uses in Chinese, Japanese
  /// and Korean locales), 45–47 (times, kept so a time cell is not read as
  /// an amount).
  static func isBuiltinDateFormat(_ id: Int) -> Bool {
    (14...22).contains(id) || (27...36).contains(id) || (45...47).contains(id) || (50...58).contains(id)
  }

  /// A custom format code shows a date when, outside quoted text, `\`
  /// escapes and `[…]` sections (colours, locales, elapsed time), it has a
  /// `d` or a `y`, or an `m` with no `h` or `s` (`m` next to hours or
  /// seconds is minutes).
  static func isDateFormatCode(_ code: String) -> Bool {
    var d = false, y = false, m = false, hs = false
    var inQuote = false, inBracket = false, escaped = false
    for c in code.lowercased() {
      if escaped { escaped = false; continue }
      if inQuote { if c == "\"" { inQuote = false }; continue }
      if inBracket { if c == "]" { inBracket = false }; continue }
      switch c {
      case "\\": escaped = true
      case "\"": inQuote = true
      case "[": inBracket = true
      case "d": d = true
      case "y", "e": y = true  // e: the year in some East Asian formats
      case "m": m = true
      case "h", "s": hs = true
      default: break
      }
    }
    return d || y || (m && !hs)
  }

  private func readStyles(_ part: String) throws {
    guard let xml = try small(part) else { return }
    var custom: [Int: Bool] = [:]
    var pos = 0
    var inCellXfs = false
    while let (_, tag) = WorkbookXML.nextTag(xml, from: pos) {
      pos = tag.end
      if WorkbookXML.nameIs(xml, tag.name, "cellXfs") {
        inCellXfs = !tag.isEnd && !tag.selfClosing
        continue
      }
      if tag.isEnd { continue }
      if WorkbookXML.nameIs(xml, tag.name, "numFmt"),
        let id = WorkbookXML.attributeString("numFmtId", in: xml, tag.attributes).flatMap({ Int($0) }),
        let code = WorkbookXML.attributeString("formatCode", in: xml, tag.attributes)
      {
        custom[id] = Self.isDateFormatCode(code)
      } else if inCellXfs && WorkbookXML.nameIs(xml, tag.name, "xf") {
        let id = WorkbookXML.attributeString("numFmtId", in: xml, tag.attributes).flatMap { Int($0) } ?? 0
        dateStyles.append(custom[id] ?? Self.isBuiltinDateFormat(id))
      }
    }
  }

  private func readSharedStrings(_ part: String) throws {
    guard let e = entry(part) else { return }
    var buffer: [UInt8] = []
    do {
      _ = try archive.extract(e, bufferSize: 1 << 20) { chunk in
        buffer.append(contentsOf: chunk)
        let rest =
          WorkbookXML.forEachElement("si", in: buffer, from: 0) { s, end in
            sharedStrings.append(Self.stringItemText(buffer, s, end))
          } ?? buffer.count
        buffer.removeFirst(rest)
      }
    } catch {
      throw damaged(part, error)
    }
  }

  /// The text of an `<si>` or `<is>` element: its `<t>` runs, phonetic
  /// runs (`<rPh>`) left out.
  static func stringItemText(_ b: [UInt8], _ start: Int, _ end: Int) -> [UInt8] {
    var out: [UInt8] = []
    var pos = start
    var inPhonetic = false
    while let (_, tag) = WorkbookXML.nextTag(b, from: pos, to: end) {
      pos = tag.end
      if WorkbookXML.nameIs(b, tag.name, "rPh") { inPhonetic = !tag.isEnd && !tag.selfClosing; continue }
      guard !tag.isEnd, !tag.selfClosing, !inPhonetic, WorkbookXML.nameIs(b, tag.name, "t") else { continue }
      let close = WorkbookXML.index(of: 60, in: b, from: tag.end, to: end) ?? end
      WorkbookXML.appendDecoded(b[tag.end..<close], to: &out)
      pos = close
    }
    return out
  }

  // MARK: Choosing sheets

  /// The sheets `--sheet` selects: nil → the first visible sheet; `all` →
  /// every visible sheet in workbook order; a number → that sheet (1-based,
  /// hidden ones counted); a name → that sheet (exact, then ignoring case).
  /// A hidden sheet is read only when named or numbered.
  func select(_ selection: String?) throws -> (sheets: [Sheet], skippedHidden: [Sheet]) {
    let readable = sheets.filter { $0.part != nil }
    let hidden = readable.filter(\.hidden)
    guard let selection, !selection.isEmpty else {
      guard let first = readable.first(where: { !$0.hidden }) else {
        throw IngestError(
          .noSuchSheet,
          "the workbook has no visible worksheet (sheets: \(describeSheets())). Name one with {{sheet NAME}}.",
          at: SourceLocation(path: path))
      }
      return ([first], [])
    }
    if selection.lowercased() == "all" {
      let visible = readable.filter { !$0.hidden }
      guard !visible.isEmpty else {
        throw IngestError(
          .noSuchSheet,
          "the workbook has no visible worksheet (sheets: \(describeSheets())). Name one with {{sheet NAME}}.",
          at: SourceLocation(path: path))
      }
      return (visible, hidden)
    }
    let match =
      sheets.first { $0.name == selection }
      ?? sheets.first { $0.name.lowercased() == selection.lowercased() }
      ?? Int(selection).flatMap { n in sheets.first { $0.number == n } }
    guard let match else {
      throw IngestError(
        .noSuchSheet,
        "the workbook has no sheet '\(UserText.excerpt(selection))'; its sheets are \(describeSheets()). Give one of them with {{sheet NAME}} (a name, a number or all).",
        at: SourceLocation(path: path))
    }
    guard match.part != nil else {
      throw IngestError(
        .noSuchSheet,
        "sheet '\(UserText.excerpt(match.name))' is a chart sheet or has no cells; its sheets are \(describeSheets()).",
        at: SourceLocation(path: path))
    }
    return ([match], [])
  }

  /// `1 'Sales' , 2 'Lookup' (hidden)`, at most 20.
  func describeSheets() -> String {
    guard !sheets.isEmpty else { return "none" }
    let shown = sheets.prefix(20).map { s in
      "\(s.number) '\(UserText.excerpt(s.name))'\(s.hidden ? " (hidden)" : "")\(s.part == nil ? " (chart)" : "")"
    }.joined(separator: ", ")
    return sheets.count > 20 ? shown + ", … (\(sheets.count) sheets)" : shown
  }
}
