#if canImport(Glibc)
  import Glibc
#endif

/// A small scanner for the XML of an .xlsx package: tags, attributes and
/// text, on UTF-8 bytes, with namespace prefixes ignored (`<x:row>` is
/// `row`). Enough for the parts Koi reads (workbook, relationships, styles,
/// shared strings, sheets); not a general XML parser (no DTDs).
///
/// - Complexity: O(bytes); no allocation except the text it returns.
struct XMLTag {
  /// Local name (after any `prefix:`), as offsets into the scanned buffer
  /// (offsets, not slices: a slice retains the buffer, and a sheet has
  /// tens of millions of tags).
  var name: Range<Int>
  /// The qualified name (with any prefix).
  var qualifiedName: Range<Int>
  var isEnd: Bool
  var selfClosing: Bool
  /// The bytes between the name and `>` (or `/>`).
  var attributes: Range<Int>
  /// Offset just past `>`.
  var end: Int
}

enum WorkbookXML {
  /// The next tag at or after `pos` in `b` (skipping comments, processing
  /// instructions and declarations), or nil when none is complete.
  static func nextTag(_ b: [UInt8], from pos: Int, to limit: Int? = nil) -> (start: Int, tag: XMLTag)? {
    let n = limit ?? b.count
    var i = pos
    while i < n {
      guard let lt = index(of: 60, in: b, from: i, to: n) else { return nil }  // <
      guard lt + 1 < n else { return nil }
      let c = b[lt + 1]
      if c == 33 || c == 63 {  // <! or <?
        if c == 33, lt + 3 < n, b[lt + 2] == 45, b[lt + 3] == 45 {
          guard let e = find([45, 45, 62], in: b, from: lt + 4, to: n) else { return nil }
          i = e + 3
        } else if c == 33, startsWith(b, at: lt + 2, "[CDATA[") {
          guard let e = find([93, 93, 62], in: b, from: lt + 9, to: n) else { return nil }
          i = e + 3
        } else {
          guard let e = index(of: 62, in: b, from: lt + 2, to: n) else { return nil }
          i = e + 1
        }
        continue
      }
      let isEnd = c == 47
      var j = isEnd ? lt + 2 : lt + 1
      let nameStart = j
      var localStart = j
      while j < n, !isSpace(b[j]), b[j] != 62, b[j] != 47 {
        if b[j] == 58 { localStart = j + 1 }
        j += 1
      }
      guard j < n else { return nil }
      let name = localStart..<j
      // The end of the tag: `>` outside quoted attribute values.
      var k = j
      var quote: UInt8 = 0
      while k < n {
        let x = b[k]
        if quote != 0 {
          if x == quote { quote = 0 }
        } else if x == 34 || x == 39 {
          quote = x
        } else if x == 62 {
          break
        }
        k += 1
      }
      guard k < n else { return nil }
      let selfClosing = k > j && b[k - 1] == 47
      let attrs = j..<(selfClosing ? k - 1 : k)
      return (
        lt,
        XMLTag(
          name: name, qualifiedName: nameStart..<j, isEnd: isEnd, selfClosing: selfClosing, attributes: attrs,
          end: k + 1)
      )
    }
    return nil
  }

  /// An attribute's raw value (entities not decoded), by local name.
  static func attribute(_ name: StaticString, in attrs: [UInt8], _ range: Range<Int>) -> Range<Int>? {
    var i = range.lowerBound
    let n = range.upperBound
    while i < n {
      while i < n, isSpace(attrs[i]) { i += 1 }
      let nameStart = i
      var localStart = i
      while i < n, attrs[i] != 61, !isSpace(attrs[i]) {
        if attrs[i] == 58 { localStart = i + 1 }
        i += 1
      }
      let attrName = localStart..<i
      while i < n, attrs[i] != 34, attrs[i] != 39 { i += 1 }
      guard i < n else { return nil }
      let q = attrs[i]
      i += 1
      let vs = i
      while i < n, attrs[i] != q { i += 1 }
      let value = vs..<min(i, n)
      i += 1
      // `r:id` and `id` differ only by prefix: match the qualified name
      // first, then the local one.
      if nameIs(attrs, nameStart..<attrName.upperBound, name) || nameIs(attrs, attrName, name) { return value }
    }
    return nil
  }

  static func attributeString(_ name: StaticString, in attrs: [UInt8], _ range: Range<Int>) -> String? {
    attribute(name, in: attrs, range).map { decode(attrs[$0]) }
  }

