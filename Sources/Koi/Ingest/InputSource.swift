import CLibCrypto
#if canImport(Glibc)
import Glibc
#endif

/// The text encodings Koi reads.
public enum InputEncoding: String, CaseIterable, Sendable, Codable {
  /// UTF-8 unless the first block is not UTF-8 and is valid GB18030.
  case auto
  case utf8
  /// GB18030 (a superset of GBK and GB2312): Excel on Chinese Windows.
  case gb18030
}

/// Reads a file sequentially in large blocks, computing its SHA-256 as it
/// goes, and (for GB18030 input) transcoding to UTF-8 through iconv.
final class InputSource {
  let path: String
  private let fd: Int32
  let size: Int64
  private(set) var bytesRead: Int64 = 0
  private let digest: OpaquePointer
  private var converter: GB18030Converter?
  private var pending: [UInt8] = []  // undecoded tail of a GB18030 block

  init(path: String) throws {
    self.path = path
    var st = stat()
    guard stat(path, &st) == 0 else {
      throw IngestError(.fileNotFound, "no such file. Check the path, or run `koi generate --out DIR` to make a sample.", at: SourceLocation(path: path))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw IngestError(.unreadable, "not a regular file.", at: SourceLocation(path: path))
    }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw IngestError(.unreadable, "cannot open for reading (\(String(cString: strerror(errno)))).", at: SourceLocation(path: path))
    }
    self.fd = fd
    size = Int64(st.st_size)
    guard let ctx = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new failed: out of memory") }
    EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    digest = ctx
  }

  deinit {
    close(fd)
    EVP_MD_CTX_free(digest)
  }

  /// Switches to transcoding GB18030 to UTF-8 for everything read from now on
  /// (and for `block`, returned converted).
  func startTranscoding(_ block: [UInt8]) throws -> [UInt8] {
    converter = try GB18030Converter()
    return try transcode(block, final: false)
  }

  /// Appends up to `count` more UTF-8 bytes to `out`. Returns false at the end
  /// of the file.
  func read(into out: inout [UInt8], upTo count: Int) throws -> Bool {
    var raw = [UInt8](repeating: 0, count: count)
    let n = raw.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
    guard n >= 0 else {
      throw IngestError(.unreadable, "read failed (\(String(cString: strerror(errno)))).", at: SourceLocation(path: path))
    }
    raw.removeLast(count - n)
    raw.withUnsafeBytes { _ = EVP_DigestUpdate(digest, $0.baseAddress, n) }
    bytesRead += Int64(n)
    if converter != nil {
      out.append(contentsOf: try transcode(raw, final: n == 0))
    } else {
      out.append(contentsOf: raw)
    }
    return n > 0
  }

  private func transcode(_ raw: [UInt8], final: Bool) throws -> [UInt8] {
    guard let converter else { return raw }
    var input = pending
    input.append(contentsOf: raw)
    let (utf8, consumed, failedAt) = converter.convert(input)
    if let failedAt {
      let line = 1 + input[..<failedAt].reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
      throw IngestError(.encoding, "bytes at offset \(failedAt) of this block are not GB18030 either; the file's encoding is unknown. Convert it to UTF-8 first. (block line \(line))", at: SourceLocation(path: path))
    }
    pending = Array(input[consumed...])
    if final && !pending.isEmpty {
      throw IngestError(.encoding, "the file ends in the middle of a GB18030 character.", at: SourceLocation(path: path))
    }
    return utf8
  }

  /// The SHA-256 of every byte read so far, as lower-case hex. Call once, at
  /// the end.
  func finishDigest() -> String {
    var md = [UInt8](repeating: 0, count: 32)
    var len: UInt32 = 0
    EVP_DigestFinal_ex(digest, &md, &len)
    return md.prefix(Int(len)).map { b in
      let h = "0123456789abcdef".utf8
      return String(decoding: [h[h.index(h.startIndex, offsetBy: Int(b >> 4))], h[h.index(h.startIndex, offsetBy: Int(b & 15))]], as: UTF8.self)
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

/// True when `block` (the start of a file) is valid UTF-8, allowing a
/// character cut off at the end of the block.
func looksLikeUTF8(_ block: [UInt8]) -> Bool {
  block.withUnsafeBufferPointer { p in
    if isValidUTF8(p) { return true }
    // Allow up to 3 trailing bytes of an incomplete character.
    for cut in 1...3 where p.count > cut {
      if isValidUTF8(UnsafeBufferPointer(rebasing: p[..<(p.count - cut)])) { return true }
    }
    return false
  }
}
