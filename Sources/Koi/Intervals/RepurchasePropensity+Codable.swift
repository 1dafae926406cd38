import Foundation

/// The trained propensity trees in model.json (`intervals.propensity_trees`):
/// `trees` holds one string per window, the trees' compact JSON
/// (snake_case keys, shortest round-trip doubles, so decoding gives the
/// same bits), or null where the interval model's own probability won; a
/// pretty-printed node array would take a line per number. `data_start` is
/// the first purchase day of the training data; `as_of_categories`, per
/// window, the category columns of the scoring rows over the fitting
/// population (`PropensityFeatures.CategoryAggregates`).
extension RepurchasePropensity.Trained: Codable {
  enum CodingKeys: String, CodingKey { case trees, dataStart, asOfCategories }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    let texts = try trees.map { t in try t.map { try $0.compactText() } }
    try c.encode(texts, forKey: .trees)
    try c.encode(dataStart, forKey: .dataStart)
    try c.encodeIfPresent(asOfCategories, forKey: .asOfCategories)
  }

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let texts = try c.decode([String?].self, forKey: .trees)
    let decoder = JSONDecoder.koi
    trees = try texts.map { text in try text.map { try decoder.decode(GradientBoostedTrees.self, from: Data($0.utf8)) }
    }
    dataStart = try c.decode(Int32.self, forKey: .dataStart)
    asOfCategories = try c.decodeIfPresent([PropensityFeatures.CategoryAggregates].self, forKey: .asOfCategories)
    if let a = asOfCategories, a.count != trees.count {
      throw DecodingError.dataCorrupted(
        .init(codingPath: c.codingPath, debugDescription: "as_of_categories needs one entry per window"))
    }
  }
}
