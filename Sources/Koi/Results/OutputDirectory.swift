import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The directory results go to.
enum OutputDirectory {
  /// Makes `path` a directory, creating it and its parents if missing.
  /// Names the component that is in the way: `x.csv/out` with `x.csv` a
  /// regular file fails with "x.csv is a file, not a directory".
  static func prepare(_ path: String) throws {
    func failure(_ message: String) -> OutputError {
      OutputError(path: path, message: "cannot be used as the output directory: \(message)")
    }
    guard !path.isEmpty else { throw failure("the path is empty") }
    // Each prefix of the path in turn: "a", "a/b", "a/b/c" (or "/a", …).
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
      var st = stat()
      if stat(prefix, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
          throw failure("\(prefix) is a file, not a directory; choose another output directory")
        }
        continue
      }
      let statError = errno
      guard statError == ENOENT else {
        throw failure("cannot look at \(prefix) (\(String(cString: strerror(statError))))")
      }
      if mkdir(prefix, 0o755) != 0 {
        let e = errno
        // Made meanwhile by another process: fine if it is a directory.
        if e == EEXIST, stat(prefix, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { continue }
        throw failure("cannot create \(prefix) (\(String(cString: strerror(e))))")
      }
    }
  }
}