  static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }

  static func index(of byte: UInt8, in b: [UInt8], from: Int, to n: Int) -> Int? {
    guard from < n else { return nil }
    return b.withUnsafeBufferPointer { p -> Int? in
      guard let base = p.baseAddress, let hit = memchr(base + from, Int32(byte), min(n, p.count) - from) else {
        return nil
      }
      return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
    }
  }

  /// The first `needle` in `b` from `from` (memchr for its first byte).
  static func search(_ needle: [UInt8], in b: [UInt8], from: Int) -> Int? {
    guard let first = needle.first else { return nil }
    var i = from
    while let hit = index(of: first, in: b, from: i, to: b.count) {
      guard hit + needle.count <= b.count else { return nil }
      var k = 1
      while k < needle.count && b[hit + k] == needle[k] { k += 1 }
      if k == needle.count { return hit }
      i = hit + 1
    }
    return nil
  }

  static func find(_ needle: [UInt8], in b: [UInt8], from: Int, to n: Int) -> Int? {
    guard let first = needle.first else { return nil }
    var i = from
    while i + needle.count <= n {
      if b[i] == first {
        var k = 1
        while k < needle.count && b[i + k] == needle[k] { k += 1 }
        if k == needle.count { return i }
      }
      i += 1
    }
    return nil
  }

  static func startsWith(_ b: [UInt8], at i: Int, _ s: String) -> Bool {
    let u = Array(s.utf8)
    guard i + u.count <= b.count else { return false }
    for k in 0..<u.count where b[i + k] != u[k] { return false }
    return true
  }

  static func nameIs(_ b: [UInt8], _ name: Range<Int>, _ s: StaticString) -> Bool {
    let count = s.utf8CodeUnitCount
    guard name.count == count else { return false }
    return s.withUTF8Buffer { u in
      var i = name.lowerBound
      for c in u {
        if b[i] != c { return false }
        i += 1
      }
      return true
    }
  }

  /// Entity names, as in `nameIs` for a slice.
  static func sliceIs(_ name: ArraySlice<UInt8>, _ s: StaticString) -> Bool {
    let count = s.utf8CodeUnitCount
    guard name.count == count else { return false }
    return s.withUTF8Buffer { u in
      var i = name.startIndex
      for c in u {
        if name[i] != c { return false }
        i += 1
      }
      return true
    }
  }

  /// Text with XML entities (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`
  /// `&#NN;` `&#xHH;`) and OOXML's `_xHHHH_` escapes decoded, appended to
  /// `out` as UTF-8.
  static func appendDecoded(_ t: ArraySlice<UInt8>, to out: inout [UInt8]) {
    var i = t.startIndex
    let n = t.endIndex
    while i < n {
      let b = t[i]
      if b == 38, let semi = t[i..<min(n, i + 12)].firstIndex(of: 59) {  // &…;
        let ent = t[(i + 1)..<semi]
        var scalar: UInt32?
        if sliceIs(ent, "amp") {
          scalar = 38
        } else if sliceIs(ent, "lt") {
          scalar = 60
        } else if sliceIs(ent, "gt") {
          scalar = 62
        } else if sliceIs(ent, "quot") {
          scalar = 34
        } else if sliceIs(ent, "apos") {
          scalar = 39
        } else if ent.first == 35 {
          let digits = ent.dropFirst()
          if digits.first == 120 || digits.first == 88 {
            scalar = UInt32(String(decoding: digits.dropFirst(), as: UTF8.self), radix: 16)
          } else {
            scalar = UInt32(String(decoding: digits, as: UTF8.self), radix: 10)
          }
        }
        if let s = scalar, let u = Unicode.Scalar(s) {
          out.append(contentsOf: Array(String(Character(u)).utf8))
          i = semi + 1
          continue
        }
      } else if b == 95, i + 6 < n, t[i + 1] == 120, t[i + 6] == 95,
        let v = UInt32(String(decoding: t[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16),
        let u = Unicode.Scalar(v)
      {  // _xHHHH_
        out.append(contentsOf: Array(String(Character(u)).utf8))
        i += 7
        continue
      }
      out.append(b)
      i += 1
    }
  }

  static func decode(_ t: ArraySlice<UInt8>) -> String {
    var out: [UInt8] = []
    appendDecoded(t, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Calls `body` with each complete `<name …>…</name>` (or `<name …/>`)
  /// element of `buffer` from `start`, and returns where the incomplete rest
  /// begins. `body` gets the element's start and end offsets. Stops early,
  /// returning nil, at `</stop>` when `stop` is given.
  static func forEachElement(
    _ name: StaticString, in buffer: [UInt8], from start: Int, stop: StaticString? = nil,
    _ body: (Int, Int) throws -> Void
  ) rethrows -> Int? {
    var pos = start
    while let (s, tag) = nextTag(buffer, from: pos) {
      if tag.isEnd {
        if let stop, nameIs(buffer, tag.name, stop) { return nil }
        pos = tag.end
        continue
      }
      guard nameIs(buffer, tag.name, name) else {
        pos = tag.end
        continue
      }
      if tag.selfClosing {
        try body(s, tag.end)
        pos = tag.end
        continue
      }
      // The matching end tag (these elements do not nest): `</` + the
      // qualified name + `>`, searched as bytes.
      var needle: [UInt8] = [60, 47]
      needle += buffer[tag.qualifiedName]
      needle.append(62)
      guard let close = search(needle, in: buffer, from: tag.end) else { return s }
      let closed = close + needle.count
      try body(s, closed)
      pos = closed
    }
    // Keep any partial tag for the next chunk.
    if let lt = buffer[pos...].lastIndex(of: 60) { return lt }
    return buffer.count
  }
}
