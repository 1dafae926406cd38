/// An error writing results: the path and what the system said.
public struct OutputError: Error, Sendable, CustomStringConvertible {
  public let path: String
  public let message: String
  public var description: String { "\(path): \(message)" }
}
