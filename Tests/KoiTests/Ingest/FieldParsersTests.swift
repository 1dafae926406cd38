import Testing

@testable import Koi

@Suite struct FieldParsersTests {
  func date(_ s: String) -> Int32? { Array(s.utf8).withUnsafeBufferPointer { FieldParsers.parseDate($0) } }
  func amount(_ s: String) -> Double? { Array(s.utf8).withUnsafeBufferPointer { FieldParsers.parseAmount($0) } }

  static let march5 = DayNumber.from(year: 2025, month: 3, day: 5)

  @Test(arguments: [
    "2025-03-05", "2025/3/5", "2025/03/05", "2025.3.5", "20250305", "2025-03-05 14:22",
    "2025-03-05 14:22:01", "2025/3/5 14:22", "2025-03-05T14:22:01", "2025-03-05T14:22:01.250",
    "2025-3-5 9:05", "45721",
  ])
  func acceptsEveryDocumentedDateForm(_ text: String) {
    #expect(date(text) == Self.march5, "\(text)")
  }

  @Test(arguments: [
    "", "2025-13-01", "2025-02-29", "2025-03-32", "2025-03", "03/05/2025", "2025-03-05 25:00",
    "2025-03-05 14:60", "2025-03-05x", "1899-12-31", "2025-03-05 14", "abc", "2025/3-5", "202503051",
  ])
  func rejectsImpossibleOrUnknownDates(_ text: String) {
    #expect(date(text) == nil, "\(text)")
  }

  @Test func leapDayIsAcceptedInLeapYearsOnly() {
    #expect(date("2024-02-29") == DayNumber.from(year: 2024, month: 2, day: 29))
    #expect(date("2100-02-29") == nil)
  }

  @Test(arguments: [
    ("1280", 1280.0), ("1280.5", 1280.5), ("-300.00", -300), ("+12", 12), ("1,280.00", 1280),
    ("¥1,280.00", 1280), ("￥99", 99), ("CNY 1280", 1280), ("RMB1280", 1280), ("-¥300", -300),
    ("¥-300", -300), ("(300.00)", -300), ("1280元", 1280), ("0.1", 0.1), (".5", 0.5),
    ("1,234,567.89", 1234567.89), ("$12.30", 12.3), ("0", 0), ("-0", 0),
  ])
  func acceptsEveryDocumentedAmountForm(_ text: String, _ value: Double) {
    #expect(amount(text) == value, "\(text)")
  }

  @Test(arguments: [
    "", "abc", "12O0", "1.2.3", "1,2", "1,2345", "1234,567", ",100", "100,", "¥", "-", "1e5", "12 34",
    "1234567890123456",
  ])
  func rejectsMalformedAmounts(_ text: String) {
    #expect(amount(text) == nil, "\(text)")
  }

