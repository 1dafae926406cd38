import Dispatch
import Testing

@testable import Koi

@Suite struct ParallelTests {
  /// The chunked map returns each item in its place, for counts below, at
  /// and across chunk boundaries, including none.
  @Test(arguments: [0, 1, 16_383, 16_384, 16_385, 3 * 65_536 + 7])
  func elementMapEqualsTheSerialMap(count: Int) {
    let transform = { (i: Int) in i &* 2_654_435_761 ^ (i >> 3) }
    #expect(Parallel.map(elements: count, transform) == (0..<count).map(transform))
    #expect(Parallel.map(elements: count, minimumChunk: 1_000, transform) == (0..<count).map(transform))
  }

  /// `both` returns each closure's result; on more than one core, the two
  /// run at once: the first waits for the second (one after the other, it
  /// would wait the full second and see nothing).
  /// Chunks for a loop over customers: as many as the customers call for,
  /// more when their rows do, never more than one a customer.
  @Test func chunksForCustomersFollowTheirRows() {
    // Many customers: their own chunk count, whatever the rows.
    #expect(Parallel.chunkCount(customers: 1_470_000, rows: 0) == Parallel.chunkCount(for: 1_470_000))
    #expect(Parallel.chunkCount(customers: 1_470_000, rows: 10_000_000) == 64)
    // Few customers with many rows (Complete Journey's shape).
    #expect(Parallel.chunkCount(customers: 2_469, rows: 1_464_471) == 22)
    #expect(Parallel.chunkCount(customers: 3, rows: 1_000_000) == 3)
    #expect(Parallel.chunkCount(customers: 0, rows: 0) == 1)
    #expect(Parallel.chunkCount(customers: 100, rows: 65_535) == 1)
  }

  @Test func bothRunsTheTwoAtOnce() {
    let signal = DispatchSemaphore(value: 0)
    let (first, second) = Parallel.both(
      { Parallel.coreCount == 1 || signal.wait(timeout: .now() + 60) == .success },
      {
        signal.signal()
        return "second"
      })
    #expect(first)
    #expect(second == "second")
  }

  /// A gather through scratch storage permutes every column alike and
  /// leaves the old storage, of the same length, for the next column.
  @Test func gatherPermutesThroughScratch() {
    let n = 200_003
    let order = (0..<Int32(n)).map { Int32((Int($0) &* 7_919) % n) }
    var column = (0..<n).map(Double.init)
    var scratch = [Double](repeating: 0, count: n)
    Ledger.gather(&column, order, scratch: &scratch)
    #expect(column == order.map { Double($0) })
    #expect(scratch.count == n)
    #expect(Ledger.gather((0..<n).map { $0 * 3 }, order) == order.map { Int($0) * 3 })
  }
}
