import Crypto

#if canImport(Glibc)
  import Glibc
#endif

/// The text encodings Koi reads.
public enum InputEncoding: String, CaseIterable, Sendable, Codable {
  /// UTF-8, or GB18030 when the first block is mostly not UTF-8 (see
  /// `InputSniffer.guess`).
  case auto
  case utf8
  /// GB18030 (a superset of GBK and GB2312): Excel on Chinese Windows.
  case gb18030
}

/// What a file holds, from its first bytes (the name only confirms).
public enum InputFormat: String, Sendable, Codable {
  case csv
  /// gzip-compressed CSV (magic 1F 8B).
  case csvGzip = "csv.gz"
  /// An Office Open XML workbook: a zip archive (magic 50 4B 03 04).
  case xlsx
}

/// Reads a file (or standard input, `-`) sequentially in large blocks,
/// inflating gzip, and (for GB18030 input) transcoding to UTF-8 through
/// iconv. The SHA-256 of its bytes as they are on disk is computed as it
/// goes (standard input), or behind it by a `BackgroundDigest` when asked.
final class InputSource {
  let path: String
  private let fd: Int32
  /// Bytes in the file; 0 when unknown (a pipe).
  let size: Int64
  private(set) var bytesRead: Int64 = 0
  private var digest = SHA256()
  /// Set when the checksum is left to the background: `digest` is unused.
  private var background: BackgroundDigest?
  private var digestFinished = false
  private var converter: GB18030Converter?
  private var pending: [UInt8] = []  // undecoded tail of a GB18030 block
  /// The first bytes, read to tell the format, not yet handed out.
  private var lookahead: [UInt8] = []
  private var inflater: GzipInflater?
  private var rawEOF = false
  private(set) var format: InputFormat = .csv

  /// Reads every CR as LF (a file whose lines end in CR alone), before
  /// decoding; the checksum is of the bytes as they are in the file.
  var readsCarriageReturnsAsNewlines = false

  /// `checksumInBackground`: hash a named file on a low-priority thread
  /// (`BackgroundDigest`) instead of on the reading thread; standard input
  /// is always hashed as it is read.
  init(path: String, checksumInBackground: Bool = false) throws {
    self.path = path
    var st = stat()
    if path == "-" {
      fd = 0
      size = fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : 0
    } else {
      guard stat(path, &st) == 0 else { throw InputSource.openError(path: path, errno: errno) }
      guard (st.st_mode & S_IFMT) == S_IFREG else {
        let what =
          (st.st_mode & S_IFMT) == S_IFDIR
          ? "a directory, not a file; give the path of the CSV file in it." : "not a regular file."
        throw IngestError(.unreadable, what, at: SourceLocation(path: path))
      }
      let fd = open(path, O_RDONLY)
      guard fd >= 0 else { throw InputSource.openError(path: path, errno: errno) }
      self.fd = fd
      size = Int64(st.st_size)
      if checksumInBackground { background = BackgroundDigest(fd: fd, path: path) }
    }
    // The format, from the first bytes (kept for the first read).
    var head: [UInt8] = []
    while head.count < 8 {
      let more = try readRaw(8 - head.count)
      if more.isEmpty { break }
      head += more
    }
    lookahead = head
    format = try InputSource.format(of: head, path: path)
    if format == .csvGzip { inflater = try GzipInflater() }
  }

  deinit {
    if fd != 0 { close(fd) }
    if !digestFinished { background?.cancel() }
  }

