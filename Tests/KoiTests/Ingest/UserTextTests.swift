import Testing

@testable import Koi

/// User text quoted in messages: one line, cut short.
@Suite struct UserTextTests {
  @Test func shortTextIsKeptAndControlCharactersAreEscaped() {
    #expect(UserText.excerpt("玻尿酸 filler") == "玻尿酸 filler")
    #expect(UserText.excerpt("a\nb\r\tc\u{1B}[2J") == #"a\nb\r\tc\u{1B}[2J"#)
    #expect(UserText.excerpt("x\u{202E}y") == #"x\u{202E}y"#)
  }

  @Test func longTextIsCutWithItsLength() {
    let long = String(repeating: "ab\n", count: 400_000)
    let e = UserText.excerpt(long)
    #expect(e.hasSuffix("… (1200000 characters)"))
    #expect(!e.contains("\n"))
    #expect(e.count <= UserText.excerptLimit + 30)
    #expect(UserText.excerpt(String(repeating: "x", count: 80)) == String(repeating: "x", count: 80))
    #expect(
      UserText.excerpt(String(repeating: "x", count: 81)) == String(repeating: "x", count: 80) + "… (81 characters)")
  }

  @Test func boundedLineKeepsNormalMessagesAndShortensQuotedSpans() {
    let normal = "treatment 'O'Neil peel' has 3 repeat gaps, too few to fit (30 needed), and no prior."
    #expect(UserText.boundedLine(normal) == normal)
    #expect(UserText.boundedLine("two\nlines") == #"two\nlines"#)
    let name = String(repeating: "x\ny", count: 350_000)
    let warning = "treatment '\(name)' has 1 repeat gaps, too few to fit; give its cycle with --prior '\(name)=DAYS'."
    let b = UserText.boundedLine(warning)
    #expect(b.count <= UserText.lineLimit + 60)
    #expect(b.hasPrefix("treatment 'x\\ny"))
    #expect(b.contains("' has 1 repeat gaps, too few to fit; give its cycle with --prior '"))
    #expect(!b.contains("\n"))
    // No quotes to shorten: cut at the limit.
    let plain = UserText.boundedLine(String(repeating: "z", count: 5000))
    #expect(plain.hasPrefix(String(repeating: "z", count: UserText.lineLimit)))
    #expect(plain.hasSuffix("(message cut at 1000 of 5000 characters)"))
  }
}
