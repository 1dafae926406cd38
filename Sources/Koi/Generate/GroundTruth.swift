import Foundation

/// truth.csv as written by `koi generate`: what each customer really is.
public struct GroundTruth: Sendable {
  /// True tier (1–4) by customer id.
  public var tiers: [String: Int]
  /// Mean personal cycle in days by treatment id, over the customers who
  /// took the treatment up.
  public var meanCycleDays: [String: Double]

  /// - Throws: `IngestError` when the file is missing or not a truth file.
  public init(path: String) throws {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw IngestError(
        .fileNotFound, "cannot read the truth file (the truth.csv written by `koi generate`).",
        at: SourceLocation(path: path))
    }
    let lines = text.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    guard let header = lines.first, let id = header.firstIndex(of: "customer_id"),
      let tier = header.firstIndex(of: "tier")
    else {
      throw IngestError(
        .badHeader, "not a truth file: it needs customer_id and tier columns.", at: SourceLocation(path: path, line: 1))
    }
    var tiers: [String: Int] = [:]
    var sums: [String: (Double, Int)] = [:]
    for (n, f) in lines.dropFirst().enumerated() {
      guard f.count == header.count, let t = Int(f[tier]) else {
        throw IngestError(.badRow, "malformed truth row.", at: SourceLocation(path: path, line: n + 2))
      }
      tiers[f[id]] = t
      for (k, name) in header.enumerated() where name.hasPrefix("cycle_") {
        if let v = Double(f[k]) {
          let key = String(name.dropFirst("cycle_".count))
          let s = sums[key] ?? (0, 0)
          sums[key] = (s.0 + v, s.1 + 1)
        }
      }
    }
    self.tiers = tiers
    meanCycleDays = sums.mapValues { $0.0 / Double($0.1) }
  }
}

/// How well the tier stage recovers the generator's true tiers, against the
/// obvious alternative: k-means (same k, restarts and seed) on the raw
/// feature values, without the log transform, standardisation or naming.
public struct TierRecovery: Sendable, Codable {
  /// Adjusted Rand index of Koi's tiers against the true tiers.
  public var koi: Double
  /// Adjusted Rand index of k-means on the raw, unnamed features.
  public var rawKMeans: Double
  /// Share of customers whose named tier equals their true tier.
  public var namedAccuracy: Double
  public var customers: Int

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case koi, customers, namedAccuracy
    case rawKMeans = "rawKmeans"
  }

  public static func measure(
    ledger: Ledger, table: CustomerTable, truth: GroundTruth, options: TierOptions = TierOptions()
  ) throws -> TierRecovery {
    let model = try TierStage.fit(ledger: ledger, table: table, options: options)
    let cols = TierStage.score(ledger: ledger, table: table, model: model)
    let features = TierFeatureTable(ledger: ledger, table: table, requested: options.features)
    var raw = [Float]()
    raw.reserveCapacity(features.values.count * table.count)
    for column in features.values { raw.append(contentsOf: column.map { Float($0) }) }
    let matrix = FeatureMatrix(count: table.count, featureCount: features.values.count, featureMajor: raw)
    var km = KMeansOptions()
    km.k = options.k
    km.restarts = options.restarts
    km.seed = options.seed
    let baseline = try KMeans.fit(matrix, options: km)

    var truthLabels: [Int32] = [], koiLabels: [Int32] = [], rawLabels: [Int32] = []
    var agree = 0
    for c in 0..<table.count {
      guard let t = truth.tiers[ledger.customerIDs[c]], let mine = cols.tier[c] else { continue }
      truthLabels.append(Int32(t))
      koiLabels.append(Int32(mine.rawValue))
      rawLabels.append(baseline.labels[c])
      if mine.rawValue == t { agree += 1 }
    }
    return TierRecovery(
      koi: adjustedRandIndex(truthLabels, koiLabels), rawKMeans: adjustedRandIndex(truthLabels, rawLabels),
      namedAccuracy: truthLabels.isEmpty ? 0 : Double(agree) / Double(truthLabels.count),
      customers: truthLabels.count)
  }
}
