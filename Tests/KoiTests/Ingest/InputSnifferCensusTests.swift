import Testing

@testable import Koi

/// `InputSniffer.census`, which reads eight ASCII bytes at once after the
/// header, against a byte-by-byte count of the same grammar; and
/// `isValidUTF8Block` (which `InputSniffer.guess` asks first) and
/// `isValidUTF8` against the count's invalid sequences.
@Suite struct InputSnifferCensusTests {
  static func isValid(_ block: [UInt8], allowingCutOffEnd: Bool) -> Bool {
    block.withUnsafeBufferPointer { allowingCutOffEnd ? isValidUTF8Block($0) : isValidUTF8($0) }
  }

  /// The census one byte at a time (its form before the word loop).
  static func reference(_ block: [UInt8]) -> InputSniffer.UTF8Census {
    InputSniffer.census(block, wordsAtOnce: false)
  }

  /// Blocks of ASCII, line feeds (often several in a word), well-formed
  /// multibyte characters, invalid bytes (in even seeds' blocks) and a
  /// character cut off at the end.
  @Test(arguments: 0..<40)
  func wordsAtOnceCountAsBytesOneByOne(seed: Int) {
    var g = SeededGenerator(seed: UInt64(seed))
    var pieces: [[UInt8]] = [
      Array("C0003483,2023-01-12 13:16,skin_cleaning,370.00".utf8), [10], [10, 10], Array("\n,\n".utf8),
      Array("美容".utf8), [0xC3, 0xA9], Array("a,b\r\n".utf8),
    ]
    if seed % 2 == 0 { pieces += [[0xFF], [0xB5, 0xE7], [0xE6, 0x88]] }
    var block: [UInt8] = []
    let length = Int.random(in: 0...3_000, using: &g)
    // Mostly ASCII in runs long enough for the word loop.
    while block.count < length {
      let k = Int.random(in: 0..<(pieces.count + 6), using: &g)
      block += k < pieces.count ? pieces[k] : pieces[0]
    }
    if seed % 3 == 0 { block += [0xE7, 0xBE] }  // cut off at the end
    #expect(InputSniffer.census(block) == Self.reference(block))
    // The shortcut of `guess` says what the census says about invalid
    // bytes; without the cut-off end allowed, it says what the census says
    // of the block with one more ASCII byte (which makes a cut-off end
    // invalid).
    #expect(Self.isValid(block, allowingCutOffEnd: true) == (Self.reference(block).invalid == 0))
    #expect(Self.isValid(block, allowingCutOffEnd: false) == (Self.reference(block + [0x61]).invalid == 0))
    if seed % 3 == 0 { #expect(!Self.isValid(block, allowingCutOffEnd: false)) }
    // Every suffix start and length mod 8, so that words meet the block's
    // end and line feeds at every offset.
    for cut in [1, 2, 3, 5, 7, 8, 9] where cut < block.count {
      let tail = Array(block[cut...])
      #expect(InputSniffer.census(tail) == Self.reference(tail))
      let head = Array(block[..<(block.count - cut)])
      #expect(InputSniffer.census(head) == Self.reference(head))
      for part in [tail, head] {
        #expect(Self.isValid(part, allowingCutOffEnd: true) == (Self.reference(part).invalid == 0))
      }
    }
  }

  @Test func edgeBlocks() {
    for block: [UInt8] in [[], [10], [10, 10, 10, 10, 10, 10, 10, 10, 10], Array("h\n12345678".utf8), [0xFF, 10]] {
      #expect(InputSniffer.census(block) == Self.reference(block), "\(block)")
    }
  }
}
