#if canImport(Glibc)
  import Glibc
#endif

/// The inputs of a run as the user named them, expanded into files in the
/// order they are read.
///
/// Each name is, in the order given:
///
/// ```
/// -                 standard input (at most once; CSV or CSV.gz, not a workbook)
/// a file            itself
/// a directory       its regular files named *.csv, *.csv.gz or *.xlsx (any case),
///                   sorted by name (byte order); hidden files and Excel's
///                   lock files (~$…) left out; subdirectories not entered
/// a glob (* ? [ )   expanded by Koi (glob(3)), so it works quoted; its regular
///                   files sorted by path (byte order)
/// ```
///
/// A name that exists as a file is a file even when it holds `*`, `?` or `[`.
/// The same file named twice (by two globs, or a glob and a path) stops the
/// run: reading it twice would count its revenue twice.
public struct InputList: Sendable, Equatable {
  /// The names as given.
  public var names: [String]
  /// The files to read, in read order (`-` for standard input).
  public var files: [String]
  /// True when the names could stand for several files: more than one name,
  /// a directory or a glob. rejects.csv then has `file` and `sheet` columns
  /// (also for a workbook; see `TransactionReader`).
  var couldBeSeveral: Bool

  /// One file or `-`, read as named (no expansion).
  public init(single path: String) {
    names = [path]
    files = [path]
    couldBeSeveral = false
  }

  /// Expands `names` (see the type's documentation).
  ///
  /// - Throws: `IngestError` with code `fileNotFound` for a glob that
  ///   matches nothing or a directory without inputs, `namedTwice` for the
  ///   same file named twice or `-` named twice.
  public static func expand(_ names: [String]) throws -> InputList {
    precondition(!names.isEmpty, "at least one input")
    var files: [String] = []
    var several = names.count > 1
    for name in names {
      if name == "-" {
        files.append(name)
        continue
      }
      var st = stat()
      let exists = stat(name, &st) == 0
      if exists && (st.st_mode & S_IFMT) == S_IFDIR {
        several = true
        let found = try directoryInputs(name)
        guard !found.isEmpty else {
          throw IngestError(
            .fileNotFound,
            "the directory has no .csv, .csv.gz or .xlsx files. Put the exports in it, or name the files (a glob such as 'exports/*.csv' works too).",
            at: SourceLocation(path: name))
        }
        files += found
      } else if !exists && isGlob(name) {
        several = true
        let found = try globInputs(name)
        guard !found.isEmpty else {
          throw IngestError(
            .fileNotFound,
            "no file matches this pattern. Check the folder and the pattern; Koi expands it itself, so quote it ('exports/2025-*.csv').",
            at: SourceLocation(path: name))
        }
        files += found
      } else {
        files.append(name)  // missing or unreadable files are reported when read
      }
    }
    try checkNamedOnce(files)
    return InputList(names: names, files: files, couldBeSeveral: several)
  }

  init(names: [String], files: [String], couldBeSeveral: Bool) {
    self.names = names
    self.files = files
    self.couldBeSeveral = couldBeSeveral
  }

  static func isGlob(_ name: String) -> Bool {
    name.contains("*") || name.contains("?") || name.contains("[")
  }

  /// Whether a directory entry's name is an input: *.csv, *.csv.gz, *.xlsx.
  static func isInputName(_ name: String) -> Bool {
    guard !name.hasPrefix("."), !name.hasPrefix("~$") else { return false }
    let lower = name.lowercased()
    return lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") || lower.hasSuffix(".xlsx")
  }

  static func isRegularFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
  }

  static func directoryInputs(_ directory: String) throws -> [String] {
    guard let d = opendir(directory) else {
      throw InputSource.openError(path: directory, errno: errno)
    }
    defer { closedir(d) }
    var names: [[UInt8]] = []
    while let entry = readdir(d) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
        Array(raw.prefix { $0 != 0 })
      }
      names.append(name)
    }
    let prefix = directory.hasSuffix("/") ? directory : directory + "/"
    return names.sorted { $0.lexicographicallyPrecedes($1) }
      .map { String(decoding: $0, as: UTF8.self) }
      .filter(isInputName)
      .map { prefix + $0 }
      .filter(isRegularFile)
  }

  static func globInputs(_ pattern: String) throws -> [String] {
    var g = glob_t()
    defer { globfree(&g) }
    let r = glob(pattern, 0, nil, &g)
    if r == GLOB_NOMATCH { return [] }
    guard r == 0 else {
      throw IngestError(
        .unreadable, "the pattern could not be expanded (glob error \(r)); check that its folders can be read.",
        at: SourceLocation(path: pattern))
    }
    var paths: [String] = []
    for i in 0..<Int(g.gl_pathc) {
      if let p = g.gl_pathv[i] { paths.append(String(cString: p)) }
    }
    return paths.filter(isRegularFile).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
  }

  /// The same file (device and inode) named twice, or `-` twice.
  static func checkNamedOnce(_ files: [String]) throws {
    var seen: [String: String] = [:]
    for f in files {
      let key: String
      if f == "-" {
        key = "-"
      } else {
        var st = stat()
        guard stat(f, &st) == 0 else { continue }
        key = "\(st.st_dev):\(st.st_ino)"
      }
      if let first = seen[key] {
        let what =
          f == "-"
          ? "standard input ('-') is named twice"
          : "this file is named twice (also as '\(UserText.excerpt(first, limit: UserText.pathLimit))'): its rows would be counted twice"
        throw IngestError(.namedTwice, "\(what). Name each file once.", at: SourceLocation(path: f))
      }
      seen[key] = f
    }
  }
}
