/// Known finding F1 (fuzz/findings/README.md): the reader decides UTF-16 and
/// the encoding from its *first block*, not from the fixed windows README
/// documents (the first 64 KiB for UTF-16, the first 8 MiB for the encoding
/// guess). With the default 8 MiB block the two agree, which is why `koi`
/// behaves as documented; with a smaller `IngestOptions.blockSize` the same
/// file can be refused as UTF-16, or decoded as GB18030 instead of UTF-8.
///
/// Until that is fixed, block-size independence (with `--encoding auto`) is
/// only required of reads whose first block provably sniffs like the whole
/// file:
///
/// ```
/// utf16(first block) = utf16(first 64 KiB)      README's rule: ≥ 40% of the even or of
///                                               the odd bytes are NUL, or an FF FE / FE FF mark
/// no byte ≥ 0x80 after the first block           the UTF-8 census of the first block is the whole file's
/// fewer than 1000 LF                             (the guess's line rule, 3 + lines/1000, is 3 for both)
/// ```
///
/// Reads that fail the last two are still compared with the encoding pinned
/// (`--encoding utf8` and `--encoding gb18030`), where no guess is made.
/// `KOI_FUZZ_CHECK_KNOWN=1` lifts the gate, to reproduce F1 or to check a fix.
struct SniffWindow {
  /// The gate is lifted.
  static var checked: Bool { KnownFindings.checked }

  private let bytes: UnsafeBufferPointer<UInt8>
  /// Index of the last byte ≥ 0x80; -1 when there is none.
  private let lastNonASCII: Int
  private let lineFeeds: Int
  private let wholeLooksUTF16: Bool

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    var last = -1, lf = 0
    for (i, b) in bytes.enumerated() {
      if b >= 0x80 { last = i }
      if b == 10 { lf += 1 }
    }
    lastNonASCII = last
    lineFeeds = lf
    wholeLooksUTF16 = Self.looksUTF16(UnsafeBufferPointer(rebasing: bytes.prefix(1 << 16)))
  }

  /// A first block of `blockSize` bytes gives the same UTF-16 verdict as the
  /// whole file.
  func utf16Agrees(blockSize: Int) -> Bool {
    SniffWindow.checked || Self.looksUTF16(UnsafeBufferPointer(rebasing: bytes.prefix(blockSize))) == wholeLooksUTF16
  }

  /// A first block of `blockSize` bytes gives the same `--encoding auto`
  /// verdict as the whole file.
  func guessAgrees(blockSize: Int) -> Bool {
    SniffWindow.checked || (lastNonASCII < blockSize && lineFeeds < 1000)
  }

  /// README's UTF-16 rule (see `InputSniffer.utf16Evidence`).
  static func looksUTF16(_ block: UnsafeBufferPointer<UInt8>) -> Bool {
    if block.count >= 2 && ((block[0] == 0xFF && block[1] == 0xFE) || (block[0] == 0xFE && block[1] == 0xFF)) { return true }
    let n = block.count
    guard n >= 4 else { return false }
    var even = 0, odd = 0
    for i in 0..<n where block[i] == 0 {
      if i & 1 == 0 { even += 1 } else { odd += 1 }
    }
    let half = n / 2
    return even * 5 >= half * 2 || odd * 5 >= half * 2
  }
}
