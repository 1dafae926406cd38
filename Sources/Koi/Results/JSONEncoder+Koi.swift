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

extension JSONDecoder {
  /// Reads what `JSONEncoder.koi` wrote (model.json, run.json).
  public static var koi: JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }
}
