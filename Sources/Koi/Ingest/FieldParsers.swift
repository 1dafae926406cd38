/// Parsers for the field forms found in clinic CRM exports, working on raw
/// UTF-8 bytes so the hot path creates no strings.
enum FieldParsers {
  /// Earliest and latest accepted years. Anything outside is a typo in a
  /// clinic export (a birth year, 1900-01-00 from an empty Excel cell), not a
  /// purchase, and is rejected as `bad_date`.
  static let yearRange = 1970...2199
  /// Excel's day 0 (1899-12-30) as a day number: serial dates count from it.
  static let excelEpoch = DayNumber.from(year: 1899, month: 12, day: 30)

  @inline(__always)
  static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

  /// Parses a date (time of day optional, validated, then dropped):
  ///
  ///     2025-03-05   2025/3/5   2025.3.5   20250305
  ///     2025-03-05 14:22   2025-03-05 14:22:01   2025-03-05T14:22:01.250
  ///     45721 (an Excel serial day number, 1982–2199)
  ///
  /// Returns the day number, or nil when the text is none of these or names
  /// an impossible date or time.
  static func parseDate(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
    parseISODate(f) ?? parseDateByGeneralRules(f)
  }

  /// `parseDate` for every form, without the fast path for the commonest.
  static func parseDateByGeneralRules(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
    var i = 0
    let n = f.count
    func number(maxDigits: Int) -> Int? {
      var v = 0, k = 0
      while i < n, k < maxDigits, isDigit(f[i]) {
        v = v * 10 + Int(f[i] &- 48); i += 1; k += 1
      }
      return k == 0 ? nil : v
    }
    // All digits: YYYYMMDD or an Excel serial number.
    var allDigits = n > 0
    for b in f where !isDigit(b) { allDigits = false; break }
    if allDigits {
      if n == 8 {
        guard let v = number(maxDigits: 8) else { return nil }
        let y = v / 10000, m = (v / 100) % 100, d = v % 100
        guard yearRange.contains(y), DayNumber.isValid(year: y, month: m, day: d) else { return nil }
        return DayNumber.from(year: y, month: m, day: d)
      }
      if n == 5 {
        guard let v = number(maxDigits: 5) else { return nil }
        let day = excelEpoch + Int32(v)
        guard yearRange.contains(DayNumber.civil(day).year) else { return nil }
        return day
      }
      return nil
    }
    guard let y = number(maxDigits: 4), i == 4, i < n else { return nil }
    let sep = f[i]
    guard sep == 45 || sep == 47 || sep == 46 else { return nil }  // - / .
    i += 1
    guard let m = number(maxDigits: 2), i < n, f[i] == sep else { return nil }
    i += 1
    guard let d = number(maxDigits: 2) else { return nil }
    guard yearRange.contains(y), DayNumber.isValid(year: y, month: m, day: d) else { return nil }
    if i < n {
      // Optional time: (space | T) H[H]:MM[:SS[.fff]]
      guard f[i] == 32 || f[i] == 84 else { return nil }
      i += 1
      while i < n, f[i] == 32 { i += 1 }
      guard let hh = number(maxDigits: 2), hh < 24, i < n, f[i] == 58 else { return nil }
      i += 1
      guard let mm = number(maxDigits: 2), mm < 60 else { return nil }
      if i < n, f[i] == 58 {
        i += 1
        guard let ss = number(maxDigits: 2), ss < 60 else { return nil }
        if i < n, f[i] == 46 {
          i += 1
          guard number(maxDigits: 9) != nil else { return nil }
        }
      }
      guard i == n else { return nil }
    }
    return DayNumber.from(year: y, month: m, day: d)
  }

  /// The fixed-width form of nearly every export's dates, `yyyy-mm-dd`
  /// alone or followed by ` HH:MM` or ` HH:MM:SS` (or `T` for the space),
  /// read without the general parser's search: its day number, or nil for
  /// any other text and for an impossible date or time in this form, which
  /// `parseDate` then reads by the general rules (and rejects). Where it
  /// gives a day, it is the general rules' day (`FieldParsersTests`
  /// compares the two).
  @inline(__always)
  static func parseISODate(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
    hasISOLengthAndTime(f) ? isoDay(f) : nil
  }

