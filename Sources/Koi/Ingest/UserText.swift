/// Text that came from the user (a file name, a header cell, a field value, an
/// item name, an option value) quoted inside a message.
///
/// A message is one line a person reads, so echoed text is shown on one line
/// and cut short: control characters (newlines, tabs, escape sequences) and
/// the invisible bidirectional overrides are written as escapes
/// (`\n`, `\t`, `\u{1B}`), and text over the limit ends in `…` with its full
/// length. A 1 MB item name with newlines in it then costs about a hundred
/// bytes of stderr, not a megabyte, and cannot forge extra lines.
///
/// - Complexity: O(n) in the text's length.
public enum UserText {
  /// Characters of user text a message quotes.
  public static let excerptLimit = 80
  /// Characters of a file path a message quotes (paths are legitimately long).
  static let pathLimit = 300
  /// Characters of a whole message line, as the command line prints it.
  public static let lineLimit = 1000

  /// `text` escaped onto one line and cut to about `limit` characters.
  ///
  /// ```
  /// excerpt("a\nb")                  == #"a\nb"#
  /// excerpt(String(repeating: "x", count: 1000), limit: 3) == "xxx… (1000 characters)"
  /// ```
  public static func excerpt(_ text: String, limit: Int = excerptLimit) -> String {
    var out = ""
    var shown = 0
    var total = 0
    var cut = false
    for c in text.unicodeScalars {
      total += 1
      if cut { continue }
      let piece = escaped(c)
      if shown + piece.count > limit {
        cut = true
        continue
      }
      out += piece
      shown += piece.count
    }
    return cut ? out + "… (\(total) characters)" : out
  }

  /// A whole message line made safe to print: control characters escaped;
  /// when it is still longer than `limit`, every single-quoted span over
  /// `excerptLimit` characters is excerpted, and what is left is cut at
  /// `limit` characters.
  ///
  /// This is the command line's last line of defence for messages that
  /// quote user text without `excerpt`; a message of normal length is
  /// printed as it is.
  public static func boundedLine(_ line: String, limit: Int = lineLimit) -> String {
    let scalars = line.unicodeScalars
    if !scalars.contains(where: needsEscape) && scalars.count <= limit { return line }
    var escapedLine: [Unicode.Scalar] = []
    escapedLine.reserveCapacity(scalars.count)
    for c in scalars {
      if needsEscape(c) { escapedLine += escaped(c).unicodeScalars } else { escapedLine.append(c) }
    }
    if escapedLine.count <= limit { return string(escapedLine[...]) }
    // Shorten long quoted spans, then cut.
    var out: [Unicode.Scalar] = []
    var i = 0
    while i < escapedLine.count {
      let c = escapedLine[i]
      out.append(c)
      i += 1
      guard c == "'", let close = escapedLine[i...].firstIndex(of: "'") else { continue }
      let span = escapedLine[i..<close]
      if span.count > excerptLimit {
        out += span.prefix(excerptLimit)
        out += "… (\(span.count) characters)".unicodeScalars
      } else {
        out += span
      }
      out.append("'")
      i = close + 1
    }
    if out.count <= limit { return string(out[...]) }
    return string(out.prefix(limit)) + "… (message cut at \(limit) of \(out.count) characters)"
  }

  private static func string(_ s: ArraySlice<Unicode.Scalar>) -> String {
    var v = String.UnicodeScalarView()
    v.append(contentsOf: s)
    return String(v)
  }

  private static func needsEscape(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0..<0x20, 0x7F...0x9F: return true
    case 0x2028, 0x2029: return true  // line and paragraph separators
    case 0x202A...0x202E, 0x2066...0x2069: return true  // bidirectional overrides
    default: return false
    }
  }

  private static func escaped(_ c: Unicode.Scalar) -> String {
    guard needsEscape(c) else { return String(Character(c)) }
    switch c {
    case "\n": return "\\n"
    case "\r": return "\\r"
    case "\t": return "\\t"
    default: return "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
    }
  }
}
