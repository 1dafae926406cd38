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

  /// Appends `cell(s)`'s UTF-8 to `out`. The test is on bytes where that
  /// gives `cell`'s answer: `cell` looks at characters, and a comma, quote
  /// or line break joined to a combining mark (or a CR to its LF) is one
  /// character that is none of them. So a string with a CR goes through
  /// `cell`, as does one that is not ASCII and holds one of those bytes or
  /// starts with a space.
  static func append(cell s: String, to out: inout [UInt8]) {
    var s = s
    s.withUTF8 { u in
      var special = false
      var ascii = true
      for b in u {
        if b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D { special = true }
        if b >= 0x80 { ascii = false }
      }
      let first = u.first
      let formula = first.map { [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains($0) } ?? false
      if u.contains(0x0D) || (!ascii && (special || first == 0x20 || formula)) {
        out.append(contentsOf: cell(String(decoding: u, as: UTF8.self)).utf8)
        return
      }
      // With the prefix, the cell starts with `'`, never a space.
      let quoted = special || (!formula && first == 0x20)
      if quoted { out.append(0x22) }
      if formula { out.append(UInt8(ascii: "'")) }
      if special {
        for b in u {
          out.append(b)
          if b == 0x22 { out.append(0x22) }
        }
      } else {
        out.append(contentsOf: u)
      }
      if quoted { out.append(0x22) }
    }
  }
}
