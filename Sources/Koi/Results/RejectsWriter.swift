/// Writes rejects.csv: `line,reason,field,detail,raw`, UTF-8 with a
/// byte-order mark so Excel shows Chinese text, one row per rejected input
/// row in line order. When `files` is given (a run whose input could be
/// several files, or a workbook) two columns come first, `file,sheet`: the
/// input's path as named or expanded and the workbook sheet (empty for
/// CSV); rows are then in read order, by input and line. A run on one CSV
/// file keeps the five-column layout. Written even when empty, so a reader can tell "no
/// rejects" from "not run".
///
/// Every cell goes through `SpreadsheetCSV.cell`, as the export CSVs do: a
/// raw row beginning with `=`, `+`, `-`, `@`, tab or CR (a customer id such as
/// `-1` or `+86…`, or a hostile `=HYPERLINK(…)`) gets a leading `'` so
/// Excel shows it as text instead of running it.
enum RejectsWriter {
  public static func write(_ rejects: [Reject], files: [IngestedFile]? = nil, to path: String) throws {
    let file = try AtomicFile(path: path)
    try file.write([0xEF, 0xBB, 0xBF])
    try file.write(files == nil ? "line,reason,field,detail,raw\n" : "file,sheet,line,reason,field,detail,raw\n")
    for r in rejects {
      var row = [String(r.line), r.reason.rawValue, r.field?.rawValue ?? "", r.detail, r.raw]
      if let files {
        let f = r.file < files.count ? files[r.file] : nil
        row.insert(contentsOf: [f?.path ?? "", f?.sheet ?? ""], at: 0)
      }
      try file.write(row.map(SpreadsheetCSV.cell).joined(separator: ",") + "\n")
    }
    try file.commit()
  }
}
