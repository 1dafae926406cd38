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
