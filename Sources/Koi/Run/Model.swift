import Foundation

/// Everything global a run learned, saved as model.json: the as-of date,
/// the category list, and one section per stage that ran, under the stage's
/// name. Splitting fit from score is what lets a scheduled run keep tier
/// labels stable and a backtest fit on one window and score another.
public struct Model: Sendable, Codable {
  /// The shape of model.json this Koi writes and scores with (`model_format`):
  /// 2 saves the population figures scoring needs (tier medians, monetary
  /// distribution, propensity category columns), so a shard scored with
  /// the model gets the whole run's answer. Files without the key are 1.
  public static let format = 2
  var koiVersion: String
  /// The model.json format of this model (`Model.format` when written now).
  var modelFormat = Model.format
  /// The as-of date, `YYYY-MM-DD`.
  public var asOf: String
  /// Treatment categories in category-index order.
  public var categories: [String]
  /// Stage sections by stage name.
  var sections: [StageName: any StageSection] = [:]

  public init(koiVersion: String, asOf: String, categories: [String]) {
    self.koiVersion = koiVersion
    self.asOf = asOf
    self.categories = categories
  }

  /// The section of stage `S`, nil when the stage did not run.
  public subscript<S: Stage>(_ stage: S.Type) -> S.Section? {
    get { sections[S.name] as? S.Section }
    set { sections[S.name] = newValue }
  }

  enum CodingKeys: String, CodingKey {
    case koiVersion, modelFormat, asOf, categories
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(koiVersion, forKey: .koiVersion)
    try c.encode(modelFormat, forKey: .modelFormat)
    try c.encode(asOf, forKey: .asOf)
    try c.encode(categories, forKey: .categories)
    var s = encoder.container(keyedBy: StageKey.self)
    for (name, section) in sections { try s.encode(section, forKey: StageKey(name)) }
  }

  /// Reads the sections of the standard stages (`StageRegistry.standard`);
  /// other keys are ignored.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    koiVersion = try c.decode(String.self, forKey: .koiVersion)
    modelFormat = try c.decodeIfPresent(Int.self, forKey: .modelFormat) ?? 1
    asOf = try c.decode(String.self, forKey: .asOf)
    categories = try c.decode([String].self, forKey: .categories)
    let s = try decoder.container(keyedBy: StageKey.self)
    for stage in StageRegistry.standard {
      if let section = try Self.decodeSection(of: stage, from: s) { sections[stage.name] = section }
    }
  }

  private static func decodeSection<S: Stage>(
    of stage: S.Type, from c: KeyedDecodingContainer<StageKey>
  ) throws -> (any StageSection)? {
    try c.decodeIfPresent(S.Section.self, forKey: StageKey(S.name))
  }
}

/// A JSON key named after a stage.
struct StageKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ name: StageName) { stringValue = name.rawValue }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
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
      throw IngestError(
        .badModel, "cannot read the model file; give the model.json of an earlier run.", at: SourceLocation(path: path))
    }
    do {
      return try JSONDecoder.koi.decode(Model.self, from: data)
    } catch {
      throw IngestError(.badModel, "not a Koi model.json (\(error)).", at: SourceLocation(path: path))
    }
  }
}
