/// RFM: recency, frequency and monetary value per customer, scored against
/// the population and mapped to named segments.
///
/// - Recency: days from the last purchase to the as-of day.
/// - Frequency: distinct purchase days (several items on one visit are one
///   occasion).
/// - Monetary: net amount, refunds included.
public enum RFMStage {
  public struct Options: Sendable {
    /// Score levels; 5 gives quintiles.
    public var bins = 5
    public init(bins: Int = 5) { self.bins = bins }
  }

  /// Learns the cut points of the rank rule (see `RFMModel`).
  ///
  /// - Complexity: O(N log N) for N customers.
  public static func fit(_ table: CustomerTable, options: Options = Options()) -> RFMModel {
    precondition(options.bins >= 2, "RFM needs at least 2 bins")
    let recency = (0..<table.count).map { Double(table.asOfDay - table.lastPurchaseDay[$0]) }
    return RFMModel(
      bins: options.bins,
      // Smaller recency is better: fit on −recency, report in days.
      recency: cutPoints(recency.map { -$0 }, bins: options.bins).map { $0.map { -$0 } },
      frequency: cutPoints(table.purchaseDays.map(Double.init), bins: options.bins),
      monetary: cutPoints(table.netAmount, bins: options.bins))
  }

  /// Cut points for "higher is better" values: for each score s ≥ 2, the
  /// least value v with ⌊bins · #{x < v} / N⌋ ≥ s − 1, i.e. the least value
  /// strictly above the m-th smallest, m = ⌈(s − 1) N / bins⌉.
  static func cutPoints(_ values: [Double], bins: Int) -> [Double?] {
    let sorted = values.sorted()
    let n = sorted.count
    return (2...bins).map { s in
      let m = ((s - 1) * n + bins - 1) / bins  // ⌈(s−1)·n/bins⌉ ≥ 1 for n ≥ 1
      guard n > 0, m >= 1, m <= n else { return nil }
      let below = sorted[m - 1]
      // First value strictly greater than `below`.
      var lo = m, hi = n
      while lo < hi {
        let mid = (lo + hi) / 2
        if sorted[mid] > below { hi = mid } else { lo = mid + 1 }
      }
      return lo < n ? sorted[lo] : nil
    }
  }

  @inline(__always)
  static func score(_ v: Double, _ cuts: [Double?], higherIsBetter: Bool) -> UInt8 {
    var s: UInt8 = 1
    for c in cuts {
      guard let c else { break }
      if higherIsBetter ? v >= c : v <= c { s += 1 } else { break }
    }
    return s
  }

  /// Scores every customer with `model`'s cut points and names its segment.
  ///
  /// - Complexity: O(N · bins), parallel over customers.
  public static func score(_ table: CustomerTable, model: RFMModel, grid: SegmentGrid = .standard) -> RFMColumns {
    let n = table.count
    var cols = RFMColumns(
      recencyDays: [Int32](repeating: 0, count: n), frequency: table.purchaseDays,
      monetary: table.netAmount,
      rScore: [UInt8](repeating: 0, count: n), fScore: [UInt8](repeating: 0, count: n),
      mScore: [UInt8](repeating: 0, count: n),
      segment: [RFMSegment](repeating: .lost, count: n))
    cols.recencyDays.withUnsafeMutableBufferPointer { rec in
    cols.rScore.withUnsafeMutableBufferPointer { rs in
    cols.fScore.withUnsafeMutableBufferPointer { fs in
    cols.mScore.withUnsafeMutableBufferPointer { ms in
    cols.segment.withUnsafeMutableBufferPointer { seg in
      Parallel.forEachChunk(count: n, chunkCount: Parallel.chunkCount(for: n)) { _, range in
        for c in range {
          let recency = table.asOfDay - table.lastPurchaseDay[c]
          rec[c] = recency
          rs[c] = score(Double(recency), model.recency, higherIsBetter: false)
          fs[c] = score(Double(table.purchaseDays[c]), model.frequency, higherIsBetter: true)
          ms[c] = score(table.netAmount[c], model.monetary, higherIsBetter: true)
          seg[c] = grid.segment(
            r: SegmentGrid.toFivePoint(Int(rs[c]), bins: model.bins),
            f: SegmentGrid.toFivePoint(Int(fs[c]), bins: model.bins),
            m: SegmentGrid.toFivePoint(Int(ms[c]), bins: model.bins))
        }
      }
    }}}}}
    return cols
  }
}
