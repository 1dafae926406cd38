import Foundation
import Testing

@testable import Koi

@Suite struct JSONWriterTests {
  func text(_ body: (inout JSONWriter) -> Void) -> String {
    var w = JSONWriter()
    body(&w)
    return String(decoding: w.bytes, as: UTF8.self)
  }

  @Test func fixedDecimalsNullsAndIntegers() {
    let s = text { w in
      w.beginArray()
      w.number(0, decimals: 2); w.number(1234.5, decimals: 2); w.number(-12.345, decimals: 3)
      w.number(-0.004, decimals: 2); w.number(.nan, decimals: 2); w.number(.infinity, decimals: 1)
      w.number(0.1 + 0.2, decimals: 6); w.int(-42); w.int(Int64.min); w.number(7, decimals: 0)
      w.endArray()
    }
    #expect(s == "[0.00,1234.50,-12.345,0.00,null,null,0.300000,-42,-9223372036854775808,7]")
  }

  @Test func objectsNestAndEscape() {
    let s = text { w in
      w.beginObject()
      w.key("a"); w.string("quote \" backslash \\ newline \n tab \t bell \u{07} 中文")
      w.key("b"); w.beginArray(); w.beginObject(); w.key("c"); w.null(); w.endObject(); w.bool(true); w.endArray()
      w.key("d"); w.date(DayNumber.from(year: 2025, month: 3, day: 5))
      w.endObject()
    }
    #expect(
      s == #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 中文","b":[{"c":null},true],"d":"2025-03-05"}"#)
  }

  @Test func growsPastItsCapacityAndStreamsInPieces() throws {
    func document(_ w: inout JSONWriter, streamingTo file: AtomicFile?) throws {
      w.beginArray()
      for i in 0..<1000 {
        w.beginObject(); w.key("i"); w.int(i); w.key("x"); w.number(Double(i) / 8, decimals: 3); w.endObject()
        if let file, w.byteCount >= 100 { try w.flush(to: file) }
      }
      w.endArray()
    }
    var whole = JSONWriter(capacity: 0)
    try document(&whole, streamingTo: nil)
    #expect(whole.bytes.starts(with: Array(#"[{"i":0,"x":0.000},{"i":1,"x":0.125},"#.utf8)))

    let dir = TemporaryDirectory()
    let file = try AtomicFile(path: dir.path("streamed.json"), streamed: true)
    var pieces = JSONWriter(capacity: 0)
    try document(&pieces, streamingTo: file)
    try pieces.flush(to: file)
    try file.commit()
    #expect(try Data(contentsOf: dir.url.appendingPathComponent("streamed.json")) == Data(whole.bytes))
  }

  /// `v` with `decimals` decimals as the writer formatted numbers before it
  /// stored digits in pairs: one digit at a time.
  static func reference(_ v: Double, decimals: Int) -> String {
    guard v.isFinite else { return "null" }
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (v * Double(scale)).rounded(.toNearestOrAwayFromZero)
    guard abs(scaled) < 9.0e15 else { return "\(v)" }
    let q = Int64(scaled)
    var digits = Array(String(q.magnitude))
    while digits.count < decimals + 1 { digits.insert("0", at: 0) }
    if decimals > 0 { digits.insert(".", at: digits.count - decimals) }
    return (q < 0 ? "-" : "") + String(digits)
  }

  @Test func numbersMatchTheDigitByDigitFormatting() {
    for decimals in 0...9 {
      for v in Self.numbers {
        let s = text { $0.number(v, decimals: decimals) }
        #expect(s == Self.reference(v, decimals: decimals), "\(v), \(decimals) decimals")
      }
    }
  }

  /// 4-decimal numbers from 0 to 1 are copied from a table: every value
  /// written as 0.0000 … 1.0000, the doubles next to each, the halves
  /// between them, and the values just outside.
  @Test func fourDecimalsFromZeroToOneMatchTheDigitByDigitFormatting() {
    for q in -2...10_002 {
      for x in [Double(q) / 10_000, (Double(q) + 0.5) / 10_000] {
        for v in [x, x.nextUp, x.nextDown] {
          let s = text { $0.number(v, decimals: 4) }
          if s != Self.reference(v, decimals: 4) { Issue.record("\(v): \(s)") }
        }
      }
    }
  }

