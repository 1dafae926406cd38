import Testing

@testable import Koi

@Suite("OptionalDoubleColumn: Double? values stored as Double, NaN for nil")
struct OptionalDoubleColumnTests {
  @Test func readsBackWhatWasWritten() {
    let values: [Double?] = [nil, 0, -0.0, 1.5, nil, .infinity, -2]
    var column = OptionalDoubleColumn(values)
    #expect(Array(column) == values)
    #expect(column.count == values.count)
    #expect(column[2]!.sign == .minus)
    column[0] = 3
    column[3] = nil
    #expect(column[0] == 3 && column[3] == nil)
    #expect(column.nanForMissing[3].isNaN && column.nanForMissing[0] == 3)
    #expect(OptionalDoubleColumn(repeating: nil, count: 3).allSatisfy { $0 == nil })
    #expect(Array(OptionalDoubleColumn(nanForMissing: [.nan, 2])) == [nil, 2])
  }

  @Test func equalWhenMissingInTheSamePlaces() {
    #expect(OptionalDoubleColumn([nil, 1]) == OptionalDoubleColumn([nil, 1]))
    #expect(OptionalDoubleColumn([nil, 1]) != OptionalDoubleColumn([1, nil]))
    #expect(OptionalDoubleColumn([nil]) != OptionalDoubleColumn([nil, nil]))
  }
}
