#if canImport(Glibc)
  import Glibc
#endif

/// The one file each input is written to before it is read: the reader takes
/// a path, like `koi score`. It lives in /dev/shm (memory) when there is one,
/// and is named after the process so parallel fuzzing jobs (`-jobs=N`) do not
/// share it.
enum ScratchFile {
  static let path: String = {
    var st = stat()
    let dir =
      stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0
      ? "/dev/shm" : (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
    let path = "\(dir)/koi-ingest-fuzz-\(getpid()).csv"
    atexit { ScratchFile.remove() }
    return path
  }()

  static func remove() { unlink(path) }

  /// Replaces the file's contents with `bytes`.
  static func write(_ bytes: UnsafeBufferPointer<UInt8>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot create \(path): \(String(cString: strerror(errno)))")
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
      let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)  // count > 0, so a base address exists
      precondition(n > 0, "cannot write \(path): \(String(cString: strerror(errno)))")
      done += n
    }
  }
}
