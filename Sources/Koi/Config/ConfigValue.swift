import Foundation
import TOMLKit

/// A configuration value, independent of the file format it was read from,
/// so the checks in `RunConfig` do not depend on the TOML library.
indirect enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
  case string(String)
  case int(Int)
  case double(Double)
  case bool(Bool)
  /// A TOML local date, `YYYY-MM-DD`.
  case date(String)
  case array([ConfigValue])
  case table([String: ConfigValue])

  /// The value as a user wrote it, for error messages: strings quoted.
  public var description: String {
    switch self {
    case let .string(s): return "\"\(s)\""
    case let .int(i): return String(i)
    case let .double(d): return String(d)
    case let .bool(b): return String(b)
    case let .date(d): return d
    case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
    case .table: return "a table"
    }
  }

  /// Parses TOML text into a table of values.
  ///
  /// - Throws: `ConfigError` naming the line and column of a syntax error.
  static func parseTOML(_ text: String, file: String) throws -> [String: ConfigValue] {
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let e as TOMLParseError {
      throw ConfigError(
        file: file, key: "line \(e.source.begin.line), column \(e.source.begin.column)",
        message: "not valid TOML: \(e.description)")
    }
    return convert(table)
  }

  static func convert(_ table: TOMLTable) -> [String: ConfigValue] {
    var out: [String: ConfigValue] = [:]
    for (k, v) in table { out[k] = convert(v) }
    return out
  }

  static func convert(_ v: TOMLValueConvertible) -> ConfigValue {
    switch v.type {
    case .table: return .table(v.table.map(convert) ?? [:])
    case .array: return .array((v.array.map { Array($0) } ?? []).map(convert))
    case .string: return .string(v.string ?? "")
    case .int: return .int(v.int ?? 0)
    case .double: return .double(v.double ?? 0)
    case .bool: return .bool(v.bool ?? false)
    case .date:
      let d = v.date
      return .date(String(format: "%04d-%02d-%02d", d?.year ?? 0, d?.month ?? 0, d?.day ?? 0))
    case .time, .dateTime: return .string(v.tomlValue.debugDescription)
    }
  }
}
