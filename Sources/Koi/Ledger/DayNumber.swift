/// Whole days since 1970-01-01 in the proleptic Gregorian calendar, the unit
/// of time everywhere in Koi.
///
/// Conversions follow Howard Hinnant's `days_from_civil` / `civil_from_days`
/// algorithms (exact for every Int32 day).
public enum DayNumber {
  /// The day number of a civil date. `month` 1–12, `day` 1–31 (not checked
  /// against the month length; use `isValid` first).
  @inlinable
  public static func from(year: Int, month: Int, day: Int) -> Int32 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return Int32(era * 146_097 + doe - 719_468)
  }

  /// The civil date of a day number.
  static func civil(_ dayNumber: Int32) -> (year: Int, month: Int, day: Int) {
    let z = Int(dayNumber) + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }

  /// `civil(day)` for a day of `fourDigitYears` (others give meaningless
  /// dates), with unsigned multiplications and shifts instead of signed
  /// divisions: Neri and Schneider, "Euclidean affine functions and their
  /// application to calendar algorithms", Software: Practice and Experience
  /// 53(4), 2023, with the day count shifted by one 400-year era so that it
  /// is never negative. About twice as fast as `civil`, for the dates of
  /// customers.jsonl (a test compares the two on every day of
  /// `fourDigitYears`).
  static func fourDigitCivil(_ day: Int32) -> (year: Int, month: Int, day: Int) {
    // Days since 0000-03-01 of the proleptic Gregorian calendar, plus one era.
    let n = UInt32(bitPattern: day &+ (719_468 + 146_097))
    // Century, and day of the century.
    let n1 = 4 &* n &+ 3
    let century = n1 / 146_097
    let dayOfCentury = n1 % 146_097 / 4
    // Year of the century (the high half of the product) and day of the year.
    let p2 = UInt64(4 &* dayOfCentury &+ 3) &* 2_939_745
    let yearOfCentury = UInt32(truncatingIfNeeded: p2 >> 32)
    let dayOfYear = UInt32(truncatingIfNeeded: p2) / 2_939_745 / 4
    // Month (from March, 3…14) and day of the month.
    let n3 = 2141 &* dayOfYear &+ 197_913
    let month = n3 >> 16
    let dayOfMonth = (n3 & 0xFFFF) / 2141 + 1
    // January and February belong to the next calendar year.
    let january = dayOfYear >= 306
    let year = Int(100 &* century &+ yearOfCentury) - 400 + (january ? 1 : 0)
    return (year, Int(january ? month - 12 : month), Int(dayOfMonth))
  }

  @inlinable
  public static func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  @inlinable
  public static func isValid(year: Int, month: Int, day: Int) -> Bool {
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year: year, month: month)
  }

  /// Days whose year has four digits, 0000-01-01 … 9999-12-31: the only
  /// ones Koi writes into its outputs (input dates are checked on reading,
  /// predicted dates are bounded by a horizon).
  static let fourDigitYears: ClosedRange<Int32> = from(year: 0, month: 1, day: 1)...from(year: 9999, month: 12, day: 31)

  /// `YYYY-MM-DD`; outside `fourDigitYears` the ISO 8601 expanded form with
  /// a sign (`+10000-01-01`), never a year cut to four digits.
  public static func format(_ dayNumber: Int32) -> String {
    let (y, m, d) = civil(dayNumber)
    guard fourDigitYears.contains(dayNumber) else {
      return (y < 0 ? "-" : "+") + "\(abs(y))-\(twoDigits(m))-\(twoDigits(d))"
    }
    var bytes = [UInt8](repeating: 0, count: 10)
    write(y, m, d, into: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// A time of day, `seconds` after midnight (0 ..< 86,400), as
  /// `HH:MM:SS`, or with another `separator` (`HHMMSS` with none).
  static func formatTime(secondsOfDay seconds: Int, separator: String = ":") -> String {
    [seconds / 3600, seconds / 60 % 60, seconds % 60].map(twoDigits).joined(separator: separator)
  }

  /// `v` (0…99) with two digits.
  private static func twoDigits(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

  static func write(_ y: Int, _ m: Int, _ d: Int, into b: inout [UInt8]) {
    b[0] = UInt8(48 + (y / 1000) % 10); b[1] = UInt8(48 + (y / 100) % 10)
    b[2] = UInt8(48 + (y / 10) % 10); b[3] = UInt8(48 + y % 10)
    b[4] = 45
    b[5] = UInt8(48 + m / 10); b[6] = UInt8(48 + m % 10)
    b[7] = 45
    b[8] = UInt8(48 + d / 10); b[9] = UInt8(48 + d % 10)
  }

  /// Parses exactly `YYYY-MM-DD` (the form Koi writes and takes on its
  /// command line). Returns nil for anything else or an impossible date.
  public static func parse(_ text: String) -> Int32? {
    let u = Array(text.utf8)
    guard u.count == 10, u[4] == 45, u[7] == 45 else { return nil }
    var v = [Int](repeating: 0, count: 3)
    for (k, r) in [0..<4, 5..<7, 8..<10].enumerated() {
      for i in r {
        guard u[i] >= 48 && u[i] <= 57 else { return nil }
        v[k] = v[k] * 10 + Int(u[i] - 48)
      }
    }
    guard isValid(year: v[0], month: v[1], day: v[2]) else { return nil }
    return from(year: v[0], month: v[1], day: v[2])
  }
}
