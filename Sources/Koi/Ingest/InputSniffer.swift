/// What the first bytes of a file say about how to read it: UTF-16 (refused,
/// with a hint), CR-only line ends (read as LF), and UTF-8 or GB18030 for
/// `--encoding auto`.
enum InputSniffer {
  /// Bytes at the start of the file that the encoding is judged on, whatever
  /// the reader's block size (8 MiB, the default block).
  static let window = 8 << 20

  // MARK: UTF-16

  /// Why `block` (the start of a file) looks like UTF-16, or nil.
  ///
  /// A UTF-16 byte-order mark (FF FE or FE FF) settles it; without one, text
  /// that is mostly ASCII has a NUL in every other byte, which no CSV in
  /// UTF-8 or GB18030 has: at least 40% of the even or of the odd bytes of
  /// the first 64 KiB are NUL.
  static func utf16Evidence(_ block: [UInt8]) -> String? {
    if block.starts(with: [0xFF, 0xFE]) { return "it starts with the UTF-16 byte-order mark FF FE" }
    if block.starts(with: [0xFE, 0xFF]) { return "it starts with the UTF-16 byte-order mark FE FF" }
    let n = min(block.count, 1 << 16)
    guard n >= 4 else { return nil }
    var nul = (even: 0, odd: 0)
    for i in 0..<n where block[i] == 0 {
      if i & 1 == 0 { nul.even += 1 } else { nul.odd += 1 }
    }
    let half = n / 2
    if nul.even * 5 >= half * 2 || nul.odd * 5 >= half * 2 {
      return "every other byte is NUL"
    }
    return nil
  }

  // MARK: Line ends

  enum LineEnds: Equatable {
    /// LF or CRLF: the parser's own.
    case lf
    /// CR alone (old Mac Excel's "CSV (Macintosh)"): read each CR as LF.
    case crOnly
  }

  /// The line ends of a file from its first line end, or nil when `bytes`
  /// holds none yet and more may follow (`atEnd` false). A CR as the last
  /// byte read is undecided: an LF may follow it.
  static func lineEnds(_ bytes: [UInt8], atEnd: Bool) -> LineEnds? {
    for i in bytes.indices {
      let b = bytes[i]
      if b == 10 { return .lf }
      if b == 13 {
        if i + 1 < bytes.count { return bytes[i + 1] == 10 ? .lf : .crOnly }
        return atEnd ? .lf : nil
      }
    }
    return atEnd ? .lf : nil
  }

  // MARK: UTF-8 or GB18030

  /// Counts of well-formed and invalid UTF-8 in a block.
  struct UTF8Census: Equatable {
    /// Well-formed sequences of two to four bytes.
    var multibyte = 0
    /// Invalid sequences (each maximal invalid subpart counts once).
    var invalid = 0
    var lines = 0
    /// Lines holding at least one invalid sequence.
    var linesWithInvalid = 0
    /// The first line holds an invalid sequence.
    var headerInvalid = false
    /// Bytes of the first line, through its LF (the whole block when it has none).
    var headerLength = 0
  }

  /// - Complexity: O(bytes). A sequence cut off by the end of the block is
  ///   not counted as invalid: the next block holds the rest. After the
  ///   header, eight ASCII bytes are read at once (their line feeds
  ///   counted together): byte by byte, the 8 MiB window took 16 ms of one
  ///   core before any parsing could start. With `wordsAtOnce` off, every
  ///   byte on its own (tests compare the two).
  static func census(_ block: [UInt8], wordsAtOnce: Bool = true) -> UTF8Census {
    block.withUnsafeBufferPointer { census($0, wordsAtOnce: wordsAtOnce) }
  }

