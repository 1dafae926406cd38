import Foundation
import Testing

@testable import Koi

/// `UTCTime` against Foundation's formatters, which Koi used before: the
/// same text for random instants from 1900 to 2200, fractions of a second
/// (within half a millisecond of the next second: that one) and instants
/// before 1970 included.
@Suite struct UTCTimeTests {
  @Test func matchesFoundationsFormatters() {
    let iso = ISO8601DateFormatter()
    iso.formatOptions = [.withInternetDateTime]
    let compact = DateFormatter()
    compact.locale = Locale(identifier: "en_US_POSIX")
    compact.timeZone = TimeZone(identifier: "UTC")
    compact.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    var rng = SeededGenerator(seed: 8601)
    let low = -2_208_988_800.0, high = 7_258_118_400.0  // 1900-01-01, 2200-01-01
    var instants = (0..<5_000).map { _ in Date(timeIntervalSince1970: low + rng.uniform() * (high - low)) }
    // Whole seconds, a day's edges and the epoch, on both sides of it.
    instants += [0, -1, -0.25, 0.999, 0.9996, 86_399.5, 86_399.9996, 86_400, -86_400, -86_401, 951_782_400].map {
      Date(timeIntervalSince1970: $0)
    }
    for d in instants {
      #expect(UTCTime.iso8601(d) == iso.string(from: d), "\(d.timeIntervalSince1970)")
      #expect(UTCTime.compact(d) == compact.string(from: d), "\(d.timeIntervalSince1970)")
    }
    #expect(UTCTime.iso8601(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
  }
}
