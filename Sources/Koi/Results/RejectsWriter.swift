/// Writes rejects.csv: `line,reason,field,detail,raw`, UTF-8 with a
/// byte-order mark so Excel shows Chinese text, one row per rejected input
/// row in line order. Written even when empty, so a reader can tell "no
/// rejects" from "not run".
///
/// Every cell goes through `SpreadsheetCSV.cell`, as the export CSVs do: a
/// raw row beginning with `=`, `+`, `-`, `@`, tab or CR (a customer id such as
/// `-1` or `+86…`, or a hostile `=HYPERLINK(…)`) gets a leading `'` so
/// Excel shows it as text instead of running it.
public enum RejectsWriter {
  public static func write(_ rejects: [Reject], to path: String) throws {
    let file = try AtomicFile(path: path)
    try file.write([0xEF, 0xBB, 0xBF])
    try file.write("line,reason,field,detail,raw\n")
    for r in rejects {
      let row = [String(r.line), r.reason.rawValue, r.field?.rawValue ?? "", r.detail, r.raw]
      try file.write(row.map(SpreadsheetCSV.cell).joined(separator: ",") + "\n")
    }
    try file.commit()
  }
}
