/// RFM: recency, frequency and monetary value per customer, scored against
/// the population and mapped to named segments.
///
/// - Recency: days from the last purchase to the as-of day.
/// - Frequency: distinct purchase days (several items on one visit are one
///   occasion).
/// - Monetary: net amount, refunds included.
public struct RFMStage: Sendable {
  public struct Options: Sendable {
    /// Score levels; 5 gives quintiles.
    public var bins = 5
    public init(bins: Int = 5) { self.bins = bins }
  }

  public var options: Options

  public init(_ options: Options = Options()) { self.options = options }

  /// Learns the cut points of the rank rule (see `RFMModel`).
  ///
  /// - Complexity: O(N log N) for N customers.
  public static func fit(_ table: CustomerTable, options: Options = Options()) -> RFMModel {
    fit(RFMStatistics(table: table), bins: options.bins)
  }

  /// Learns the cut points from the value counts of every customer.
  ///
  /// - Complexity: O(distinct values · bins).
  static func fit(_ s: RFMStatistics, bins: Int) -> RFMModel {
    precondition(Settings.rfmBins.problem(bins) == nil, "rfm_bins: \(Settings.rfmBins.problem(bins) ?? "")")
    return RFMModel(
      bins: bins,
      // Smaller recency is better: fit on −recency, report in days.
      recency: s.recencyDays.negated.cutPoints(bins: bins).map { $0.map { -$0 } },
      frequency: s.purchaseDays.cutPoints(bins: bins),
      monetary: s.netAmount.cutPoints(bins: bins),
      monetaryDistribution: MonetaryDistribution(s.netAmount))
  }

  /// Cut points of `values` (see `ValueCounts.cutPoints`).
  static func cutPoints(_ values: [Double], bins: Int) -> [Double?] {
    ValueCounts(values).cutPoints(bins: bins)
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
            }
          }
        }
      }
    }
    return cols
  }
}
