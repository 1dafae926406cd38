import Foundation

extension JSONEncoder {
  /// The encoder for Koi's JSON documents: sorted keys, two-space indent,
  /// no escaped slashes, so equal values give equal bytes.
  public static var koi: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return e
  }

  /// Sorted keys, one line: for JSON stored in database columns.
  static var koiCompact: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
  }
}
