/// Where in an input file something was found.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
  public var path: String
  /// 1-based physical line where the record starts; 0 for the whole file.
  public var line: Int
  /// Canonical column name, when one field is at fault.
  public var field: String?
  /// The sheet of a workbook (`line` is then its row number).
  public var sheet: String?

  public init(path: String, line: Int = 0, field: String? = nil, sheet: String? = nil) {
    self.path = path
    self.line = line
    self.field = field
    self.sheet = sheet
  }

  /// `FILE:LINE (field)`, or `FILE[SHEET]:ROW (field)` in a workbook.
  public var description: String {
    var s = UserText.excerpt(path, limit: UserText.pathLimit)
    if let sheet { s += "[\(UserText.excerpt(sheet))]" }
    if line > 0 { s += ":\(line)" }
    if let field { s += " (\(field))" }
    return s
  }
}

/// A problem with the input that stops a run: a missing file, an unusable
/// header, an undecodable encoding, a bad row under `--strict`, an
/// unreadable model file.
///
/// The message is a sentence a user can act on; `code` says which kind it is
/// and maps to the command's exit status.
public struct IngestError: Error, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    enum Kind: String, Sendable {
      case fileNotFound = "file_not_found"
      case unreadable
      case empty
      case badHeader = "bad_header"
      case encoding
      case badRow = "bad_row"
      case noUsableRows = "no_usable_rows"
      case badModel = "bad_model"
      case corrupt
      case noSuchSheet = "no_such_sheet"
      case namedTwice = "named_twice"
      case mismatchedColumns = "mismatched_columns"
    }
    let kind: Kind
    public var description: String { kind.rawValue }

    public static let fileNotFound = Code(kind: .fileNotFound)
    public static let unreadable = Code(kind: .unreadable)
    public static let empty = Code(kind: .empty)
    static let badHeader = Code(kind: .badHeader)
    public static let encoding = Code(kind: .encoding)
    /// A bad row while `--strict` is on.
    static let badRow = Code(kind: .badRow)
    static let noUsableRows = Code(kind: .noUsableRows)
    /// A model file (`--init-model`) that cannot be read or decoded.
    static let badModel = Code(kind: .badModel)
    /// A damaged or truncated .csv.gz or .xlsx, a file that is not a
    /// workbook, a password-protected workbook.
    static let corrupt = Code(kind: .corrupt)
    /// `--sheet` names a sheet the workbook does not have.
    static let noSuchSheet = Code(kind: .noSuchSheet)
    /// The same file named twice among the inputs.
    static let namedTwice = Code(kind: .namedTwice)
    /// A file whose header maps other canonical columns than the first file's.
    static let mismatchedColumns = Code(kind: .mismatchedColumns)
  }

  public let code: Code
  public let message: String
  public let location: SourceLocation

  public init(_ code: Code, _ message: String, at location: SourceLocation) {
    self.code = code
    self.message = message
    self.location = location
  }

  /// How the message spells the options it names (`OptionSpelling`):
  /// `koi run` sets `.configuration` on the errors it passes on.
  var frontend = Frontend.commandLine

  /// The message with its options spelled for `frontend`.
  public var text: String { OptionSpelling.render(message, for: frontend) }

  public var description: String { "\(location): \(text)" }
}
