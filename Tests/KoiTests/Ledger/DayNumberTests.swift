import Testing

@testable import Koi

@Suite struct DayNumberTests {
  @Test func fourDigitCivilIsCivilOnEveryFourDigitYearDay() {
    var mismatches = 0
    for day in DayNumber.fourDigitYears where DayNumber.fourDigitCivil(day) != DayNumber.civil(day) {
      mismatches += 1
    }
    #expect(mismatches == 0)
    #expect(DayNumber.fourDigitCivil(0) == (1970, 1, 1))
    #expect(DayNumber.fourDigitCivil(DayNumber.fourDigitYears.lowerBound) == (0, 1, 1))
    #expect(DayNumber.fourDigitCivil(DayNumber.fourDigitYears.upperBound) == (9999, 12, 31))
  }
}
