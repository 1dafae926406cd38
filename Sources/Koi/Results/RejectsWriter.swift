/// Writes rejects.csv: `line,reason,field,detail,raw`, UTF-8 with a
/// byte-order mark so Excel shows Chinese text, one row per rejected input
/// row in line order. Written even when empty, so a reader can tell "no
/// rejects" from "not run".
public enum RejectsWriter {
  public static func write(_ rejects: [Reject], to path: String) throws {
    let file = try AtomicFile(path: path)
    try file.write([0xEF, 0xBB, 0xBF])
    try file.write("line,reason,field,detail,raw\n")
    for r in rejects {
      let row = [String(r.line), r.reason.rawValue, r.field?.rawValue ?? "", r.detail, r.raw]
      try file.write(row.map(csvField).joined(separator: ",") + "\n")
    }
    try file.commit()
  }

  /// A CSV field, quoted when it holds a comma, quote, newline or leading
  /// space.
  static func csvField(_ s: String) -> String {
    if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.hasPrefix(" ") {
      return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
    return s
  }
}

import Foundation
