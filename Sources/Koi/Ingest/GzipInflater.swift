import CLibZ

/// Inflates a gzip stream (RFC 1952) through the system zlib, block by block:
/// the compressed file is never held whole, nor its text.
///
/// Concatenated members (`cat a.gz b.gz`, `gzip -c a b`) are read one after
/// another, as `gzip -d` does. A stream that ends before its last member's
/// trailer is truncated; bytes zlib cannot inflate are damage.
///
/// - Complexity: O(compressed + inflated bytes); memory O(block size).
final class GzipInflater {
  private var stream = z_stream()
  private var input: [UInt8] = []
  private var inputOffset = 0
  /// The current member's trailer has been read (or nothing has started).
  private(set) var atMemberEnd = true
  /// Compressed bytes handed to zlib so far (for messages).
  private(set) var consumed: Int64 = 0
  private var begun = false

  init() throws {
    // 15 + 16: a gzip header and trailer, 32 KiB window.
    let r = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard r == Z_OK else { throw GzipError(message: "zlib could not start (inflateInit2 returned \(r))", offset: 0) }
  }

  deinit { inflateEnd(&stream) }

  /// Inflates `compressed` (the next bytes of the file) and appends the
  /// result to `out`.
  ///
  /// - Throws: `GzipError` at damaged data.
  func inflate(_ compressed: [UInt8], into out: inout [UInt8]) throws {
    input = compressed
    inputOffset = 0
    var chunk = [UInt8](repeating: 0, count: max(1 << 16, compressed.count * 4))
    while inputOffset < input.count {
      if atMemberEnd {
        if begun {
          // Another member follows the previous one's trailer.
          guard inflateReset(&stream) == Z_OK else {
            throw GzipError(message: "zlib could not restart", offset: consumed)
          }
        }
        begun = true
        atMemberEnd = false
      }
      let before = inputOffset
      var produced = 0
      let r: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
        chunk.withUnsafeMutableBufferPointer { outBuf in
          stream.next_in = inBuf.baseAddress! + inputOffset  // non-empty: inputOffset < count
          stream.avail_in = UInt32(inBuf.count - inputOffset)
          stream.next_out = outBuf.baseAddress
          stream.avail_out = UInt32(outBuf.count)
          let r = CLibZ.inflate(&stream, Z_NO_FLUSH)
          inputOffset = inBuf.count - Int(stream.avail_in)
          produced = outBuf.count - Int(stream.avail_out)
          return r
        }
      }
      consumed += Int64(inputOffset - before)
      out.append(contentsOf: chunk[..<produced])
      switch r {
      case Z_STREAM_END:
        atMemberEnd = true
      case Z_OK, Z_BUF_ERROR:
        if produced == 0 && inputOffset == before {
          throw GzipError(message: "zlib made no progress", offset: consumed)
        }
      default:
        throw GzipError(message: "the compressed data is damaged (zlib error \(r))", offset: consumed)
      }
    }
  }

  /// Checks the end of the file: the last member must be complete.
  func finish() throws {
    if !begun {
      throw GzipError(message: "the file is empty", offset: 0)
    }
    if !atMemberEnd {
      throw GzipError(
        message:
          "the file ends in the middle of the compressed data (truncated: it was cut short while being copied or written)",
        offset: consumed)
    }
  }
}

/// Damage in a gzip stream; `offset`: compressed bytes consumed when it was
/// noticed (for debugging; not in the message).
struct GzipError: Error {
  var message: String
  var offset: Int64

  func ingestError(path: String) -> IngestError {
    // No byte offset: where zlib notices damage depends on how the file was
    // cut into blocks, and the message must not.
    IngestError(
      .corrupt, "cannot read this .gz file: \(message). Copy or export the file again; `gzip -t FILE` checks it.",
      at: SourceLocation(path: path))
  }
}