  @Test func flagsAndMissingValues() {
    func flag(_ s: String) -> Int8? { Array(s.utf8).withUnsafeBufferPointer { FieldParsers.parseFlag($0) } }
    func missing(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer { FieldParsers.isMissing($0) } }
    for s in ["1", "true", "YES", "y", "是", "有"] { #expect(flag(s) == 1, "\(s)") }
    for s in ["0", "False", "no", "N", "否", "无"] { #expect(flag(s) == 0, "\(s)") }
    #expect(flag("maybe") == nil)
    for s in ["", "-", "NA", "n/a", "NaN", "null"] { #expect(missing(s), "\(s)") }
    #expect(!missing("0"))
  }

  @Test func dayNumbersRoundTrip() {
    for d: Int32 in [-800_000, -1, 0, 1, 19_000, 20_152, 100_000] {
      let (y, m, dd) = DayNumber.civil(d)
      #expect(DayNumber.from(year: y, month: m, day: dd) == d)
    }
    #expect(DayNumber.from(year: 1970, month: 1, day: 1) == 0)
    #expect(DayNumber.format(DayNumber.from(year: 2025, month: 3, day: 5)) == "2025-03-05")
    #expect(DayNumber.parse("2025-02-29") == nil)
  }
}

/// The fast paths for the commonest field forms against the general rules
/// they stand in for: wherever a fast path gives a value, it is the general
/// rules' value to the bit.
@Suite struct FieldParserFastPathTests {
  func bytes<T>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
    Array(s.utf8).withUnsafeBufferPointer(body)
  }

  static func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

  @Test func isoDatesGiveTheGeneralRulesDay() {
    var texts: [String] = []
    // Every day of the accepted years and a few days on either side,
    // impossible days of the month included, alone and with times.
    for y in [1969, 1970, 1999, 2000, 2023, 2024, 2100, 2199, 2200] {
      for m in 0...13 {
        for d in 0...32 {
          let day = "\(y)-\(Self.two(m))-\(Self.two(d))"
          texts.append(day)
          if d == 15 || d == 29 {
            for t in [" 00:00", " 23:59", "T13:16", " 24:00", " 12:60", " 13:16:59", "T13:16:60", " 1:16", " 13:16:5"] {
              texts.append(day + t)
            }
          }
        }
      }
    }
    texts += ["2023-01-12x13:16", "2023-01-12 13-16", "2023/01/12", "2023-01-12 13:16:05.5", "2023-1-12 13:16:05"]
    var fast = 0
    for text in texts {
      let general = bytes(text) { FieldParsers.parseDateByGeneralRules($0) }
      if let day = bytes(text, { FieldParsers.parseISODate($0) }) {
        fast += 1
        #expect(day == general, "\(text)")
      }
      #expect(bytes(text) { FieldParsers.parseDate($0) } == general, "\(text)")
    }
    // The form takes the fast path: the export's own, and the valid days of the seven accepted years above.
    #expect(
      bytes("2023-01-12 13:16") { FieldParsers.parseISODate($0) } == DayNumber.from(year: 2023, month: 1, day: 12))
    #expect(fast > 6 * 366)
  }

  /// `DateReader` reuses the day of a repeated date: its answers are
  /// `parseDate`'s for a stream of repeats, near repeats (one byte or the
  /// time changed, a form that is not fixed-width between them) and
  /// invalid dates.
  @Test func dateReaderGivesParseDatesDays() {
    var g = SeededGenerator(seed: 5)
    let forms = [
      "2023-01-12", "2023-01-12 13:16", "2023-01-12 23:59:59", "2023-01-12T08:00", "2023-01-13 13:16",
      "2023-01-12 24:00", "2023-01-12 13:60", "2023-02-29 10:00", "2024-02-29 10:00", "2023-01-1x 13:16",
      "2023/01/12", "20230112", "44938", "", "2023-01-12x13:16", "1969-12-31", "2199-12-31 00:00",
    ]
    var reader = FieldParsers.DateReader()
    var repeats = 0
    var previous = ""
    for _ in 0..<5_000 {
      let text = Bool.random(using: &g) ? previous : forms.randomElement(using: &g)!  // forms is not empty
      if text == previous { repeats += 1 }
      let expected = bytes(text) { FieldParsers.parseDate($0) }
      #expect(bytes(text) { reader.parse($0) } == expected, "\(text)")
      previous = text
    }
    #expect(repeats > 2_000)
  }

  @Test func plainDecimalsGiveTheGeneralRulesBits() {
    var g = SeededGenerator(seed: 18)
    var texts = ["0", "-0", "0.00", "-0.00", "370.00", "3800", "007", "0.1", "-", ".5", "5.", "1.2.3", "-.5", "--5"]
    for _ in 0..<20_000 {
      let length = Int.random(in: 1...16, using: &g)
      var digits = (0..<length).map { _ in String(Int.random(in: 0...9, using: &g)) }.joined()
      if Bool.random(using: &g) {
        let point = Int.random(in: 0...length, using: &g)
        digits.insert(".", at: digits.index(digits.startIndex, offsetBy: point))
      }
      texts.append(Bool.random(using: &g) ? "-" + digits : digits)
    }
    var fast = 0
    for text in texts {
      let general = bytes(text) { FieldParsers.parseAmountByGeneralRules($0) }
      if let value = bytes(text, { FieldParsers.parsePlainDecimal($0) }) {
        fast += 1
        #expect(value.bitPattern == general?.bitPattern, "\(text)")
      }
      #expect(bytes(text) { FieldParsers.parseAmount($0) }?.bitPattern == general?.bitPattern, "\(text)")
    }
    #expect(fast > texts.count / 2)
  }
}
