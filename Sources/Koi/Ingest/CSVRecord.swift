import CByteMasks

/// Where the fields of the current record start and end, with room for
/// `capacity` fields: allocated once per chunk (or once for the header), never
/// per row. Fields past `capacity` are counted and checked for emptiness but
/// not stored.
struct FieldSlots {
  let start: UnsafeMutablePointer<Int>
  let end: UnsafeMutablePointer<Int>
  /// The field was quoted and holds doubled quotes (`""`) to unescape.
  let escaped: UnsafeMutablePointer<Bool>
  let capacity: Int

  init(capacity: Int) {
    self.capacity = max(0, capacity)
    let room = max(1, capacity)
    start = .allocate(capacity: room)
    end = .allocate(capacity: room)
    escaped = .allocate(capacity: room)
  }

  func deallocate() {
    start.deallocate(); end.deallocate(); escaped.deallocate()
  }
}

/// The CSV grammar Koi reads, for the header and the rows alike (RFC 4180,
/// as spreadsheets write it):
///
/// ```
/// record   = field *("," field) (LF | CRLF | end of input)
/// field    = quoted | bare
/// quoted   = '"' *(any byte but '"' | '""') '"' *(" " | CR)   ; may span lines
/// bare     = *(any byte but "," and LF)                       ; a '"' inside is text
/// ```
///
/// A quote opens a quoted field only as a field's first byte; anywhere else
/// it is an ordinary character. Text after a closing quote makes the record
/// malformed; a quote still open at the end of the input makes it
/// unterminated. A CR just before LF (or the end) is not part of the field.
enum CSVRecord {
  /// What splitting one record found.
  struct Split {
    var fieldCount = 0
    /// Text after a closing quote (`"abc"def`).
    var malformed = false
    /// A quoted field still open at the end of the buffer.
    var unterminated = false
    /// The record ran to the end of the buffer without a newline: when more
    /// bytes may follow, it is incomplete.
    var endedAtBufferEnd = false
    /// Every field past the slots' capacity is empty.
    var extraFieldsEmpty = true
  }

  /// Splits the record starting at `pos` into `slots`, moving `pos` past its
  /// newline and adding the newlines it spans (inside quotes and its end) to
  /// `line`.
  ///
  /// - Complexity: O(record bytes); no allocation. Inlined into the row
  ///   parser's loop, where it was hand-written before the header shared it;
  ///   measured with the release build on 1.02M generated rows (71 MB,
  ///   `koi score --stages rfm`, four alternating runs), ingest took
  ///   0.248–0.337 s against 0.270–0.332 s for the hand-written loop.
  @inline(__always)
  static func split(
    _ buf: UnsafeBufferPointer<UInt8>, at pos: inout Int, line: inout Int, into slots: FieldSlots
  ) -> Split {
    var r = Split()
    let n = buf.count
    let capacity = slots.capacity
    while true {
      var start = pos
      var end = pos
      var escaped = false
      if pos < n && buf[pos] == 34 {
        pos += 1
        start = pos
        while true {
          if pos >= n { r.unterminated = true; end = n; break }
          let b = buf[pos]
          if b == 34 {
            if pos + 1 < n && buf[pos + 1] == 34 { escaped = true; pos += 2; continue }
            end = pos
            pos += 1
            break
          }
          if b == 10 { line += 1 }
          pos += 1
        }
        if !r.unterminated {
          while pos < n && buf[pos] != 44 && buf[pos] != 10 {
            if buf[pos] != 13 && buf[pos] != 32 { r.malformed = true }
            pos += 1
          }
        }
      } else {
        while pos < n {
          let b = buf[pos]
          if b == 44 || b == 10 { break }
          pos += 1
        }
        end = pos
        if end > start && buf[end - 1] == 13 && (pos >= n || buf[pos] == 10) { end -= 1 }
      }
      if r.fieldCount < capacity {
        slots.start[r.fieldCount] = start
        slots.end[r.fieldCount] = end
        slots.escaped[r.fieldCount] = escaped
      } else if end > start {
        r.extraFieldsEmpty = false
      }
      r.fieldCount += 1
      if pos >= n { r.endedAtBufferEnd = true; break }
      if buf[pos] == 44 { pos += 1; continue }
      pos += 1  // the newline
      line += 1
      break
    }
    return r
  }

