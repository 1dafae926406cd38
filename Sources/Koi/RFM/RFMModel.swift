/// RFM scoring thresholds learned from one population.
///
/// Scores run from 1 to `bins` (5 = most recent / most frequent / highest
/// spend). Fitting uses the rank rule
///
///     score(v) = 1 + ⌊bins · #{customers strictly worse than v} / N⌋
///
/// where "worse" is a larger recency, a smaller frequency or a smaller
/// monetary value. Equal values always get equal scores, and the rule is
/// reproducible in SQL as `1 + floor(bins * (rank() over (order by v) - 1) / count(*) over ())`
/// (ordering recency descending). With many ties a score can be skipped: if
/// 60% of customers bought on one day, they all get F = 1 and the next
/// frequency gets F = 4.
///
/// The fit is stored as cut points so a later population can be scored with
/// the same thresholds: `cutPoints[s − 2]` is the least value (the largest
/// recency) that scores at least `s`; nil where no value does.
public struct RFMModel: Sendable, Equatable, Codable {
  public var bins: Int
  public var recency: [Double?]
  public var frequency: [Double?]
  var monetary: [Double?]

  /// Raw values are the camelCase forms that the snake-case key
  /// strategies of `JSONEncoder.koi` and `JSONDecoder.koi` turn into the
  /// file's keys and back.
  enum CodingKeys: String, CodingKey {
    case bins
    case recency = "recencyCutPoints"
    case frequency = "frequencyCutPoints"
    case monetary = "monetaryCutPoints"
  }
}

/// Per-customer RFM figures and scores, struct of arrays by customer index.
public struct RFMColumns: Sendable {
  /// Days from the last purchase to the as-of day (≥ 1).
  var recencyDays: [Int32]
  /// Distinct purchase days.
  public var frequency: [Int32]
  /// Net amount, refunds included.
  var monetary: [Double]
  var rScore: [UInt8]
  var fScore: [UInt8]
  var mScore: [UInt8]
  public var segment: [RFMSegment]
}
