/// Builds JSON text into a byte buffer with a fixed key order and fixed
/// number formatting, so identical inputs give byte-identical output.
///
/// Numbers are written with a fixed number of decimals (`number(_:decimals:)`)
/// or as integers; NaN and infinity become `null`. Commas are inserted
/// automatically.
///
/// Each key or value is stored through one pointer after a single capacity
/// check (`store(maxCount:_:)`), not with one `Array.append` (a uniqueness
/// and a capacity check) per byte: customers.jsonl is about a kilobyte per
/// customer. The text lives in memory the writer owns, not in an array:
/// each store into an array's storage asked the runtime whether the array
/// was uniquely referenced (`swift_isUniquelyReferenced_nonNull_native`, 5%
/// of the samples formatting customers.jsonl at 10M rows; the write step
/// took 2.42 s with the array, 2.05 s without, medians of 3 alternating
/// runs). So a writer cannot be copied; it is passed `inout` and frees its
/// memory when it ends.
public struct JSONWriter: ~Copyable {
  /// `capacity` bytes, of which the first `count` are the text.
  private var storage: UnsafeMutablePointer<UInt8>
  private var capacity: Int
  private var count = 0
  /// One bit per open container, innermost lowest: set while the container
  /// has no element yet, so the next element needs no comma.
  private var firstBits: UInt64 = 0
  private var depth = 0
  private var afterKey = false
  /// `DateDigits.table`, read once here: a static read in `date` would be
  /// a `swift_once` call per date.
  private let dateDigits = DateDigits.table
  /// `FractionDigits.table`, read once here for the same reason.
  private let fractionDigits = FractionDigits.table

  public init(capacity: Int = 1 << 16) {
    self.capacity = max(capacity, 64)
    storage = .allocate(capacity: self.capacity)
  }

  deinit { storage.deallocate() }

  /// The length of the text written so far, bytes.
  public var byteCount: Int { count }

  /// A copy of the text written so far.
  public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

  /// Empties the writer, keeping its storage.
  mutating func removeAll() {
    count = 0
    firstBits = 0
    depth = 0
    afterKey = false
  }

  /// Writes the text so far to `file` and empties the buffer, keeping the
  /// open containers, so that a long document streams through a bounded
  /// buffer.
  mutating func flush(to file: AtomicFile) throws {
    try file.write(UnsafeRawBufferPointer(start: storage, count: count))
    count = 0
  }

  /// Hands over the text so far, leaving the writer empty (its open
  /// containers kept, as by `flush(to:)`) with fresh storage of the same
  /// capacity: the text is not copied.
  mutating func takeText() -> JSONText {
    let text = JSONText(storage: storage, count: count)
    storage = .allocate(capacity: capacity)
    count = 0
    return text
  }

  // MARK: Containers

  mutating func beginObject() {
    element(maxCount: 1) {
      $0[0] = 123; return 1
    }; open()
  }
  mutating func endObject() {
    close();
    store(maxCount: 1) {
      $0[0] = 125; return 1
    }
  }
  mutating func beginArray() {
    element(maxCount: 1) {
      $0[0] = 91; return 1
    }; open()
  }
  mutating func endArray() {
    close();
    store(maxCount: 1) {
      $0[0] = 93; return 1
    }
  }
  public mutating func newline() {
    store(maxCount: 1) {
      $0[0] = 10; return 1
    }
  }

  private mutating func open() {
    precondition(depth < UInt64.bitWidth, "JSON nested deeper than \(UInt64.bitWidth) containers")
    firstBits = firstBits << 1 | 1
    depth += 1
  }

  private mutating func close() {
    precondition(depth > 0, "no open container")
    firstBits >>= 1
    depth -= 1
  }

  // MARK: Keys and values

  /// Writes `"name":` (names are plain ASCII identifiers: not escaped).
  ///
  /// Inlined, so that the name's length is a constant where it is called and
  /// its copy a few moves, not a call to `memmove`: customers.jsonl has
  /// about 45 keys a customer, and a key and a `null` took 4.9 ns instead of
  /// 8.6 in a loop (`swiftc -O -wmo`, 200,000 pairs, best of 15).
  @inline(__always)
  public mutating func key(_ name: StaticString) {
    name.withUTF8Buffer { name in
      element(maxCount: name.count + 3) { p in
        p[0] = 34
        p.advanced(by: 1).update(from: name.baseAddress!, count: name.count)  // a literal: never nil
        p[name.count + 1] = 34
        p[name.count + 2] = 58
        return name.count + 3
      }
    }
    afterKey = true
  }

