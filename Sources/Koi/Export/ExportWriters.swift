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
  public static func write(
    _ lists: [CampaignList], to dir: String, csv: Bool, language: ExportLanguage = .en
  ) throws -> [String] {
    try OutputDirectory.prepare(dir)
    var names: [String] = []
    for l in lists {
      let json = l.list + ".json"
      try AtomicFile.write(try Array(JSONEncoder.koi.encode(l)) + [10], to: dir + "/" + json)
      names.append(json)
      if csv {
        let name = l.list + ".csv"
        let f = try AtomicFile(path: dir + "/" + name)
        try f.write([0xEF, 0xBB, 0xBF])
        try f.write(csvHeader(language).map(csvCell).joined(separator: ",") + "\n")
        for e in l.entries {
          let row = [e.customerID, e.why?.text(language) ?? e.reason, String(format: "%.2f", e.priority)]
          try f.write(row.map(csvCell).joined(separator: ",") + "\n")
        }
        try f.commit()
        names.append(name)
      }
    }
    return names
  }

  /// A CSV cell safe to open in a spreadsheet (`SpreadsheetCSV.cell`).
  static func csvCell(_ s: String) -> String { SpreadsheetCSV.cell(s) }
}
