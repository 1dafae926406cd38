import Foundation

/// Reads the fields the report uses from one line of customers.jsonl, about
/// twenty times faster than `JSONDecoder` (which took 17 s of CPU per 1M
/// customers, longer than the scoring run whose output it read).
///
/// A strict JSON parser over the line's bytes: one object, any key order,
/// the fields of `CustomerAggregates.Record` kept and every other value
/// checked and skipped; whitespace only around tokens. It returns nil for
/// anything it does not accept (malformed JSON, a field of another type),
/// and the caller then decodes the line with `JSONDecoder`, whose result or
/// error stands: the scanner changes the speed, never the outcome. Numbers
/// go through `strtod`, correctly rounded as `JSONDecoder`'s are, so the
/// aggregates are the same bit for bit.
struct CustomerLineScanner {
  typealias Record = CustomerAggregates.Record

  private let bytes: UnsafeBufferPointer<UInt8>
  private var i = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// The record on `line`, or nil if the scanner does not accept it.
  static func record(_ line: Data) -> Record? {
    line.withUnsafeBytes { raw in
      var s = CustomerLineScanner(raw.bindMemory(to: UInt8.self))
      guard let r = s.record() else { return nil }
      s.skipSpace()
      return s.i == s.bytes.count ? r : nil
    }
  }

  // MARK: - Record fields

  private mutating func record() -> Record? {
    var id: String?
    var r = Record(customerID: "")
    let ok = object { s, key in
      switch key {
      case "customer_id": id = s.string(); return id != nil
      case "monetary": return s.optional(&r.monetary) { $0.double() }
      case "r_score": return s.optional(&r.rScore) { $0.int() }
      case "f_score": return s.optional(&r.fScore) { $0.int() }
      case "m_score": return s.optional(&r.mScore) { $0.int() }
      case "segment": return s.optional(&r.segment) { $0.string() }
      case "tier": return s.optional(&r.tier) { $0.tier() }
      case "repurchase": return s.optional(&r.repurchase) { $0.repurchases() }
      case "lifetime": return s.optional(&r.lifetime) { $0.lifetime() }
      default: return s.skipValue()
      }
    }
    guard ok, let id else { return nil }
    r.customerID = id
    return r
  }

  private mutating func tier() -> Record.Tier? {
    var t = Record.Tier(id: nil)
    let ok = object { s, key in key == "id" ? s.optional(&t.id) { $0.int() } : s.skipValue() }
    return ok ? t : nil
  }

  private mutating func repurchases() -> [Record.Repurchase]? {
    var out: [Record.Repurchase] = []
    let ok = array { s in
      var category: String?
      var r = Record.Repurchase(category: "")
      let ok = s.object { s, key in
        switch key {
        case "category": category = s.string(); return category != nil
        case "probability_30d": return s.optional(&r.probability30d) { $0.double() }
        case "probability_60d": return s.optional(&r.probability60d) { $0.double() }
        case "probability_90d": return s.optional(&r.probability90d) { $0.double() }
        default: return s.skipValue()
        }
      }
      guard ok, let category else { return false }
      r.category = category
      out.append(r)
      return true
    }
    return ok ? out : nil
  }

  private mutating func lifetime() -> Record.Lifetime? {
    var l = Record.Lifetime()
    let ok = object { s, key in
      switch key {
      case "p_alive": return s.optional(&l.pAlive) { $0.double() }
      case "expected_purchases": return s.optional(&l.expectedPurchases) { $0.double() }
      case "expected_spend": return s.optional(&l.expectedSpend) { $0.double() }
      case "clv": return s.optional(&l.clv) { $0.double() }
      default: return s.skipValue()
      }
    }
    return ok ? l : nil
  }

  // MARK: - JSON

  private mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  private mutating func take(_ byte: UInt8) -> Bool {
    skipSpace()
    guard i < bytes.count, bytes[i] == byte else { return false }
    i += 1
    return true
  }

  /// `{ "key": value, … }`, each member handed to `member` (which reads the
  /// value); false if malformed or `member` fails.
  private mutating func object(_ member: (inout CustomerLineScanner, String) -> Bool) -> Bool {
    guard take(UInt8(ascii: "{")) else { return false }
    if take(UInt8(ascii: "}")) { return true }
    repeat {
      skipSpace()
      guard let key = string(), take(UInt8(ascii: ":")), member(&self, key) else { return false }
    } while take(UInt8(ascii: ","))
    return take(UInt8(ascii: "}"))
  }

  private mutating func array(_ element: (inout CustomerLineScanner) -> Bool) -> Bool {
    guard take(UInt8(ascii: "[")) else { return false }
    if take(UInt8(ascii: "]")) { return true }
    repeat {
      guard element(&self) else { return false }
    } while take(UInt8(ascii: ","))
    return take(UInt8(ascii: "]"))
  }

