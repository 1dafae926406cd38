import Foundation
import Testing

@testable import Koi

/// The hostile probe of issue 13 as a corpus: each input is made here, run
/// through the real `koi score`, and held to the same rules: the documented
/// exit code, a one-line `koi: error:` message that says what the input is,
/// no stack trace, and, when the run succeeds, `rows.read = used + rejected`.
@Suite struct HostileInputCorpusTests {
  enum Case: String, CaseIterable, Sendable {
    case wideHeader, strayQuoteInHeader, badByteAtStart, badByteAfter8MiB, utf16, crOnly,
      symlinkLoop, hugeItemName, quotedNewlineInHeader, missingFile, emptyFile, headerOnly,
      allRowsBad, missingOption, badOptionValue, unknownOption
  }

  /// What a case must produce.
  struct Expected {
    var status: Int32
    /// The start of the one stderr line of a failed run (after the path
    /// where there is one); nil for a run that succeeds.
    var message: String?
    /// For a successful run: rows read and rejected.
    var read = 0
    var rejected = 0
    var reasons: [String: Int] = [:]
  }

  let dir = TemporaryDirectory()

  func koi(_ arguments: [String]) throws -> EndToEndTests.Outcome {
    try EndToEndTests().koi(arguments)
  }

  static let header = "customer_id,date,item,amount\n"

  /// Rows for customers c0 … c(n-1), every one a purchase.
  static func rows(_ n: Int, start: Int = 0) -> String {
    (start..<(start + n)).map { "c\($0 % 50),2025-0\(1 + $0 % 9)-1\($0 % 10),filler,\(100 + $0 % 7)\n" }.joined()
  }

