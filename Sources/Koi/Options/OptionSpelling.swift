/// Library messages that tell the user to set an input option write it as
/// a token, `{{encoding gb18030}}`, and the front end spells it: `--encoding
/// gb18030` for `koi score`, `encoding = "gb18030" in [input]` for `koi run`.
/// The library itself never names a flag.
enum OptionSpelling {
  /// The tokenised options: command-line flag, koi.toml key and whether the
  /// value is a string (quoted in TOML).
  static let inputOptions: [String: (flag: String, key: String, quoted: Bool)] = [
    "encoding": ("--encoding", "encoding", true),
    "sheet": ("--sheet", "sheet", true),
    "header-row": ("--header-row", "header_row", false),
    "duplicates": ("--duplicates", "duplicates", true),
    "strict": ("--strict", "strict", false),
    "column": ("--column", "columns", true),
  ]

  /// `text` with every `{{option value}}` token spelled for `frontend`.
  public static func render(_ text: String, for frontend: Frontend) -> String {
    var out = ""
    var rest = Substring(text)
    while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
      out += rest[..<open.lowerBound]
      let token = rest[open.upperBound..<close.lowerBound]
      let parts = token.split(separator: " ", maxSplits: 1).map(String.init)
      let value = parts.count > 1 ? parts[1] : ""
      if let o = inputOptions[parts[0]] {
        switch frontend {
        case .commandLine:
          out += value.isEmpty ? o.flag : "\(o.flag) \(value)"
        case .configuration:
          if parts[0] == "strict" {
            out += "strict = true in [input]"
          } else if parts[0] == "column" {
            let kv = value.split(separator: "=", maxSplits: 1).map(String.init)
            out += "\(kv[0]) = \"\(kv.count > 1 ? kv[1] : "")\" in [input.columns]"
          } else {
            out += "\(o.key) = \(o.quoted ? "\"\(value)\"" : value) in [input]"
          }
        }
      } else {
        out += "{{\(token)}}"
      }
      rest = rest[close.upperBound...]
    }
    return out + rest
  }
}