  /// Writes `"name":` for a run-time name, escaped.
  public mutating func key(escaping name: String) {
    string(name)
    store(maxCount: 1) {
      $0[0] = 58; return 1
    }
    afterKey = true
  }

  mutating func string(_ s: String) {
    var s = s
    s.withUTF8 { utf8 in
      // Fast path: nothing to escape (the usual case), one bulk copy.
      if utf8.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 }) {
        element(maxCount: utf8.count + 2) { p in
          p[0] = 34
          if utf8.count > 0 { p.advanced(by: 1).update(from: utf8.baseAddress!, count: utf8.count) }
          p[utf8.count + 1] = 34
          return utf8.count + 2
        }
      } else {
        element(maxCount: 6 * utf8.count + 2) { JSONWriter.storeEscaped(utf8, at: $0) }
      }
    }
  }

  mutating func null() {
    element(maxCount: 4) { p in
      p[0] = 110; p[1] = 117; p[2] = 108; p[3] = 108; return 4
    }
  }
  mutating func bool(_ b: Bool) { verbatim(b ? "true" : "false") }

  /// Three scores as one string, e.g. `"545"` (each 1–100).
  mutating func scoreTriple(_ a: UInt8, _ b: UInt8, _ c: UInt8) {
    element(maxCount: 11) { p in
      p[0] = 34
      var n = 1
      n += JSONWriter.storeDigits(UInt64(a), at: p + n)
      n += JSONWriter.storeDigits(UInt64(b), at: p + n)
      n += JSONWriter.storeDigits(UInt64(c), at: p + n)
      p[n] = 34
      return n + 1
    }
  }

  mutating func int<T: BinaryInteger>(_ v: T) {
    let v = Int64(v)
    element(maxCount: 21) { p in
      if v < 0 {
        p[0] = 45
        return 1 + JSONWriter.storeDigits(v.magnitude, at: p + 1)
      }
      return JSONWriter.storeDigits(UInt64(v), at: p)
    }
  }

  /// `v` with exactly `decimals` digits after the point (rounded half away
  /// from zero), or `null` when not finite.
  ///
  /// Koi writes 2 decimals (money) and 4 (probabilities, scores) by the
  /// million, so each has its own copy of the body with the count fixed:
  /// the power of ten, the digit loops and the room to make are then
  /// constants. (`@inline(__always)` on this function was not enough:
  /// built that way, a loop of record writers still called it.)
  public mutating func number(_ v: Double, decimals: Int) {
    switch decimals {
    case 2: fixedNumber(v, decimals: 2)
    case 4: fixedNumber(v, decimals: 4)
    default: fixedNumber(v, decimals: decimals)
    }
  }

  @inline(__always)
  private mutating func fixedNumber(_ v: Double, decimals: Int) {
    precondition(decimals >= 0 && decimals <= 9, "0 to 9 decimals")
    let scaled = v * Double(JSONWriter.powersOfTen[decimals])
    // Below 2^52 ≈ 4.5e15 a double may have a fraction; from there to
    // 9e15 it is a whole number, so the bound holds before rounding as
    // after it. NaN and the infinities fail it too.
    guard abs(scaled) < 9.0e15 else { return numberOutOfRange(v) }
    let q = JSONWriter.roundedHalfAwayFromZero(scaled)
    if decimals == FractionDigits.decimals && UInt64(bitPattern: q) <= UInt64(FractionDigits.largest) {
      // A probability (or another number from 0 to 1): its text from the
      // table, one 8-byte copy of which the first 6 count.
      let text = UnsafeRawPointer(fractionDigits + FractionDigits.stride &* Int(q))
      element(maxCount: 8) { p in
        UnsafeMutableRawPointer(p).storeBytes(of: text.loadUnaligned(as: UInt64.self), as: UInt64.self)
        return 6
      }
      return
    }
    // A sign, at most 16 integer digits (|q| < 9e15), the point, 9 decimals.
    element(maxCount: 27) { p in
      guard q < 0 else { return JSONWriter.storeDigits(UInt64(q), decimals: decimals, at: p) }
      p[0] = 45
      return 1 + JSONWriter.storeDigits(q.magnitude, decimals: decimals, at: p + 1)
    }
  }

  /// `number(v, decimals:)` of a `v` that is not finite (`null`) or too
  /// large to scale (Swift's shortest text for it).
  private mutating func numberOutOfRange(_ v: Double) {
    if v.isFinite { verbatim("\(v)") } else { null() }
  }

  /// The value a reader gets back from `number(v, decimals:)`'s text: nil
  /// for the `null` of a value that is not finite, else the double nearest
  /// the written decimal. That is `q / 10^decimals` divided in floating
  /// point: `q` (below 9e15) and the power of ten are exact doubles and
  /// division rounds correctly, as `strtod` does. So report.html, made from
  /// a run's columns (`CustomerAggregates(customerIDs:fields:…)`), sums the
  /// same doubles as when it reads customers.jsonl.
  static func valueAsRead(_ v: Double, decimals: Int) -> Double? {
    guard v.isFinite else { return nil }
    let p = Double(JSONWriter.powersOfTen[decimals])
    let scaled = v * p
    guard abs(scaled) < 9.0e15 else { return v }  // written as `"\(v)"`, which reads back as v
    return Double(roundedHalfAwayFromZero(scaled)) / p
  }

  /// `x.rounded(.toNearestOrAwayFromZero)` as an integer, for |x| < 9e15.
  /// Without SSE4.1 (the x86-64 baseline Koi is built for) that rounding is a
  /// call to libm's `round`, 4% of writing customers.jsonl at 10M rows; the
  /// truncation here is one instruction, and `x − q` is exact (q is x
  /// without its fraction), so the comparison with one half is too. The
  /// comparisons are read from the signs of `fraction − ½` and `−½ −
  /// fraction` (+0 when equal), not branched on: a probability's fraction
  /// is as likely below a half as above, so the branch was mispredicted
  /// half the time (4% of formatting records, in a loop of them).
  @inline(__always)
  static func roundedHalfAwayFromZero(_ x: Double) -> Int64 {
    let q = Int64(x)
    let fraction = x - Double(q)
    let up = Int64((fraction - 0.5).bitPattern >> 63 ^ 1)
    let down = Int64((-0.5 - fraction).bitPattern >> 63 ^ 1)
    return q &+ up &- down
  }

  /// A day number as a `"YYYY-MM-DD"` string. Only four-digit years are
  /// written: every date Koi outputs is an input date (checked on reading)
  /// or a prediction bounded by a horizon, so another is a programming error.
  /// A day of `DateDigits`' years is copied from its table.
  public mutating func date(_ day: Int32) {
    let i = Int(day) &- Int(DateDigits.firstDay)
    guard UInt(bitPattern: i) < UInt(DateDigits.dayCount) else { return calendarDate(day) }
    let digits = UnsafeRawPointer(dateDigits + DateDigits.stride &* i)
    element(maxCount: 12) { p in
      let text = UnsafeMutableRawPointer(p)
      text.storeBytes(of: 34, as: UInt8.self)
      text.storeBytes(of: digits.loadUnaligned(as: UInt64.self), toByteOffset: 1, as: UInt64.self)
      text.storeBytes(of: digits.loadUnaligned(fromByteOffset: 8, as: UInt16.self), toByteOffset: 9, as: UInt16.self)
      text.storeBytes(of: 34, toByteOffset: 11, as: UInt8.self)
      return 12
    }
  }

  /// `date(day)` from the calendar, for a day outside `DateDigits`' years.
  private mutating func calendarDate(_ day: Int32) {
    precondition(DayNumber.fourDigitYears.contains(day), "date \(DayNumber.format(day)) has no four-digit year")
    let (y, m, d) = DayNumber.fourDigitCivil(day)
    element(maxCount: 12) { p in
      let pairs = JSONWriter.digitPairs.utf8Start
      // `v` is 0…99: the year's halves (0…9999), the month and the day.
      func storePair(_ v: Int, at i: Int) { p[i] = pairs[2 * v]; p[i + 1] = pairs[2 * v + 1] }
      p[0] = 34
      storePair(y / 100, at: 1); storePair(y % 100, at: 3)
      p[5] = 45; storePair(m, at: 6)
      p[8] = 45; storePair(d, at: 9)
      p[11] = 34
      return 12
    }
  }

  /// String `i` of `literals`, already encoded: for names written once per
  /// record.
  mutating func encodedString(_ literals: JSONStringLiterals, _ i: Int) {
    let range = literals.ranges[i]
    literals.bytes.withUnsafeBufferPointer { bytes in
      element(maxCount: range.count) { p in
        p.update(from: bytes.baseAddress! + range.lowerBound, count: range.count)  // ≥ 2 quotes: never empty
        return range.count
      }
    }
  }

  /// Writes `text` as it is (JSON tokens such as `true`).
  private mutating func verbatim(_ text: String) {
    var text = text
    text.withUTF8 { text in
      element(maxCount: text.count) { p in
        p.update(from: text.baseAddress!, count: text.count)  // never empty
        return text.count
      }
    }
  }

  // MARK: Storage

  /// Stores one key or value of at most `maxCount` bytes, after a comma
  /// unless it follows a key or opens its container.
  @inline(__always)
  private mutating func element(maxCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
    let comma = commaIsDue()
    store(maxCount: maxCount + 1) { p in
      guard comma else { return body(p) }
      p[0] = 44
      return 1 + body(p + 1)
    }
  }

  @inline(__always)
  private mutating func commaIsDue() -> Bool {
    if afterKey { afterKey = false; return false }
    guard depth > 0 else { return false }
    let first = firstBits & 1 == 1
    firstBits &= ~1
    return !first
  }

  /// Lets `body` store at most `maxCount` bytes at the end of the text and
  /// returns how many it stored. The room is made first, so `body` writes
  /// within `storage` whenever it keeps to `maxCount`.
  @inline(__always)
  private mutating func store(maxCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
    if capacity - count < maxCount { grow(toHold: count + maxCount) }
    let stored = body(storage + count)
    assert(stored <= maxCount, "stored past the room made for it")
    count += stored
  }

  /// Moves the text to storage of at least `needed` bytes (twice the
  /// capacity, if that is more).
  private mutating func grow(toHold needed: Int) {
    let larger = max(needed, 2 * capacity)
    let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
    moved.initialize(from: storage, count: count)
    storage.deallocate()
    storage = moved
    capacity = larger
  }

  /// Stores `v` / 10^`decimals` with exactly `decimals` digits after the
  /// point and at least one before it; returns how many bytes. Filled from
  /// the last digit two at a time (`v % 100` and `v / 100` are a multiply
  /// and a shift each), so it needs no division by a run-time power of ten.
  @inline(__always)
  fileprivate static func storeDigits(_ v: UInt64, decimals: Int = 0, at p: UnsafeMutablePointer<UInt8>) -> Int {
    let digits = max(digitCount(v), decimals + 1)
    let length = decimals > 0 ? digits + 1 : digits
    let pairs = digitPairs.utf8Start
    var v = v
    var i = length
    func storePair() {
      let r = Int(truncatingIfNeeded: v % 100)
      v /= 100
      i -= 2
      p[i] = pairs[2 * r]; p[i + 1] = pairs[2 * r + 1]
    }
    func storeDigit() {
      i -= 1
      p[i] = 48 &+ UInt8(truncatingIfNeeded: v % 10)
      v /= 10
    }
    if decimals > 0 {
      for _ in 0..<decimals / 2 { storePair() }
      if decimals % 2 == 1 { storeDigit() }
      i -= 1
      p[i] = 46
    }
    // `i` is now the number of integer digits.
    while i >= 2 { storePair() }
    if i == 1 { storeDigit() }
    return length
  }

  /// The number of decimal digits of `v` (1 for 0). `v | 1` has `b`
  /// significant bits, so it lies in [2^(b − 1), 2^b) and has g =
  /// ⌊b × log10 2⌋ digits, or g + 1 from 10^g on; `b × 1233 >> 12` is g for
  /// every b up to 64.
  @inline(__always)
  static func digitCount(_ v: UInt64) -> Int {
    let bits = UInt64.bitWidth - (v | 1).leadingZeroBitCount
    let guess = (bits &* 1233) >> 12
    return (v | 1) < powersOfTen[guess] ? guess : guess + 1
  }

  /// 10^0 … 10^19, every power of ten a `UInt64` holds.
  /// Written out, so the compiler lays the array down as constant data:
  /// computed (`map` and `reduce`), every read went through `swift_once`,
  /// a call per number written (2% of writing customers.jsonl).
  private static let powersOfTen: [UInt64] = [
    1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
    100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
    10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
  ]

  /// "00" to "99", two ASCII digits each.
  private static let digitPairs: StaticString = """
    00010203040506070809101112131415161718192021222324252627282930313233343536373839\
    40414243444546474849505152535455565758596061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899
    """

  /// Stores `utf8` as a JSON string literal, quotes included (at most
  /// 6 bytes per input byte, plus 2); returns how many bytes.
  private static func storeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, at p: UnsafeMutablePointer<UInt8>) -> Int {
    let hex: StaticString = "0123456789abcdef"
    var n = 0
    func put(_ b: UInt8) { p[n] = b; n += 1 }
    put(34)
    for b in utf8 {
      switch b {
      case 34: put(92); put(34)
      case 92: put(92); put(92)
      case 10: put(92); put(110)
      case 13: put(92); put(114)
      case 9: put(92); put(116)
      case 0..<32:
        put(92); put(117); put(48); put(48)
        put(hex.utf8Start[Int(b >> 4)]); put(hex.utf8Start[Int(b & 15)])
      default: put(b)
      }
    }
    put(34)
    return n
  }
}

