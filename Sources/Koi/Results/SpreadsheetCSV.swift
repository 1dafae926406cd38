import Foundation

/// CSV cells for the files people open in a spreadsheet: rejects.csv and the
/// campaign-list CSVs. Both are UTF-8 with a byte-order mark, so Excel opens
/// them directly, and so both need the same guard.
enum SpreadsheetCSV {
  /// A CSV cell safe to open in a spreadsheet: a cell beginning with `=`,
  /// `+`, `-`, `@`, tab or CR is prefixed with `'` so it is not run as a
  /// formula (OWASP CSV injection), then quoted when it holds a comma,
  /// quote or line break, or begins with a space.
  ///
  /// ```
  /// cell("=SUM(A1)") == "'=SUM(A1)"      cell("-300,x") == "\"'-300,x\""
  /// cell("a \"b\"")  == "\"a \"\"b\"\"\""  cell("张三")     == "张三"
  /// ```
  static func cell(_ s: String) -> String {
    var v = s
    if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
    if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || v.hasPrefix(" ") {
      return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return v
  }
}
