import Foundation

extension JSONEncoder {
  /// The encoder for Koi's JSON documents: snake_case keys from the
  /// property names (a type spells out only keys that differ), sorted keys,
  /// two-space indent, no escaped slashes, so equal values give equal bytes.
  /// String-keyed dictionaries keep their keys (treatment and tag names).
  public static var koi: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.keyEncodingStrategy = .convertToSnakeCase
    return e
  }

  /// Sorted keys, one line: for JSON stored in database columns.
  static var koiCompact: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.keyEncodingStrategy = .convertToSnakeCase
    return e
  }

  /// The text the encoder writes for the finite double `v`: its shortest
  /// round-trip `description` without a trailing ".0" (for writers that
  /// must give the encoder's bytes without it; their tests compare).
  static func numberText(_ v: Double) -> String {
    let d = v.description
    return d.hasSuffix(".0") ? String(d.dropLast(2)) : d
  }
}

/// One object of compact JSON in the form `JSONEncoder.koiCompact` writes,
/// for documents written directly because the encoder is slow on long
/// arrays: fields are appended in the order given (the caller gives the
/// keys sorted), each double as `JSONEncoder.numberText`.
struct CompactJSONObject {
  private var text = "{"

  init(capacity: Int) { text.reserveCapacity(capacity) }

  /// `"key":value,` with `value` already JSON.
  mutating func field(_ key: String, _ value: String) { text += "\"\(key)\":\(value)," }

  /// `"key":[v0,v1,…],`, each value written by `form`.
  mutating func list<T>(_ key: String, _ values: [T], _ form: (T) -> String) {
    text += "\"\(key)\":["
    for (i, v) in values.enumerated() {
      if i > 0 { text += "," }
      text += form(v)
    }
    text += "],"
  }

  /// The object's text, closed: the last field's comma becomes `}`.
  mutating func close() -> String {
    if text.utf8.last == UInt8(ascii: ",") { text.removeLast() }
    text += "}"
    return text
  }
}

extension JSONDecoder {
  /// Reads what `JSONEncoder.koi` wrote (model.json, run.json).
  public static var koi: JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }
}