/// `YYYY-MM-DD` of every day from 1970-01-01 to 2099-12-31, ten bytes a
/// day (475 KB), made once a process on first use. customers.jsonl writes
/// about 7 dates a customer (9.9 million at 10M rows), nearly all of
/// them in a few recent years. A copy from here took 107 samples of a
/// 10M-row run's formatting where the calendar arithmetic
/// (`fourDigitCivil`) and the digit pairs took 324 (2 kHz profiles).
enum DateDigits {
  // Literals, not calls: a constant is read without a `swift_once`. A
  // test checks them against `DayNumber.from`.
  /// 1970-01-01.
  static let firstDay: Int32 = 0
  /// Days to 2100-01-01.
  static let dayCount = 47_482
  static let stride = 10

  /// Never freed: one table for the process.
  nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
    let t = UnsafeMutablePointer<UInt8>.allocate(capacity: dayCount * stride)
    for i in 0..<dayCount {
      let (y, m, d) = DayNumber.fourDigitCivil(firstDay + Int32(i))
      let p = t + i * stride
      func pair(_ v: Int, at k: Int) { p[k] = UInt8(48 + v / 10); p[k + 1] = UInt8(48 + v % 10) }
      pair(y / 100, at: 0); pair(y % 100, at: 2); p[4] = 45
      pair(m, at: 5); p[7] = 45
      pair(d, at: 8)
    }
    return UnsafePointer(t)
  }()
}

