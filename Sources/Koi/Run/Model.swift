import Foundation

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
  public var tiers: TierModel?
  public var intervals: IntervalModel?
  public var lifetime: LifetimeModel?

  enum CodingKeys: String, CodingKey {
    case koiVersion = "koi_version"
    case asOf = "as_of"
    case categories
    case rfm, tiers, intervals, lifetime
  }
}

extension Model {
  /// Reads a model.json written by an earlier run.
  ///
  /// - Throws: `IngestError` with code `.badModel` naming the file and what
  ///   is wrong with it.
  public static func load(path: String) throws -> Model {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw IngestError(.badModel, "cannot read the model file; give the model.json of an earlier run.", at: SourceLocation(path: path))
    }
    do {
      return try JSONDecoder().decode(Model.self, from: data)
    } catch {
      throw IngestError(.badModel, "not a Koi model.json (\(error)).", at: SourceLocation(path: path))
    }
  }
}