  /// The format of a file starting with `head`; refuses what Koi cannot read
  /// (a legacy or password-protected workbook, a non-workbook named .xlsx).
  static func format(of head: [UInt8], path: String) throws -> InputFormat {
    let at = SourceLocation(path: path)
    let lower = path.lowercased()
    if head.isEmpty { return .csv }  // an empty file, whatever its name
    if head.starts(with: [0x1F, 0x8B]) { return .csvGzip }
    if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
      guard path != "-" else {
        throw IngestError(
          .unreadable,
          "standard input holds a workbook (zip archive); Koi reads a workbook from a file. Save it to a file and give its path.",
          at: at)
      }
      return .xlsx
    }
    if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
      throw IngestError(
        .corrupt,
        "this is an OLE compound file: a password-protected (encrypted) workbook or an old .xls. Open it in Excel, remove the password (File > Info > Protect Workbook) and save it as .xlsx or CSV UTF-8.",
        at: at)
    }
    if lower.hasSuffix(".xlsx") {
      throw IngestError(
        .corrupt,
        "named .xlsx but not an Excel workbook (it is not a zip archive). Save it from Excel as .xlsx, or rename it if it is a CSV file.",
        at: at)
    }
    if lower.hasSuffix(".gz") {
      throw IngestError(.corrupt, "named .gz but not gzip data. Compress it with gzip, or rename it.", at: at)
    }
    return .csv
  }

  /// Up to `count` bytes of the file as they are on disk (empty at the end),
  /// added to the checksum.
  private func readRaw(_ count: Int) throws -> [UInt8] {
    var raw: [UInt8] = []
    try readRaw(appendingTo: &raw, count)
    return raw
  }

  /// Appends up to `count` bytes of the file as they are on disk to `out`
  /// (none at the end), adding them to the checksum; returns how many. They
  /// are read straight into `out`'s free capacity, neither zeroed first nor
  /// copied after: a plain CSV's bytes were zeroed and copied three times.
  @discardableResult
  private func readRaw(appendingTo out: inout [UInt8], _ count: Int) throws -> Int {
    precondition(count > 0, "a read of no bytes would look like the end")
    if rawEOF { return 0 }
    let start = out.count
    var n = 0
    var code: Int32 = 0
    repeat {
      out.append(addingCapacity: count) { span in
        span.withUnsafeMutableBufferPointer { free, initialized in
          n = Glibc.read(fd, free.baseAddress, count)
          code = n < 0 ? errno : 0
          initialized = max(n, 0)
        }
      }
    } while n < 0 && code == EINTR
    guard n >= 0 else {
      throw IngestError(
        .unreadable, "read failed (\(String(cString: strerror(code)))).", at: SourceLocation(path: path))
    }
    if n == 0 { rawEOF = true }
    bytesRead += Int64(n)
    if let background {
      background.advance(to: bytesRead)
    } else {
      out.withUnsafeBytes { digest.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }
    return n
  }

  /// What a failed `stat` or `open` of the input means, in words.
  static func openError(path: String, errno code: Int32) -> IngestError {
    let at = SourceLocation(path: path)
    switch code {
    case ENOENT:
      var link = [CChar](repeating: 0, count: 4097)
      let n = readlink(path, &link, 4096)
      if n >= 0 {
        let target = String(decoding: link[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return IngestError(
          .fileNotFound,
          "a symbolic link to '\(UserText.excerpt(target, limit: UserText.pathLimit))', which does not exist. Point the link at the file, or give the file's own path.",
          at: at)
      }
      return IngestError(
        .fileNotFound, "no such file. Check the path, or run `koi generate --out DIR` to make a sample.", at: at)
    case ELOOP:
      return IngestError(
        .unreadable,
        "a symbolic link loop (ELOOP): following its symbolic links leads back to a link already passed (or through more than 40). Point the link at the file itself.",
        at: at)
    case ENOTDIR:
      return IngestError(
        .fileNotFound, "no such file: a part of the path is a file, not a directory (ENOTDIR).", at: at)
    case EACCES:
      return IngestError(
        .unreadable, "permission denied (EACCES): this user may not read the file or search a directory on its path.",
        at: at)
    case ENAMETOOLONG:
      return IngestError(.unreadable, "the path is too long (ENAMETOOLONG).", at: at)
    default:
      return IngestError(.unreadable, "cannot open for reading (\(String(cString: strerror(code)))).", at: at)
    }
  }

  /// Switches to transcoding GB18030 to UTF-8 for everything read from now on
  /// (and for `block`, returned converted). `fileOffset` is where `block`
  /// starts in the file (after a byte-order mark).
  /// `detected`: GB18030 was guessed, not named; decoding errors then say
  /// the file is neither encoding, wherever the bad bytes sit.
  func startTranscoding(_ block: [UInt8], fileOffset: Int, detected: Bool) throws -> [UInt8] {
    converter = try GB18030Converter()
    decodedOffset = Int64(fileOffset)
    encodingDetected = detected
    do {
      return try transcode(block, final: false)
    } catch let error as GB18030DecodeError {
      throw error.ingestError(path: path, detected: detected)
    }
  }

  private var encodingDetected = false

  /// Appends up to about `count` more UTF-8 bytes to `out`. Returns false at
  /// the end of the file.
  func read(into out: inout [UInt8], upTo count: Int) throws -> Bool {
    var raw: [UInt8]
    var atEnd: Bool
    if let inflater {
      // Compressed text inflates several times over: read less of it.
      raw = []
      repeat {
        var compressed = lookahead
        lookahead = []
        compressed += try readRaw(max(1 << 16, count / 8))
        atEnd = compressed.isEmpty
        if atEnd {
          do { try inflater.finish() } catch let e as GzipError { throw e.ingestError(path: path) }
        } else {
          do { try inflater.inflate(compressed, into: &raw) } catch let e as GzipError {
            throw e.ingestError(path: path)
          }
        }
      } while raw.isEmpty && !atEnd
    } else if !readsCarriageReturnsAsNewlines && converter == nil {
      // The bytes need no change: read them into `out` itself.
      let start = out.count
      out += lookahead
      lookahead = []
      if out.count - start < count { try readRaw(appendingTo: &out, count - (out.count - start)) }
      return out.count > start
    } else {
      raw = lookahead
      lookahead = []
      if raw.count < count { try readRaw(appendingTo: &raw, count - raw.count) }
      atEnd = raw.isEmpty
    }
    if readsCarriageReturnsAsNewlines {
      raw.withUnsafeMutableBufferPointer { p in
        for i in p.indices where p[i] == 13 { p[i] = 10 }
      }
    }
    if converter != nil {
      do {
        out.append(contentsOf: try transcode(raw, final: atEnd))
      } catch let error as GB18030DecodeError {
        throw error.ingestError(path: path, detected: encodingDetected)
      }
    } else {
      out.append(contentsOf: raw)
    }
    return !atEnd
  }

  /// File offset of `pending[0]`, and the newlines decoded before it.
  private var decodedOffset: Int64 = 0
  private var decodedNewlines = 0

  private func transcode(_ raw: [UInt8], final: Bool) throws -> [UInt8] {
    guard let converter else { return raw }
    var input = pending
    input.append(contentsOf: raw)
    let (utf8, consumed, failedAt) = converter.convert(input)
    // LF is never part of a GB18030 character, so newlines in the raw bytes
    // are the file's lines.
    func newlines(_ upTo: Int) -> Int { input[..<upTo].reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
    if let failedAt {
      throw GB18030DecodeError(
        offset: decodedOffset + Int64(failedAt), line: decodedNewlines + newlines(failedAt) + 1,
        bytes: Array(input[failedAt..<min(input.count, failedAt + 4)]), cutOff: false)
    }
    decodedNewlines += newlines(consumed)
    decodedOffset += Int64(consumed)
    pending = Array(input[consumed...])
    if final && !pending.isEmpty {
      throw GB18030DecodeError(
        offset: decodedOffset, line: decodedNewlines + 1, bytes: Array(pending.prefix(4)), cutOff: true)
    }
    return utf8
  }

  /// The checksum of the whole file, which is read through its zip
  /// directory instead (a workbook): the rest of it is read for the
  /// checksum only.
  func digestOfWholeFile() throws -> InputChecksum {
    lookahead = []
    if let background {
      background.advance(to: size)
    } else {
      while !(try readRaw(1 << 20)).isEmpty {}
    }
    return finishDigest()
  }

  /// The SHA-256 of every byte read so far (still being computed when in
  /// the background). Call once, at the end.
  func finishDigest() -> InputChecksum {
    digestFinished = true
    if let background {
      background.finish()
      return InputChecksum(pending: background)
    }
    return InputChecksum(SHA256Hex.hex(Array(digest.finalize())))
  }
}

/// SHA-256 as lower-case hex.
enum SHA256Hex {
  static func of(_ bytes: [UInt8]) -> String { hex(Array(SHA256.hash(data: bytes))) }

  static func hex(_ md: [UInt8]) -> String {
    md.map { b in
      let h = "0123456789abcdef".utf8
      return String(
        decoding: [h[h.index(h.startIndex, offsetBy: Int(b >> 4))], h[h.index(h.startIndex, offsetBy: Int(b & 15))]],
        as: UTF8.self)
    }.joined()
  }
}

/// GB18030 ↔ UTF-8 through glibc's iconv (decoding by default).
final class GB18030Converter {
  private let cd: iconv_t

  init(encoding: Bool = false) throws {
    let cd = encoding ? iconv_open("GB18030", "UTF-8") : iconv_open("UTF-8", "GB18030")
    guard let cd, cd != iconv_t(bitPattern: -1) else {
      throw IngestError(.encoding, "this system's iconv cannot convert GB18030.", at: SourceLocation(path: "-"))
    }
    self.cd = cd
  }

  deinit { iconv_close(cd) }

  /// Converts as much of `input` as forms complete characters. Returns the
  /// output bytes, how many input bytes were consumed, and the offset of an
  /// invalid sequence if one was met.
  func convert(_ input: [UInt8]) -> (utf8: [UInt8], consumed: Int, invalidAt: Int?) {
    var output = [UInt8](repeating: 0, count: input.count * 2 + 16)  // both directions grow ≤ 2×
    var inLeft = input.count
    var outLeft = output.count
    var invalid: Int? = nil
    var mutableInput = input
    mutableInput.withUnsafeMutableBytes { inBuf in
      output.withUnsafeMutableBytes { outBuf in
        var inPtr = inBuf.baseAddress?.assumingMemoryBound(to: CChar.self)
        var outPtr = outBuf.baseAddress?.assumingMemoryBound(to: CChar.self)
        let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
        if r == -1 && errno == EILSEQ { invalid = input.count - inLeft }
      }
    }
    output.removeLast(outLeft)
    return (output, input.count - inLeft, invalid)
  }
}

/// Bytes that GB18030 decoding could not read, at a file offset.
struct GB18030DecodeError: Error {
  /// 0-based byte offset in the file.
  var offset: Int64
  /// 1-based physical line.
  var line: Int
  /// Up to four bytes from the offset.
  var bytes: [UInt8]
  /// The file ends inside a character.
  var cutOff: Bool

  /// What is wrong, as a clause: where, and which bytes.
  var what: String {
    let hex = bytes.map { b -> String in
      let h = String(b, radix: 16, uppercase: true)
      return h.count < 2 ? "0" + h : h
    }.joined(separator: " ")
    return cutOff
      ? "the file ends in the middle of a GB18030 character (bytes \(hex) at byte offset \(offset), line \(line))"
      : "the bytes \(hex) at byte offset \(offset) (line \(line)) are not GB18030"
  }

  /// One sentence per situation, wherever in the file the bytes sit:
  /// `detected` (GB18030 was guessed) or named with `--encoding gb18030`.
  func ingestError(path: String, detected: Bool) -> IngestError {
    let location = SourceLocation(path: path, line: line)
    if detected {
      return IngestError(
        .encoding,
        "the file is neither UTF-8 nor GB18030: \(what). Convert it to UTF-8 (for example `iconv -f GBK -t UTF-8 \(UserText.excerpt(path, limit: UserText.pathLimit)) > utf8.csv`) or name the encoding with {{encoding gb18030}}.",
        at: location)
    }
    return IngestError(
      .encoding,
      "\(what). If the file is UTF-8, set {{encoding utf8}}; otherwise convert it to UTF-8 first (for example with iconv).",
      at: location)
  }
}
