import RealModule
import Testing

@testable import Koi

@Suite struct DayLogarithmTests {
  /// The table holds the very numbers `Double.log` returns, for both
  /// overloads, so a lookup cannot change an output.
  @Test func everyEntryIsTheLogarithmItReplacesBitForBit() {
    let days = Int32(0)..<Int32(DayLogarithm.tableSize)
    #expect(days.allSatisfy { DayLogarithm.log($0).bitPattern == Double.log(Double($0)).bitPattern })
    #expect(days.allSatisfy { DayLogarithm.log(Double($0)).bitPattern == Double.log(Double($0)).bitPattern })
    #expect(DayLogarithm.log(Int32(0)) == -.infinity)
  }

  /// Arguments outside the table (fractional, negative, too large, not
  /// finite) are computed.
  @Test(arguments: [-3.0, -0.0, 0.5, 29.25, 4_095.5, 4_096, 4_097, 1e7, .infinity, .nan])
  func otherArgumentsAreComputed(x: Double) {
    let expected = Double.log(x)
    let got = DayLogarithm.log(x)
    #expect(got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN))
    if let d = Int32(exactly: x) {
      let whole = DayLogarithm.log(d)
      #expect(whole.bitPattern == expected.bitPattern || (whole.isNaN && expected.isNaN))
    }
  }
}