  static func census(_ block: UnsafeBufferPointer<UInt8>, wordsAtOnce: Bool) -> UTF8Census {
    var c = UTF8Census()
    let n = block.count
    var i = 0
    var lineBad = false
    var inHeader = true
    func endLine() {
      c.lines += 1
      if lineBad { c.linesWithInvalid += 1 }
      lineBad = false
    }
    let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    while i < n {
      if wordsAtOnce && !inHeader && i + 8 <= n, let base = block.baseAddress {
        let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if word & ~low7 == 0 {
          // 0x80 in each byte that is a line feed (exact, as in
          // `CSVRecord.delimiterMask`).
          let x = word ^ 0x0A0A_0A0A_0A0A_0A0A
          let lineFeeds = (~(((x & low7) &+ low7) | x | low7)).nonzeroBitCount
          if lineFeeds > 0 {
            endLine()
            c.lines += lineFeeds - 1
          }
          i += 8
          continue
        }
      }
      let b = block[i]
      if b < 0x80 {
        if b == 10 {
          if inHeader { c.headerLength = i + 1; inHeader = false }
          endLine()
        }
        i += 1
        continue
      }
      let length = utf8SequenceLength(block, at: i)
      if length > 0 {
        c.multibyte += 1
        i += length
      } else if length == 0 {
        break  // cut off at the block's end
      } else {
        c.invalid += 1
        lineBad = true
        if inHeader { c.headerInvalid = true }
        i += -length
      }
    }
    if inHeader { c.headerLength = n }
    if i > 0 && (n == 0 || block[n - 1] != 10) { endLine() }
    return c
  }

  /// True when `bytes` is structurally GB18030: ASCII, two-byte characters
  /// (lead 81–FE, trail 40–7E or 80–FE) and four-byte ones (81–FE, 30–39,
  /// 81–FE, 30–39). A character cut off at the end is allowed.
  static func isGB18030(_ bytes: ArraySlice<UInt8>) -> Bool {
    var i = bytes.startIndex
    let end = bytes.endIndex
    while i < end {
      let b = bytes[i]
      if b < 0x80 { i += 1; continue }
      guard b >= 0x81 && b <= 0xFE else { return false }
      guard i + 1 < end else { return true }
      let t = bytes[i + 1]
      if (0x40...0x7E).contains(t) || (0x80...0xFE).contains(t) { i += 2; continue }
      guard (0x30...0x39).contains(t) else { return false }
      guard i + 3 < end else { return true }
      guard (0x81...0xFE).contains(bytes[i + 2]) && (0x30...0x39).contains(bytes[i + 3]) else { return false }
      i += 4
    }
    return true
  }

  /// The encoding `--encoding auto` reads a file in, from its first block
  /// (after any byte-order mark):
  ///
  /// ```
  /// invalid UTF-8 sequences = 0                          → UTF-8
  /// header line invalid UTF-8 and valid GB18030          → GB18030
  /// well-formed multi-byte UTF-8 ≥ 8 × invalid sequences → UTF-8
  /// lines with an invalid sequence ≤ 3 + lines / 1000    → UTF-8
  /// otherwise                                            → GB18030
  /// ```
  ///
  /// UTF-8 text with a few damaged bytes is read as UTF-8, so a damaged row
  /// becomes one `invalid_encoding` reject whether it sits in the first block
  /// or later; GB18030 text (Chinese in the header, or on more than a few
  /// lines) is mostly invalid UTF-8, with about one accidental well-formed
  /// sequence per ten characters. A file that is neither fails later, when
  /// GB18030 decoding meets its first invalid byte.
  static func guess(_ block: [UInt8]) -> InputEncoding {
    // Most files are UTF-8 throughout, and then the census's counts do not
    // matter. The census took 6 ms of an 8 MiB first block, before any
    // parser starts.
    if block.withUnsafeBufferPointer(isValidUTF8Block) { return .utf8 }
    let c = census(block)  // holds an invalid sequence
    if c.headerInvalid && isGB18030(block[..<c.headerLength]) { return .gb18030 }
    if c.multibyte >= 8 * c.invalid { return .utf8 }
    if c.linesWithInvalid <= 3 + c.lines / 1000 { return .utf8 }
    return .gb18030
  }
}