/// `0.0000` to `1.0000`: `JSONWriter.storeDigits(q, decimals: 4)` for q =
/// 0…10,000, 8 bytes apart (80 KB), made once a process on first use.
/// Most 4-decimal numbers of customers.jsonl are probabilities: about 9 a
/// customer from 0 to 1 (13.1 million at 10M rows).
enum FractionDigits {
  static let decimals = 4
  /// 10^decimals: the table's last q, 1.0000.
  static let largest = 10_000
  static let stride = 8

  /// Never freed: one table for the process.
  nonisolated(unsafe) static let table: UnsafePointer<UInt8> = {
    let t = UnsafeMutablePointer<UInt8>.allocate(capacity: (largest + 1) * stride)
    t.initialize(repeating: 0, count: (largest + 1) * stride)
    for q in 0...largest { _ = JSONWriter.storeDigits(UInt64(q), decimals: decimals, at: t + q * stride) }
    return UnsafePointer(t)
  }()
}

/// Strings encoded once as JSON string literals, quotes included, all in
/// one buffer (treatment and tag names, written for every customer): an
/// array per name was retained and released for every record, on the same
/// reference count from every core at once.
struct JSONStringLiterals: Sendable {
  fileprivate let bytes: [UInt8]
  fileprivate let ranges: [Range<Int>]

  init(_ strings: [String]) {
    var w = JSONWriter(capacity: strings.reduce(2 * strings.count) { $0 + $1.utf8.count })
    var ranges: [Range<Int>] = []
    ranges.reserveCapacity(strings.count)
    for s in strings {
      let start = w.byteCount
      w.string(s)
      ranges.append(start..<w.byteCount)
    }
    bytes = w.bytes
    self.ranges = ranges
  }
}

/// Text taken out of a `JSONWriter` (`takeText()`); its memory is freed with it.
final class JSONText {
  private let storage: UnsafeMutablePointer<UInt8>
  private let count: Int

  fileprivate init(storage: UnsafeMutablePointer<UInt8>, count: Int) {
    self.storage = storage
    self.count = count
  }

  deinit { storage.deallocate() }

  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }
}
