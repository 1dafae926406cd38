import CByteMasks
import Testing

@testable import Koi

/// `CSVRecord.splitUnquoted`, the block- and word-at-a-time split of the
/// common record, against `CSVRecord.split`, the grammar's byte-at-a-time
/// reading.
@Suite struct CSVRecordTests {
  struct Reading: Equatable {
    var fieldCount: Int
    var fields: [Range<Int>]
    var pos: Int
    var line: Int
  }

  /// Reads the record at `start` with `splitUnquoted`, or nil when it declines.
  static func fast(_ buf: UnsafeBufferPointer<UInt8>, at start: Int, capacity: Int) -> Reading? {
    let slots = FieldSlots(capacity: capacity)
    defer { slots.deallocate() }
    var pos = start, line = 0
    guard let count = CSVRecord.splitUnquoted(buf, at: &pos, line: &line, into: slots) else {
      #expect(pos == start && line == 0, "a declined record moves nothing")
      return nil
    }
    for k in 0..<count { #expect(!slots.escaped[k]) }
    return Reading(fieldCount: count, fields: (0..<count).map { slots.start[$0]..<slots.end[$0] }, pos: pos, line: line)
  }

  /// Reads the record at `start` with `split`.
  static func general(_ buf: UnsafeBufferPointer<UInt8>, at start: Int, capacity: Int) -> (Reading, CSVRecord.Split) {
    let slots = FieldSlots(capacity: capacity)
    defer { slots.deallocate() }
    var pos = start, line = 0
    let s = CSVRecord.split(buf, at: &pos, line: &line, into: slots)
    let stored = min(s.fieldCount, capacity)
    return (
      Reading(
        fieldCount: s.fieldCount, fields: (0..<stored).map { slots.start[$0]..<slots.end[$0] }, pos: pos, line: line),
      s
    )
  }

  /// Records from the bytes that matter to the grammar, at every start:
  /// short ones, and (with the second alphabet) ones that span 64-byte
  /// blocks, read by the block loop, the word loop near the end, or both.
  @Test(arguments: [
    (Array("ab ,,,\n\r\"".utf8) + [0xE5, 0x80], 120),
    (Array(String(repeating: "a", count: 40).utf8) + Array(",,,,\n\r\"".utf8), 300),
  ])
  func everyAcceptedRecordReadsAsTheGrammarReadsIt(alphabet: [UInt8], maximumLength: Int) {
    var g = SeededGenerator(seed: 18)
    var accepted = 0, acceptedLong = 0
    for _ in 0..<400 {
      let bytes = (0..<Int.random(in: 0...maximumLength, using: &g)).map { _ in alphabet.randomElement(using: &g)! }
      bytes.withUnsafeBufferPointer { buf in
        for start in 0...buf.count {
          for capacity in [1, 3, 8] {
            guard let fast = Self.fast(buf, at: start, capacity: capacity) else { continue }
            accepted += 1
            if fast.pos - start > 64 { acceptedLong += 1 }
            let (general, split) = Self.general(buf, at: start, capacity: capacity)
            #expect(fast == general)
            #expect(!split.malformed && !split.unterminated && !split.endedAtBufferEnd && split.extraFieldsEmpty)
          }
        }
      }
    }
    #expect(accepted > 1000)
    if maximumLength > 120 { #expect(acceptedLong > 100) }
  }

  @Test func theCommonRecordTakesTheFastPath() {
    let text = "C0003483,2023-01-12 13:16,skin_cleaning,370.00,370,0,referral,store_04\r\nC1,x\n"
    Array(text.utf8).withUnsafeBufferPointer { buf in
      let reading = Self.fast(buf, at: 0, capacity: 8)
      #expect(reading?.fieldCount == 8)
      #expect(reading?.fields.last == 62..<70)  // the CR is not part of the field
      #expect(reading?.pos == 72 && reading?.line == 1)
      #expect(Self.fast(buf, at: 72, capacity: 8) == nil, "its newline is within eight bytes of the end")
      #expect(Self.fast(buf, at: 0, capacity: 7) == nil, "more fields than slots")
    }
  }

  @Test func blockMasksMarkExactlyCommasNewlinesAndQuotes() {
    // Every byte value at every position of a block, among random bytes.
    var g = SeededGenerator(seed: 64)
    var failures = 0
    for position in 0..<64 {
      for b in 0...255 {
        var block = (0..<64).map { _ in UInt8.random(in: 0...255, using: &g) }
        block[position] = UInt8(b)
        let m = block.withUnsafeBufferPointer { koi_csv_masks64($0.baseAddress!) }
        func expected(_ value: UInt8) -> UInt64 {
          block.indices.reduce(0) { $0 | (block[$1] == value ? 1 << UInt64($1) : 0) }
        }
        if m.comma != expected(44) || m.newline != expected(10) || m.quote != expected(34) { failures += 1 }
      }
    }
    #expect(failures == 0)
  }

  @Test func delimiterMaskMarksExactlyCommasNewlinesAndQuotes() {
    for b in 0...255 {
      for k in 0..<8 {
        let word = UInt64(b) << (8 * k) | (k == 0 ? 0 : 0x6161_6161_6161_6161 >> (64 - 8 * k))
        let expected: UInt64 = [44, 10, 34].contains(b) ? 0x80 << (8 * k) : 0
        #expect(CSVRecord.delimiterMask(word) == expected, "byte \(b) at \(k)")
      }
    }
  }
}

@Suite struct ChunkParserTests {
  /// Rows far shorter than the 48 bytes a row the parser sizes its columns
  /// for: the columns grow, and every value stays in its row.
  @Test func shortRowsGrowTheColumnsAndKeepEveryValue() throws {
    let header = ["customer_id", "date", "item", "amount", "list_price", "promo", "channel", "store"]
    let mapping = try ColumnMapping(header: header, overrides: [:], path: "t.csv")
    let parser = ChunkParser(layout: RecordLayout(mapping: mapping, asOfDay: nil))
    let rows = 1000
    var text = ""
    for i in 0..<rows {
      text +=
        "c\(i % 7),2025-01-0\(1 + i % 9),i\(i % 3),\(i),\(i % 2 == 0 ? "" : "\(i + 1)"),\(i % 2),w\(i % 2),s\(i % 5)\n"
    }
    let bytes = Array(text.utf8)
    #expect(bytes.count / 48 < rows)
    let chunk = bytes.withUnsafeBufferPointer { parser.parse($0, isFinal: true) }
    #expect(chunk.rejects.isEmpty && chunk.consumed == bytes.count)
    #expect(chunk.customer.count == rows)
    for i in 0..<rows {
      #expect(chunk.customers.string(chunk.customer[i]) == "c\(i % 7)")
      #expect(chunk.day[i] == DayNumber.from(year: 2025, month: 1, day: 1 + i % 9))
      #expect(chunk.categories.string(chunk.category[i]) == "i\(i % 3)")
      #expect(chunk.amount[i] == Double(i))
      #expect(i % 2 == 0 ? chunk.listPrice[i].isNaN : chunk.listPrice[i] == Double(i + 1))
      #expect(chunk.promo[i] == Int8(i % 2))
      #expect(chunk.channels.string(chunk.channel[i]) == "w\(i % 2)")
      #expect(chunk.stores.string(chunk.store[i]) == "s\(i % 5)")
    }
  }
}