  /// Whether `f` has the fixed-width form's length and, past its first
  /// ten bytes, a valid time of day (` HH:MM`, ` HH:MM:SS`, or `T`).
  @inline(__always)
  static func hasISOLengthAndTime(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = f.count
    guard n == 10 || n == 16 || n == 19 else { return false }
    guard n > 10 else { return true }
    guard f[10] == 32 || f[10] == 84, f[13] == 58, let hh = twoDigits(f, 11), hh < 24, let mm = twoDigits(f, 14),
      mm < 60
    else { return false }
    if n == 19 {
      guard f[16] == 58, let ss = twoDigits(f, 17), ss < 60 else { return false }
    }
    return true
  }

  /// The day of the first ten bytes of `f` as `yyyy-mm-dd`, or nil.
  @inline(__always)
  static func isoDay(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
    guard f[4] == 45, f[7] == 45, let century = twoDigits(f, 0), let yy = twoDigits(f, 2), let m = twoDigits(f, 5),
      let d = twoDigits(f, 8)
    else { return nil }
    let y = century * 100 + yy
    guard yearRange.contains(y), DayNumber.isValid(year: y, month: m, day: d) else { return nil }
    return DayNumber.from(year: y, month: m, day: d)
  }

  @inline(__always)
  private static func twoDigits(_ f: UnsafeBufferPointer<UInt8>, _ k: Int) -> Int? {
    let a = f[k] &- 48, b = f[k + 1] &- 48
    return a < 10 && b < 10 ? Int(a) * 10 + Int(b) : nil
  }

  /// `parseDate` for the rows of one chunk in order, remembering the last
  /// fixed-width date it read: an export sorted by time repeats the day of
  /// the row before (96% of the benchmark's rows, whose times differ), and
  /// then only the time is checked and the day reused. The same ten bytes
  /// always name the same day, so every answer is `parseDate`'s
  /// (`FieldParsersTests` compares them).
  struct DateReader {
    /// The last fixed-width date's first ten bytes, as the words at
    /// offsets 0 and 2, and its day; nil before the first.
    private var last: (head: UInt64, tail: UInt64, day: Int32)?

    @inline(__always)
    mutating func parse(_ f: UnsafeBufferPointer<UInt8>) -> Int32? {
      guard let base = f.baseAddress, hasISOLengthAndTime(f) else { return parseDateByGeneralRules(f) }
      let raw = UnsafeRawPointer(base)
      let head = raw.loadUnaligned(as: UInt64.self), tail = raw.loadUnaligned(fromByteOffset: 2, as: UInt64.self)
      if let last, last.head == head, last.tail == tail { return last.day }
      guard let day = isoDay(f) else { return parseDateByGeneralRules(f) }
      last = (head, tail, day)
      return day
    }
  }

  /// Parses a money amount:
  ///
  ///     1280   1280.5   -300.00   +12   1,280.00   ¥1,280.00   ￥99
  ///     CNY 1280   RMB1280   -¥300   ¥-300   (300.00)   1280元
  ///
  /// At most 15 significant digits, so the value `mantissa / 10^decimals`
  /// is the correctly rounded double of the decimal text. Thousands
  /// separators must group the integer part in threes (`1,280`, not `1,2`). Returns nil for anything else.
  static func parseAmount(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
    parsePlainDecimal(f) ?? parseAmountByGeneralRules(f)
  }

