/// Builds JSON text into a byte buffer with a fixed key order and fixed
/// number formatting, so identical inputs give byte-identical output.
///
/// Numbers are written with a fixed number of decimals (`number(_:decimals:)`)
/// or as integers; NaN and infinity become `null`. Commas are inserted
/// automatically.
public struct JSONWriter {
  public private(set) var bytes: [UInt8] = []
  private var first: [Bool] = []
  private var afterKey = false

  public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

  public mutating func removeAll() {
    bytes.removeAll(keepingCapacity: true)
    first.removeAll(keepingCapacity: true)
    afterKey = false
  }

  @inline(__always)
  private mutating func separate() {
    if afterKey { afterKey = false; return }
    if let f = first.last {
      if !f { bytes.append(44) }
      first[first.count - 1] = false
    }
  }

  public mutating func beginObject() { separate(); bytes.append(123); first.append(true) }
  public mutating func endObject() { bytes.append(125); first.removeLast() }
  public mutating func beginArray() { separate(); bytes.append(91); first.append(true) }
  public mutating func endArray() { bytes.append(93); first.removeLast() }
  public mutating func newline() { bytes.append(10) }

  /// Writes `"name":` (names are plain ASCII identifiers: not escaped).
  public mutating func key(_ name: StaticString) {
    separate()
    bytes.append(34)
    name.withUTF8Buffer { bytes.append(contentsOf: $0) }
    bytes.append(34); bytes.append(58)
    afterKey = true
  }

  /// Writes `"name":` for a run-time name, escaped.
  public mutating func key(escaping name: String) {
    separate()
    appendEscaped(name)
    bytes.append(58)
    afterKey = true
  }

  public mutating func string(_ s: String) { separate(); appendEscaped(s) }
  public mutating func null() { separate(); bytes.append(contentsOf: [110, 117, 108, 108]) }
  public mutating func bool(_ b: Bool) {
    separate()
    bytes.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
  }

  /// Three scores as one string, e.g. `"545"` (each 1–100).
  public mutating func scoreTriple(_ a: UInt8, _ b: UInt8, _ c: UInt8) {
    separate()
    bytes.append(34)
    appendScore(a); appendScore(b); appendScore(c)
    bytes.append(34)
  }

  @inline(__always)
  private mutating func appendScore(_ v: UInt8) {
    if v >= 100 { bytes.append(48 &+ v / 100) }
    if v >= 10 { bytes.append(48 &+ (v / 10) % 10) }
    bytes.append(48 &+ v % 10)
  }

  public mutating func int<T: BinaryInteger>(_ v: T) {
    separate()
    appendInteger(Int64(v))
  }

  /// `v` with exactly `decimals` digits after the point (rounded half away
  /// from zero), or `null` when not finite.
  public mutating func number(_ v: Double, decimals: Int) {
    separate()
    appendFixed(v, decimals: decimals)
  }

  /// A day number as a `"YYYY-MM-DD"` string.
  public mutating func date(_ day: Int32) {
    separate()
    let (y, m, d) = DayNumber.civil(day)
    // "YYYY-MM-DD" without a temporary array: this runs several times per record.
    bytes.append(34)
    bytes.append(48 &+ UInt8((y / 1000) % 10)); bytes.append(48 &+ UInt8((y / 100) % 10))
    bytes.append(48 &+ UInt8((y / 10) % 10)); bytes.append(48 &+ UInt8(y % 10))
    bytes.append(45); bytes.append(48 &+ UInt8(m / 10)); bytes.append(48 &+ UInt8(m % 10))
    bytes.append(45); bytes.append(48 &+ UInt8(d / 10)); bytes.append(48 &+ UInt8(d % 10))
    bytes.append(34)
  }

  /// A string already encoded as a JSON string literal, quotes included
  /// (see `JSONWriter.encoded(_:)`): for names written once per record.
  public mutating func encodedString(_ literal: [UInt8]) {
    separate()
    bytes.append(contentsOf: literal)
  }

  /// `s` as a JSON string literal, quotes included.
  public static func encoded(_ s: String) -> [UInt8] {
    var w = JSONWriter(capacity: s.utf8.count + 2)
    w.appendEscaped(s)
    return w.bytes
  }

  private mutating func appendInteger(_ v: Int64) {
    if v < 0 {
      bytes.append(45)
      appendMagnitude(v == Int64.min ? UInt64(Int64.max) + 1 : UInt64(-v))
    } else {
      appendMagnitude(UInt64(v))
    }
  }

  private mutating func appendMagnitude(_ v: UInt64) {
    if v < 10 { bytes.append(48 &+ UInt8(v)); return }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    var x = v
    withUnsafeMutableBytes(of: &digits) { d in
      while x > 0 { d[n] = 48 &+ UInt8(x % 10); x /= 10; n += 1 }
      for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[i]) }
    }
  }

  static let scales: [Double] = (0...9).map { k in (0..<k).reduce(1.0) { p, _ in p * 10 } }

  private mutating func appendFixed(_ v: Double, decimals: Int) {
    guard v.isFinite else { bytes.append(contentsOf: [110, 117, 108, 108]); return }
    precondition(decimals >= 0 && decimals <= 9, "0 to 9 decimals")
    let scaled = (v * JSONWriter.scales[decimals]).rounded(.toNearestOrAwayFromZero)
    guard abs(scaled) < 9.0e15 else {
      bytes.append(contentsOf: Array("\(v)".utf8))
      return
    }
    var q = Int64(scaled)
    if q < 0 { bytes.append(45); q = -q }
    let scale = Int64(JSONWriter.scales[decimals])
    appendMagnitude(UInt64(q / scale))
    if decimals > 0 {
      bytes.append(46)
      var frac = q % scale
      var div = scale / 10
      while div > 0 {
        bytes.append(48 &+ UInt8(frac / div))
        frac %= div
        div /= 10
      }
    }
  }

  private mutating func appendEscaped(_ s: String) {
    bytes.append(34)
    // Fast path: nothing to escape (the usual case), one bulk append.
    if s.utf8.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 }) {
      bytes.append(contentsOf: s.utf8)
      bytes.append(34)
      return
    }
    for b in s.utf8 {
      switch b {
      case 34: bytes.append(92); bytes.append(34)
      case 92: bytes.append(92); bytes.append(92)
      case 10: bytes.append(92); bytes.append(110)
      case 13: bytes.append(92); bytes.append(114)
      case 9: bytes.append(92); bytes.append(116)
      case 0..<32:
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
      default: bytes.append(b)
      }
    }
    bytes.append(34)
  }
}