  /// `null` (leaving `value` nil) or a value read by `read`.
  private mutating func optional<T>(_ value: inout T?, _ read: (inout CustomerLineScanner) -> T?) -> Bool {
    if literal("null") { value = nil; return true }
    guard let v = read(&self) else { return false }
    value = v
    return true
  }

  private mutating func literal(_ word: StaticString) -> Bool {
    skipSpace()
    let n = word.utf8CodeUnitCount
    guard i + n <= bytes.count else { return false }
    for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
    i += n
    return true
  }

  /// A string, escapes decoded (surrogate pairs joined); nil if malformed.
  private mutating func string() -> String? {
    guard take(UInt8(ascii: "\"")) else { return nil }
    let start = i
    while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
    guard i < bytes.count else { return nil }
    if bytes[i] == UInt8(ascii: "\"") {
      defer { i += 1 }
      return Self.text(UnsafeBufferPointer(rebasing: bytes[start..<i]))
    }
    // Escapes: rare in Koi's output; collect the bytes.
    var out = Array(bytes[start..<i])
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return out.withUnsafeBufferPointer { Self.text($0) }
      }
      guard b >= 0x20 else { return nil }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        i += 1
        continue
      }
      guard i + 1 < bytes.count else { return nil }
      let e = bytes[i + 1]
      i += 2
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        guard var scalar = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(scalar) {
          guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
            return nil
          }
          i += 2
          guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let u = Unicode.Scalar(scalar) else { return nil }
        out.append(contentsOf: Array(String(Character(u)).utf8))
      default: return nil
      }
    }
    return nil
  }

  /// `bytes` as a String if they are valid UTF-8 (no overlong forms,
  /// surrogates or code points past U+10FFFF), else nil. Checked here and
  /// decoded with the specialised `String(decoding:)`: the generic
  /// `String(validating:)` spent most of its time looking up type metadata.
  static func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    var k = 0
    let n = bytes.count
    while k < n {
      let b = bytes[k]
      if b < 0x80 { k += 1; continue }
      let length: Int, low: UInt8, high: UInt8  // bounds of the second byte
      switch b {
      case 0xC2...0xDF: length = 2; low = 0x80; high = 0xBF
      case 0xE0: length = 3; low = 0xA0; high = 0xBF
      case 0xE1...0xEC, 0xEE...0xEF: length = 3; low = 0x80; high = 0xBF
      case 0xED: length = 3; low = 0x80; high = 0x9F
      case 0xF0: length = 4; low = 0x90; high = 0xBF
      case 0xF1...0xF3: length = 4; low = 0x80; high = 0xBF
      case 0xF4: length = 4; low = 0x80; high = 0x8F
      default: return nil
      }
      guard k + length <= n, bytes[k + 1] >= low, bytes[k + 1] <= high else { return nil }
      for j in 2..<length where bytes[k + j] & 0xC0 != 0x80 { return nil }
      k += length
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  private mutating func hex4() -> UInt32? {
    guard i + 4 <= bytes.count else { return nil }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[i]
      let d: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
      default: return nil
      }
      v = v << 4 | UInt32(d)
      i += 1
    }
    return v
  }

  /// The bytes of a JSON number (grammar checked), or nil.
  private mutating func numberRange() -> Range<Int>? {
    skipSpace()
    let start = i
    func digits() -> Int {
      let s = i
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
      return i - s
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    let intStart = i
    let n = digits()
    guard n > 0, n == 1 || bytes[intStart] != UInt8(ascii: "0") else { return nil }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { return nil }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() > 0 else { return nil }
    }
    return start..<i
  }

  private mutating func double() -> Double? {
    guard let r = numberRange(), r.count < 64 else { return nil }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: r.count + 1) { buffer -> Double? in
      for (k, b) in bytes[r].enumerated() { buffer[k] = CChar(bitPattern: b) }
      buffer[r.count] = 0
      let v = strtod(buffer.baseAddress!, nil)  // capacity r.count + 1 ≥ 1
      return v.isFinite ? v : nil
    }
  }

  /// An integer without fraction or exponent (as `JSONDecoder` accepts for Int).
  private mutating func int() -> Int? {
    guard let r = numberRange(), r.count <= 18 else { return nil }
    var v = 0
    var negative = false
    for b in bytes[r] {
      if b == UInt8(ascii: "-") { negative = true; continue }
      guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
      v = v * 10 + Int(b - UInt8(ascii: "0"))
    }
    return negative ? -v : v
  }

  private mutating func skipValue() -> Bool {
    skipSpace()
    guard i < bytes.count else { return false }
    switch bytes[i] {
    case UInt8(ascii: "\""): return string() != nil
    case UInt8(ascii: "{"): return object { s, _ in s.skipValue() }
    case UInt8(ascii: "["): return array { $0.skipValue() }
    case UInt8(ascii: "t"): return literal("true")
    case UInt8(ascii: "f"): return literal("false")
    case UInt8(ascii: "n"): return literal("null")
    default: return numberRange() != nil
    }
  }
}