  /// Writes the input for `c` and returns the arguments after `score` (the
  /// input path first) and what must happen.
  func make(_ c: Case) throws -> (path: String, extra: [String], expected: Expected) {
    let p = dir.path(c.rawValue + ".csv")
    switch c {
    case .wideHeader:
      let filler = 700
      var text = (0..<filler).map { "c\($0)" }.joined(separator: ",") + ",customer_id,date,item,amount\n"
      let blanks = String(repeating: ",", count: filler)
      for line in Self.rows(40).split(separator: "\n") { text += blanks + line + "\n" }
      try dir.write(c.rawValue + ".csv", text)
      return (p, [], Expected(status: 0, read: 40))
    case .strayQuoteInHeader:
      try dir.write(
        c.rawValue + ".csv",
        "customer_id,date,item,amount,no\"te\n" + Self.rows(30).replacingOccurrences(of: "\n", with: ",\n")
          + "x1,2025-01-01,\"filler\",5,\"q\"\n")
      return (p, [], Expected(status: 0, read: 31))
    case .badByteAtStart, .badByteAfter8MiB:
      // The bad row is the first, or one past the 8 MiB the encoding is guessed from.
      let count = c == .badByteAtStart ? 40 : 400_000
      var bytes = Array(Self.header.utf8)
      let body = Array(Self.rows(count).utf8)
      let cut = c == .badByteAtStart ? 0 : (9 << 20) - bytes.count
      // Put a 0xFF inside the item of the row starting after `cut`.
      var rowStart = cut
      while rowStart > 0 && body[rowStart - 1] != 10 { rowStart += 1 }
      var itemAt = rowStart
      var commas = 0
      while commas < 3 { if body[itemAt] == 44 { commas += 1 }; itemAt += 1 }
      bytes += body[..<(itemAt - 1)] + [0xFF] + body[(itemAt - 1)...]
      #expect(c == .badByteAtStart || bytes.count > (9 << 20) + 100)
      try dir.write(c.rawValue + ".csv", bytes: bytes)
      return (p, ["--stages", "rfm"], Expected(status: 0, read: count, rejected: 1, reasons: ["invalid_encoding": 1]))
    case .utf16:
      let text = Self.header + Self.rows(5)
      try dir.write(
        c.rawValue + ".csv", bytes: [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
      return (p, [], Expected(status: 2, message: "the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)"))
    case .crOnly:
      try dir.write(
        c.rawValue + ".csv",
        (Self.header + Self.rows(30) + "bad,2025-13-01,x,1\n").replacingOccurrences(of: "\n", with: "\r"))
      return (p, [], Expected(status: 0, read: 31, rejected: 1, reasons: ["bad_date": 1]))
    case .symlinkLoop:
      let other = dir.path("loop-other.csv")
      try FileManager.default.createSymbolicLink(atPath: p, withDestinationPath: other)
      try FileManager.default.createSymbolicLink(atPath: other, withDestinationPath: p)
      return (p, [], Expected(status: 3, message: "a symbolic link loop"))
    case .hugeItemName:
      // A treatment named by 1 MB of text with newlines: too few gaps to fit,
      // so the run warns about it by name.
      let name = "\"" + String(repeating: "x\ny", count: 350_000) + "\""
      try dir.write(
        c.rawValue + ".csv", Self.header + Self.rows(30) + "c1,2025-01-02,\(name),80\nc2,2025-01-03,\(name),90\n")
      return (p, ["--quiet"], Expected(status: 0, read: 32))
    case .quotedNewlineInHeader:
      // Physical line 5 holds the bad row: the header spans lines 1-2.
      try dir.write(
        c.rawValue + ".csv",
        "customer_id,date,item,amount,\"memo\nsecond line\"\n"
          + Self.rows(2).replacingOccurrences(of: "\n", with: ",\n") + "c9,2025-02-30,filler,5,\n")
      return (p, ["--strict"], Expected(status: 2, message: "\(p):5 (date): '2025-02-30' is not a date"))
    case .missingFile:
      return (p, [], Expected(status: 3, message: "no such file"))
    case .emptyFile:
      try dir.write(c.rawValue + ".csv", "")
      return (p, [], Expected(status: 2, message: "the file is empty"))
    case .headerOnly:
      try dir.write(c.rawValue + ".csv", Self.header)
      return (p, [], Expected(status: 2, message: "the file has a header but no rows"))
    case .allRowsBad:
      try dir.write(c.rawValue + ".csv", Self.header + "a,soon,filler,1\nb,2025-01-01,filler,lots\n")
      return (p, [], Expected(status: 2, message: "none of its 2 rows is usable"))
    case .missingOption:
      try dir.write(c.rawValue + ".csv", Self.header + Self.rows(5))
      return (p, ["--no-out-given"], Expected(status: 64, message: nil))
    case .badOptionValue:
      try dir.write(c.rawValue + ".csv", Self.header + Self.rows(5))
      return (p, ["--k", "1"], Expected(status: 64, message: "--k: expected a whole number from 2 to 256, got 1"))
    case .unknownOption:
      try dir.write(c.rawValue + ".csv", Self.header + Self.rows(5))
      return (p, ["--colour", "blue"], Expected(status: 64, message: "Unknown option '--colour'"))
    }
  }

  @Test(arguments: Case.allCases)
  func hostileInput(_ c: Case) throws {
    let (path, extra, expected) = try make(c)
    let out = dir.path("out-" + c.rawValue)
    var arguments = ["score", path]
    if c == .missingOption {
      arguments += ["--quiet"]
    } else {
      arguments += ["--out", out, "--quiet"] + extra
    }
    let r = try koi(arguments)
    #expect(r.status == expected.status, "\(c): \(r.stderr.prefix(2000))")
    for trace in ["Backtrace", "Fatal error", "Stack dump", "Current stack trace", "Illegal instruction", "💣"] {
      #expect(!r.stderr.contains(trace), "\(c) printed a stack trace: \(r.stderr.prefix(2000))")
    }
    // Whatever the input, stderr stays small and every line is one line.
    #expect(r.stderr.utf8.count < 8_000, "\(c): \(r.stderr.utf8.count) bytes of stderr")
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.allSatisfy { $0.count <= 1100 }, "\(c)")

    if expected.status == 0 {
      let manifest =
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
        as? [String: Any]
      let rows = try #require(manifest?["rows"] as? [String: Any])
      let read = rows["read"] as? Int ?? -1, used = rows["used"] as? Int ?? -1,
        rejected = rows["rejected"] as? Int ?? -1
      #expect(read == used + rejected, "\(c): \(rows)")
      #expect(read == expected.read && rejected == expected.rejected, "\(c): \(rows)")
      #expect((rows["rejected_by_reason"] as? [String: Int] ?? [:]) == expected.reasons, "\(c): \(rows)")
      // Every line of stderr is a warning, one line each.
      #expect(lines.allSatisfy { $0.hasPrefix("koi: warning: ") }, "\(c): \(r.stderr.prefix(2000))")
      if rejected > 0 {
        #expect(FileManager.default.fileExists(atPath: out + "/rejects.csv"))
      }
    } else {
      // Exactly one line: `koi: error: PATH: message` (usage errors have no path).
      #expect(lines.count == 1, "\(c): \(r.stderr.prefix(2000))")
      let line = String(lines.first ?? "")
      #expect(line.hasPrefix("koi: error: "), "\(c): \(line)")
      if let message = expected.message {
        // After the prefix comes the message, or the path and then the message.
        let rest = line.dropFirst("koi: error: ".count)
        let afterPath = rest.hasPrefix(path + ": ") ? rest.dropFirst(path.count + 2) : rest
        #expect(rest.hasPrefix(message) || afterPath.hasPrefix(message), "\(c): \(line)")
      }
      // A message that points at rejects.csv only does so when it exists.
      if line.contains("rejects.csv") {
        #expect(FileManager.default.fileExists(atPath: out + "/rejects.csv"), "\(c): \(line)")
      }
    }
  }
}
