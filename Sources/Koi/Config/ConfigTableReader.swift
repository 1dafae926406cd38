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
    guard case let .array(a) = v else {
      throw error(key, "expected an array of tables ([[\(keyPath(key))]]), got \(v)")
    }
    return try a.enumerated().map { i, e in
      guard case let .table(t) = e else {
        throw error(key, "expected an array of tables ([[\(keyPath(key))]]), got \(e)")
      }
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