  /// `split` for the common record, 64 bytes at a time: no quote byte
  /// before its newline, at most `slots.capacity` fields, and its newline
  /// in a whole 8-byte word of `buf`, counted from the record's start.
  /// Returns the field count, having moved `pos` past the newline and
  /// counted it in `line`, as `split` would; returns nil and changes nothing
  /// for any other record, which `split` then reads.
  ///
  /// Each 64-byte block is turned into masks of its commas, newlines and
  /// quotes (`koi_csv_masks64`, SSE2), so a field costs one step per comma
  /// instead of one per byte, with no load of the byte; the last bytes of
  /// `buf`, under a block, take eight at a time (`delimiterMask`). At 10M
  /// rows the split was half of the parser's own samples with only the
  /// 8-byte words, each delimiter loaded to tell what it was.
  ///
  /// - Complexity: O(record bytes / 64 + fields); no allocation.
  @inline(__always)
  static func splitUnquoted(
    _ buf: UnsafeBufferPointer<UInt8>, at pos: inout Int, line: inout Int, into slots: FieldSlots
  ) -> Int? {
    guard let base = buf.baseAddress else { return nil }
    let raw = UnsafeRawPointer(base)
    let n = buf.count
    let capacity = slots.capacity
    var fieldCount = 0
    var start = pos
    var block = pos
    while block + 64 <= n {
      let m = koi_csv_masks64(base + block)
      // The block's bits up to and including its first newline (all of
      // them without one): a quote among them sends the record to `split`.
      let upTo = m.newline == 0 ? ~0 : m.newline ^ (m.newline &- 1)
      guard m.quote & upTo == 0 else { return nil }
      var commas = m.comma & upTo
      while commas != 0 {
        let i = block + commas.trailingZeroBitCount
        commas &= commas &- 1
        guard fieldCount < capacity else { return nil }
        slots.start[fieldCount] = start
        slots.end[fieldCount] = i
        slots.escaped[fieldCount] = false
        fieldCount += 1
        start = i + 1
      }
      if m.newline != 0 {
        let i = block + m.newline.trailingZeroBitCount
        guard fieldCount < capacity else { return nil }
        slots.start[fieldCount] = start
        slots.end[fieldCount] = i > start && base[i - 1] == 13 ? i - 1 : i
        slots.escaped[fieldCount] = false
        pos = i + 1
        line += 1
        return fieldCount + 1
      }
      block += 64
    }
    // The last bytes, a word at a time.
    var word = block
    while word + 8 <= n {
      var mask = delimiterMask(raw.loadUnaligned(fromByteOffset: word, as: UInt64.self).littleEndian)
      while mask != 0 {
        let i = word + mask.trailingZeroBitCount >> 3
        mask &= mask &- 1
        let b = base[i]
        guard b != 34, fieldCount < capacity else { return nil }
        var end = i
        if b == 10 && end > start && base[end - 1] == 13 { end -= 1 }
        slots.start[fieldCount] = start
        slots.end[fieldCount] = end
        slots.escaped[fieldCount] = false
        fieldCount += 1
        start = i + 1
        if b == 10 {
          pos = start
          line += 1
          return fieldCount
        }
      }
      word += 8
    }
    return nil
  }

  /// 0x80 in each byte of `word` (little-endian: byte k at bits 8k…8k+7)
  /// that is a comma, a newline or a quote, 0 in every other byte. Exact
  /// (no borrow between bytes): `(x & 0x7F) + 0x7F` sets a byte's top bit
  /// exactly when its low seven bits are not all zero.
  @inline(__always)
  static func delimiterMask(_ word: UInt64) -> UInt64 {
    let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
    @inline(__always) func nonZero(_ x: UInt64) -> UInt64 { ((x & low7) &+ low7) | x }
    let comma = nonZero(word ^ 0x2C2C_2C2C_2C2C_2C2C)
    let newline = nonZero(word ^ 0x0A0A_0A0A_0A0A_0A0A)
    let quote = nonZero(word ^ 0x2222_2222_2222_2222)
    return ~((comma & newline & quote) | low7)
  }

  /// The header: the first record of `buf`, split by the same grammar as the
  /// rows, or nil when its end is not in `buf` yet and more bytes may follow
  /// (`isFinal` false).
  struct Header {
    /// The cells, unescaped, as text (not trimmed).
    var cells: [String]
    /// Bytes of the header record, through its newline.
    var byteCount: Int
    /// Newlines in the header record: its end, plus any inside a quoted cell.
    /// The first row starts on physical line `newlines + 1`.
    var newlines: Int
    var malformed: Bool
    var unterminated: Bool
  }

  static func header(_ buf: UnsafeBufferPointer<UInt8>, isFinal: Bool) -> Header? {
    // First pass counts the cells; the second stores them.
    var pos = 0, line = 0
    let none = FieldSlots(capacity: 0)
    let counted = split(buf, at: &pos, line: &line, into: none)
    none.deallocate()
    if counted.endedAtBufferEnd && !isFinal { return nil }
    let slots = FieldSlots(capacity: counted.fieldCount)
    defer { slots.deallocate() }
    pos = 0; line = 0
    let s = split(buf, at: &pos, line: &line, into: slots)
    var cells: [String] = []
    cells.reserveCapacity(s.fieldCount)
    for k in 0..<s.fieldCount {
      var bytes: [UInt8] = []
      var i = slots.start[k]
      let hi = slots.end[k]
      bytes.reserveCapacity(hi - i)
      while i < hi {
        bytes.append(buf[i])
        i += slots.escaped[k] && buf[i] == 34 ? 2 : 1
      }
      cells.append(String(decoding: bytes, as: UTF8.self))
    }
    return Header(cells: cells, byteCount: pos, newlines: line, malformed: s.malformed, unterminated: s.unterminated)
  }
}
