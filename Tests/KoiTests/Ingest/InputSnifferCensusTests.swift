import Testing

@testable import Koi

/// `InputSniffer.census`, which reads eight ASCII bytes at once after the
/// header, against a byte-by-byte count of the same grammar.
@Suite struct InputSnifferCensusTests {
  /// The census one byte at a time (its form before the word loop).
  static func reference(_ block: [UInt8]) -> InputSniffer.UTF8Census {
    InputSniffer.census(block, wordsAtOnce: false)
  }

  /// Blocks of ASCII, line feeds (often several in a word), well-formed
  /// multibyte characters, invalid bytes and a character cut off at the end.
  @Test(arguments: 0..<40)
  func wordsAtOnceCountAsBytesOneByOne(seed: Int) {
    var g = SeededGenerator(seed: UInt64(seed))
    let pieces: [[UInt8]] = [
      Array("C0003483,2023-01-12 13:16,skin_cleaning,370.00".utf8), [10], [10, 10], Array("\n,\n".utf8),
      Array("美容".utf8), [0xC3, 0xA9], [0xFF], [0xB5, 0xE7], [0xE6, 0x88], Array("a,b\r\n".utf8),
    ]
    var block: [UInt8] = []
    let length = Int.random(in: 0...3_000, using: &g)
    // Mostly ASCII in runs long enough for the word loop.
    while block.count < length {
      let k = Int.random(in: 0..<(pieces.count + 6), using: &g)
      block += k < pieces.count ? pieces[k] : pieces[0]
    }
    if seed % 3 == 0 { block += [0xE7, 0xBE] }  // cut off at the end
    #expect(InputSniffer.census(block) == Self.reference(block))
    // Every suffix start and length mod 8, so that words meet the block's
    // end and line feeds at every offset.
    for cut in [1, 2, 3, 5, 7, 8, 9] where cut < block.count {
      let tail = Array(block[cut...])
      #expect(InputSniffer.census(tail) == Self.reference(tail))
      let head = Array(block[..<(block.count - cut)])
      #expect(InputSniffer.census(head) == Self.reference(head))
    }
  }

  @Test func edgeBlocks() {
    for block: [UInt8] in [[], [10], [10, 10, 10, 10, 10, 10, 10, 10, 10], Array("h\n12345678".utf8), [0xFF, 10]] {
      #expect(InputSniffer.census(block) == Self.reference(block), "\(block)")
    }
  }
}