  /// The rounding read from signs gives the standard library's rounding
  /// at halves (k + ½ for k below 1,000 and 2^j + ½ up to 2^51), the
  /// doubles either side of each, whole numbers and random values: a
  /// mistake in either sign test moves some of them.
  @Test func roundingHalfAwayFromZeroIsTheStandardLibrarys() {
    var values: [Double] = [0, -0.0, 0.49999999999999994, -0.49999999999999994]
    let halves = (0..<1_000).map { Double($0) + 0.5 } + (0...51).map { Double(UInt64(1) << $0) + 0.5 }
    for half in halves {
      for v in [half, half.nextUp, half.nextDown, half - 0.5] { values += [v, -v] }
    }
    var g = SeededGenerator(seed: 29)
    for _ in 0..<20_000 { values.append(Double.random(in: -1e6...1e6, using: &g)) }
    for v in values {
      #expect(JSONWriter.roundedHalfAwayFromZero(v) == Int64(v.rounded(.toNearestOrAwayFromZero)), "\(v)")
    }
  }

  /// What report.html sums when made from a run's columns is what `strtod`
  /// reads from the text, to the bit.
  @Test func valuesAsReadAreWhatTheTextReadsAs() {
    for decimals in 0...9 {
      for v in Self.numbers {
        let s = text { $0.number(v, decimals: decimals) }
        let read = s == "null" ? nil : strtod(s, nil)
        #expect(JSONWriter.valueAsRead(v, decimals: decimals)?.bitPattern == read?.bitPattern, "\(s)")
      }
    }
  }

  /// Edge cases (halves, the 9e15 bound, powers of ten, non-finite) and
  /// random values of several magnitudes.
  static let numbers: [Double] = {
    var values: [Double] = [
      0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.125, 0.005, 0.015, -0.004, 0.49999999999999994, 1e15, 4.5e15,
      -4.5e15, 8.999999999999998e15, 9e15, -9e15, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
      .nan, .infinity, -.infinity,
    ]
    for k in 0...16 {
      let p = (0..<k).reduce(1.0) { x, _ in x * 10 }
      values += [p, p - 1, p + 1, -p, (p - 1) / 100, p / 1000 + 0.5, p / 10_000 - 0.00005]
    }
    var g = SeededGenerator(seed: 18)
    for _ in 0..<20_000 {
      values.append(Double.random(in: -1...1, using: &g))
      values.append(Double.random(in: -1e6...1e6, using: &g))
      values.append(Double(Int.random(in: -1_000_000...1_000_000, using: &g)) / 200)
    }
    return values
  }()

  @Test func digitCountsAtPowersOfTwoAndTen() {
    var values: [UInt64] = [0, .max]
    for k in 0..<64 { values += [1 << k, (1 << k) - 1, (1 << k) + 1] }
    var p: UInt64 = 1
    for _ in 0...19 {
      values += [p - 1, p, p + 1]
      if p <= UInt64.max / 10 { p *= 10 }
    }
    for v in values { #expect(JSONWriter.digitCount(v) == String(v).count, "\(v)") }
  }

  @Test func datesAreTheirFormattedDayNumbers() {
    let days = DayNumber.fourDigitYears
    for day in stride(from: days.lowerBound, through: days.upperBound, by: 97) + [days.upperBound] {
      #expect(text { $0.date(day) } == "\"\(DayNumber.format(day))\"")
    }
  }

  @Test func tabledDatesAreTheCalendarsOnEveryDayAndAtTheEdges() {
    #expect(DateDigits.firstDay == DayNumber.from(year: 1970, month: 1, day: 1))
    #expect(Int(DayNumber.from(year: 2100, month: 1, day: 1) - DateDigits.firstDay) == DateDigits.dayCount)
    let last = DateDigits.firstDay + Int32(DateDigits.dayCount)
    // Every tabled day, and the untabled days on either side.
    for day in (DateDigits.firstDay - 3)...(last + 3) {
      let written = text { $0.date(day) }
      if written != "\"\(DayNumber.format(day))\"" { Issue.record("day \(day): \(written)") }
    }
  }

  @Test func encodedLiteralsAreWrittenAsTheirStrings() {
    let names = ["洗护", "say \"hi\"", "", "tab\there"]
    let literals = JSONStringLiterals(names)
    let written = text { w in
      w.beginArray()
      for i in [3, 0, 2, 1, 0] { w.encodedString(literals, i) }
      w.endArray()
    }
    let expected = text { w in
      w.beginArray()
      for i in [3, 0, 2, 1, 0] { w.string(names[i]) }
      w.endArray()
    }
    #expect(written == expected)
  }
}
