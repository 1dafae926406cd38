/// Everything global a run learned, saved as model.json. Splitting fit from
/// score is what lets a scheduled run keep tier labels stable and a backtest
/// fit on one window and score another.
public struct Model: Sendable, Codable {
  public var koiVersion: String
  /// The as-of date, `YYYY-MM-DD`.
  public var asOf: String
  /// Treatment categories in category-index order.
  public var categories: [String]
  public var rfm: RFMModel?
  public var intervals: IntervalModel?

  enum CodingKeys: String, CodingKey {
    case koiVersion = "koi_version"
    case asOf = "as_of"
    case categories
    case rfm, intervals
  }
}