  /// `parseAmount` for every form, without the fast path for the commonest.
  static func parseAmountByGeneralRules(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
    var i = 0
    var n = f.count
    var negative = false
    var parenthesised = false
    if n > 1, f[0] == 40, f[n - 1] == 41 {  // (300.00): accounting negative
      parenthesised = true
      i = 1; n -= 1
    }
    func skipSign() {
      if i < n, f[i] == 45 { negative.toggle(); i += 1 } else if i < n, f[i] == 43 { i += 1 }
    }
    skipSign()
    // Currency: ¥ (C2 A5), ￥ (EF BF A5), $, or three ASCII capitals.
    if i + 1 < n, f[i] == 0xC2, f[i + 1] == 0xA5 {
      i += 2
    } else if i + 2 < n, f[i] == 0xEF, f[i + 1] == 0xBF, f[i + 2] == 0xA5 {
      i += 3
    } else if i < n, f[i] == 36 {
      i += 1
    } else if i + 2 < n, f[i] &- 65 < 26, f[i + 1] &- 65 < 26, f[i + 2] &- 65 < 26 {
      i += 3
      while i < n, f[i] == 32 { i += 1 }
    }
    if !negative { skipSign() }
    // Trailing 元 (E5 85 83).
    if n - i >= 3, f[n - 3] == 0xE5, f[n - 2] == 0x85, f[n - 1] == 0x83 { n -= 3 }
    var mantissa: Int64 = 0
    var digits = 0, decimals = 0
    var seenPoint = false, lastWasDigit = false, anyDigit = false
    var sawComma = false, groupDigits = 0  // thousands groups: 1–3 digits, then exactly 3
    guard i < n, isDigit(f[i]) || f[i] == 46 else { return nil }
    while i < n {
      let b = f[i]
      if isDigit(b) {
        if digits > 0 || b != 48 { digits += 1 }
        guard digits <= 15 else { return nil }
        mantissa = mantissa &* 10 &+ Int64(b &- 48)
        if seenPoint { decimals += 1 } else { groupDigits += 1 }
        lastWasDigit = true
        anyDigit = true
      } else if b == 44 {  // thousands separator
        guard !seenPoint, lastWasDigit, i + 1 < n, isDigit(f[i + 1]) else { return nil }
        guard sawComma ? groupDigits == 3 : groupDigits <= 3 else { return nil }
        sawComma = true
        groupDigits = 0
        lastWasDigit = false
      } else if b == 46 {
        guard !seenPoint, !sawComma || groupDigits == 3 else { return nil }
        seenPoint = true
        lastWasDigit = false
      } else {
        return nil
      }
      i += 1
    }
    guard anyDigit, seenPoint || !sawComma || groupDigits == 3 else { return nil }
    var value = Double(mantissa)
    if decimals > 0 { value /= powersOfTen[decimals] }
    if negative != parenthesised { value = -value }
    return value == 0 ? 0 : value
  }

  /// The form of nearly every amount, `[-]digits[.digits]` with at most 15
  /// digits in all, read without the general parser's checks for signs,
  /// currencies and separators: its value, or nil for any other text, which
  /// `parseAmount` then reads. The value is the general parser's to the
  /// bit (the same mantissa divided by the same power of ten, negated the
  /// same way; `FieldParsersTests` compares bit patterns).
  @inline(__always)
  static func parsePlainDecimal(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
    let n = f.count
    guard n > 0, n <= 16 else { return nil }
    let negative = f[0] == 45
    var i = negative ? 1 : 0
    var mantissa: Int64 = 0
    var digits = 0
    var point = -1  // digits before the decimal point, once seen
    while i < n {
      let d = f[i] &- 48
      if d < 10 {
        mantissa = mantissa &* 10 &+ Int64(d)
        digits += 1
      } else if f[i] == 46 && point < 0 && digits > 0 {
        point = digits
      } else {
        return nil
      }
      i += 1
    }
    guard digits > 0, digits <= 15, point < digits else { return nil }
    var value = Double(mantissa)
    if point >= 0 { value /= powersOfTen[digits - point] }
    if negative { value = -value }
    return value == 0 ? 0 : value
  }

  static let powersOfTen: [Double] = (0...22).map { k in
    var p = 1.0
    for _ in 0..<k { p *= 10 }
    return p
  }

  /// Parses a promotion flag. Returns 1, 0, or nil when unrecognised.
  /// Accepted (case-insensitive): 1/0, true/false, yes/no, y/n, 是/否, 有/无.
  static func parseFlag(_ f: UnsafeBufferPointer<UInt8>) -> Int8? {
    if f.count == 1 {
      switch f[0] | 0x20 {  // ASCII lower case; digits are unchanged
      case 49: return 1  // "1"
      case 48: return 0  // "0"
      case 121: return 1  // y
      case 110: return 0  // n
      default: return nil
      }
    }
    let s = String(decoding: f, as: UTF8.self).lowercased()
    switch s {
    case "true", "yes", "是", "有": return 1
    case "false", "no", "否", "无": return 0
    default: return nil
    }
  }

  /// True for the spellings of "no value" in an optional column.
  static func isMissing(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    switch f.count {
    case 0: return true
    case 1: return f[0] == 45  // "-"
    case 2: return (f[0] | 0x20) == 110 && (f[1] | 0x20) == 97  // "na"
    case 3:
      return ((f[0] | 0x20) == 110 && f[1] == 47 && (f[2] | 0x20) == 97)  // "n/a"
        || ((f[0] | 0x20) == 110 && (f[1] | 0x20) == 97 && (f[2] | 0x20) == 110)  // "nan"
    case 4:
      return (f[0] | 0x20) == 110 && (f[1] | 0x20) == 117 && (f[2] | 0x20) == 108 && (f[3] | 0x20) == 108  // null
    default: return false
    }
  }
}
