import Foundation
import TOMLKit

/// A configuration value, independent of the file format it was read from,
/// so the checks in `RunConfig` do not depend on the TOML library.
public indirect enum ConfigValue: Sendable, Equatable, CustomStringConvertible {
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
  public static func parseTOML(_ text: String, file: String) throws -> [String: ConfigValue] {
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let e as TOMLParseError {
      throw ConfigError(file: file, key: "line \(e.source.begin.line), column \(e.source.begin.column)",
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

/// A configuration file that cannot be used: which file, which key (dotted
/// path), and the expected form. Maps to exit code 2.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
  public let file: String
  public let key: String
  public let message: String

  public init(file: String, key: String, message: String) {
    self.file = file
    self.key = key
    self.message = message
  }

  /// `koi.toml: exports.contact_cap: expected a whole number ≥ 1, got "three"`
  public var description: String { "\(file): \(key): \(message)" }
}

/// Reads one table of a configuration strictly: every key must be taken by
/// the caller, and `finish()` reports the first one that was not (a typo
/// must not pass silently).
final class ConfigTableReader {
  let file: String
  let path: String
  let values: [String: ConfigValue]
  private var taken: Set<String> = []

  init(file: String, path: String, values: [String: ConfigValue]) {
    self.file = file
    self.path = path
    self.values = values
  }

  func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

  func error(_ key: String, _ message: String) -> ConfigError {
    ConfigError(file: file, key: keyPath(key), message: message)
  }

  func take(_ key: String) -> ConfigValue? {
    taken.insert(key)
    return values[key]
  }

  func string(_ key: String, expected: String = "a string in quotes") throws -> String? {
    guard let v = take(key) else { return nil }
    guard case let .string(s) = v else { throw error(key, "expected \(expected), got \(v)") }
    return s
  }

  /// The value of `setting` (its last key component is `key`), checked
  /// with the setting's own sentence.
  func int(_ key: String, _ setting: Setting<Int>) throws -> Int? {
    guard let v = take(key) else { return nil }
    guard case let .int(i) = v else { throw error(key, "expected \(setting.expected), got \(v)") }
    if let problem = setting.problem(i) { throw error(key, problem) }
    return i
  }

  func double(_ key: String, _ setting: Setting<Double>) throws -> Double? {
    guard let v = take(key) else { return nil }
    let d: Double
    switch v {
    case let .int(i): d = Double(i)
    case let .double(x): d = x
    default: throw error(key, "expected \(setting.expected), got \(v)")
    }
    if setting.problem(d) != nil { throw error(key, "expected \(setting.expected), got \(v)") }
    return d
  }

  func bool(_ key: String) throws -> Bool? {
    guard let v = take(key) else { return nil }
    guard case let .bool(b) = v else { throw error(key, "expected true or false, got \(v)") }
    return b
  }

  func stringArray(_ key: String, expected: String) throws -> [String]? {
    guard let v = take(key) else { return nil }
    if case let .string(s) = v { return [s] }
    guard case let .array(a) = v else { throw error(key, "expected \(expected), got \(v)") }
    return try a.map {
      guard case let .string(s) = $0 else { throw error(key, "expected \(expected), got \($0)") }
      return s
    }
  }

  func table(_ key: String) throws -> ConfigTableReader? {
    guard let v = take(key) else { return nil }
    guard case let .table(t) = v else { throw error(key, "expected a table ([\(keyPath(key))]), got \(v)") }
    return ConfigTableReader(file: file, path: keyPath(key), values: t)
  }

  func tableArray(_ key: String) throws -> [ConfigTableReader]? {
    guard let v = take(key) else { return nil }
    guard case let .array(a) = v else { throw error(key, "expected an array of tables ([[\(keyPath(key))]]), got \(v)") }
    return try a.enumerated().map { i, e in
      guard case let .table(t) = e else { throw error(key, "expected an array of tables ([[\(keyPath(key))]]), got \(e)") }
      return ConfigTableReader(file: file, path: "\(keyPath(key))[\(i)]", values: t)
    }
  }

  /// Throws for the first key (in sorted order) nobody took.
  func finish() throws {
    for k in values.keys.sorted() where !taken.contains(k) {
      let known = taken.sorted().joined(separator: ", ")
      throw error(k, "unknown key; the keys allowed here are \(known)")
    }
  }
}
