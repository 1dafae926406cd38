import Crypto
import Foundation

/// Pseudonymous customer ids for exports.
///
/// ```
/// pseudonym(id) = first 16 hex digits of HMAC-SHA256(key: salt, message: UTF-8 id)
/// HMAC(K, m) = H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ m)),  K' = K padded (or hashed) to 64 bytes
/// ```
///
/// 64 bits: collisions are negligible below ~100 million customers; the same
/// salt always gives the same pseudonym, so an SCRM can match across runs.
struct Pseudonymizer: Sendable {
  let key: SymmetricKey

  public init(salt: String) { self.init(key: Array(salt.utf8)) }

  init(key: [UInt8]) { self.key = SymmetricKey(data: key) }

  /// The full HMAC-SHA256 of `message` (swift-crypto's `HMAC<SHA256>`).
  func hmac(_ message: [UInt8]) -> [UInt8] {
    Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
  }

  func pseudonym(_ id: String) -> String {
    hmac(Array(id.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
  }
}

/// Writes campaign lists as JSON and CSV.
enum CampaignListWriter {
  /// The CSV header in each language. zh: 客户编号 (customer id), 原因
  /// (reason), 优先级 (priority).
  static func csvHeader(_ language: ExportLanguage) -> [String] {
    switch language {
    case .en: return ["customer_id", "reason", "priority"]
    case .zh: return ["客户编号", "原因", "优先级"]
    }
  }

  /// `DIR/<list>.json`, and with `csv` also `DIR/<list>.csv`
  /// (`customer_id,reason,priority`, or the Chinese header and reasons with
  /// `language` zh; UTF-8 with BOM, formula-escaped). The JSON is English
  /// in every language. Returns the file names written.
  ///
  /// Each file is streamed through a buffer of about a megabyte, and the
  /// lists are written at once, one a core; the first failure, in list
  /// order, is thrown.
  public static func write(
    _ lists: [CampaignList], to dir: String, csv: Bool, language: ExportLanguage = .en
  ) throws -> [String] {
    try OutputDirectory.prepare(dir)
    let written = Parallel.map(lists.count) { i in
      Result { try write(lists[i], to: dir, csv: csv, language: language) }
    }
    return try written.flatMap { try $0.get() }
  }

  /// One list's files; returns their names.
  static func write(_ l: CampaignList, to dir: String, csv: Bool, language: ExportLanguage) throws -> [String] {
    let json = l.list + ".json"
    try writeJSON(l, to: dir + "/" + json)
    guard csv else { return [json] }
    let name = l.list + ".csv"
    try writeCSV(l, to: dir + "/" + name, language: language)
    return [json, name]
  }

  /// `<list>.json`: the bytes `JSONEncoder.koi` gives the list (pretty,
  /// keys sorted, a final newline), written as they are made. The encoder
  /// built the whole document in memory and took 3.1 s of CPU for the five
  /// lists of a 10M-row `koi run`.
  static func writeJSON(_ l: CampaignList, to path: String) throws {
    let file = try AtomicFile(path: path, streamed: true)
    var out = PrettyJSON()
    out.text("{\n  \"as_of\" : "); out.string(l.asOf)
    out.text(",\n  \"contact_cap\" : \(l.contactCap),\n  \"entries\" : [\n")
    for (i, e) in l.entries.enumerated() {
      out.text(i == 0 ? "    {\n      \"customer_id\" : " : ",\n    {\n      \"customer_id\" : ")
      out.string(e.customerID)
      out.text(",\n      \"priority\" : ")
      guard e.priority.isFinite else {
        throw OutputError(path: path, message: "the priority of \(e.customerID) is not a number (\(e.priority))")
      }
      out.number(e.priority)
      out.text(",\n      \"reason\" : "); out.string(e.reason)
      out.text("\n    }")
      if out.bytes.count >= AtomicFile.flushThreshold { try out.flush(to: file) }
    }
    out.text("\n  ],\n  \"ids\" : "); out.string(l.ids)
    out.text(",\n  \"list\" : "); out.string(l.list)
    out.text(",\n  \"priority\" : "); out.string(l.priority)
    out.text(",\n  \"run_id\" : "); out.string(l.runID)
    out.text("\n}\n")
    try out.flush(to: file)
    try file.commit()
  }

  /// `<list>.csv`: UTF-8 with a BOM, the header in `language`, then
  /// `customer_id,reason,priority` with two decimals (as `%.2f`), each cell
  /// made safe for spreadsheets.
  static func writeCSV(_ l: CampaignList, to path: String, language: ExportLanguage) throws {
    let file = try AtomicFile(path: path, streamed: true)
    var out: [UInt8] = [0xEF, 0xBB, 0xBF]
    out.append(contentsOf: (csvHeader(language).map(csvCell).joined(separator: ",") + "\n").utf8)
    for e in l.entries {
      SpreadsheetCSV.append(cell: e.customerID, to: &out)
      out.append(UInt8(ascii: ","))
      SpreadsheetCSV.append(cell: e.why?.text(language) ?? e.reason, to: &out)
      out.append(UInt8(ascii: ","))
      SpreadsheetCSV.append(cell: twoDecimals(e.priority), to: &out)
      out.append(UInt8(ascii: "\n"))
      if out.count >= AtomicFile.flushThreshold {
        try file.write(out)
        out.removeAll(keepingCapacity: true)
      }
    }
    try file.write(out)
    try file.commit()
  }

  /// `String(format: "%.2f", v)`. A priority is rounded to cents
  /// (`CampaignLists.build`), so it is the double nearest some q / 100,
  /// whose `%.2f` text is q's digits: written here without `String(format:)`
  /// (0.85 s of CPU at 10M rows); any other value goes through it.
  static func twoDecimals(_ v: Double) -> String {
    guard v.isFinite, abs(v) < 1e13 else { return String(format: "%.2f", v) }
    let q = JSONWriter.roundedHalfAwayFromZero(v * 100)
    guard Double(q) / 100 == v, !(q == 0 && v.sign == .minus) else { return String(format: "%.2f", v) }
    let digits = String(q.magnitude)
    let padded = digits.count < 3 ? String(repeating: "0", count: 3 - digits.count) + digits : digits
    return (q < 0 ? "-" : "") + padded.dropLast(2) + "." + padded.suffix(2)
  }

  /// A CSV cell safe to open in a spreadsheet (`SpreadsheetCSV.cell`).
  static func csvCell(_ s: String) -> String { SpreadsheetCSV.cell(s) }
}

/// Pretty-printed JSON text as `JSONEncoder` writes it (`.prettyPrinted`,
/// `.withoutEscapingSlashes`): strings escaped as it escapes them, numbers
/// as their shortest round-trip text without a trailing `.0`.
struct PrettyJSON {
  private(set) var bytes: [UInt8] = []

  init() { bytes.reserveCapacity(AtomicFile.flushThreshold + (1 << 16)) }

  mutating func text(_ s: String) { bytes.append(contentsOf: s.utf8) }

  mutating func string(_ s: String) {
    bytes.append(UInt8(ascii: "\""))
    let hex: StaticString = "0123456789abcdef"
    for b in s.utf8 {
      switch b {
      case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
      case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
      case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
      case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
      case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
      case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
      case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
      case 0..<0x20:
        bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
        bytes.append(hex.utf8Start[Int(b >> 4)])
        bytes.append(hex.utf8Start[Int(b & 15)])
      default: bytes.append(b)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  /// A finite number.
  mutating func number(_ v: Double) { text(JSONEncoder.numberText(v)) }

  mutating func flush(to file: AtomicFile) throws {
    try file.write(bytes)
    bytes.removeAll(keepingCapacity: true)
  }
}
