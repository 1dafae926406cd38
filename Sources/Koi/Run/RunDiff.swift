import Foundation

/// How customers moved between two runs (`koi diff A B`).
public struct RunDiff: Sendable, Codable {
  /// A migration matrix: `counts[i][j]` customers were `labels[i]` in the
  /// first run and `labels[j]` in the second. `absent` means not in that
  /// run (new or no longer in the data). The sum of all cells is the number
  /// of customers in either run.
  public struct Matrix: Sendable, Codable, Equatable {
    public var labels: [String]
    public var counts: [[Int]]
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
  }

  public struct Move: Sendable, Codable, Equatable {
    public var customerID: String
    public var from: String
    public var to: String
    /// Only keys the snake-case strategies cannot derive from the property
    /// name, given in the camelCase those strategies map to the file's key.
    enum CodingKeys: String, CodingKey {
      case from, to
      case customerID = "customerId"
    }
  }

  /// Segments counted as at risk: the four where a customer who bought is
  /// slipping away or gone (R ≤ 2). A move "into at risk" is a customer
  /// present in both runs whose segment is in this set in the second run
  /// and was not in the first.
  static let atRiskSegments: [RFMSegment] = [.atRisk, .cantLoseThem, .hibernating, .lost]

  public var from: String
  public var to: String
  public var segments: Matrix
  /// Nil unless both runs recorded tiers. Labelled by tier id
  /// (`savvy_quality_focused`, …).
  public var tiers: Matrix?
  public var movedIntoAtRisk: [Move]

  public static let absent = "absent"

  public init(from: String, to: String, history: RunHistory) throws {
    let a = try history.customers(ofRun: from), b = try history.customers(ofRun: to)
    self.from = from
    self.to = to
    let segLabels = RFMSegment.allCases.map(\.rawValue) + [RunDiff.absent]
    segments = RunDiff.matrix(labels: segLabels, a: a.mapValues { $0.segment }, b: b.mapValues { $0.segment })
    let hasTiers = a.values.contains { $0.tier != nil } && b.values.contains { $0.tier != nil }
    if hasTiers {
      // Stored tiers are PriceSensitivityTier raw values; anything else keeps its number.
      func label(_ tier: Int) -> String { PriceSensitivityTier(rawValue: tier)?.id ?? String(tier) }
      let ids = Set(a.values.compactMap(\.tier)).union(b.values.compactMap(\.tier)).sorted()
      tiers = RunDiff.matrix(
        labels: ids.map(label) + [RunDiff.absent],
        a: a.mapValues { $0.tier.map(label) }, b: b.mapValues { $0.tier.map(label) })
    }
    let risk = Set(RunDiff.atRiskSegments.map(\.rawValue))
    movedIntoAtRisk = b.compactMap { id, v in
      guard let to = v.segment, risk.contains(to), let old = a[id], let from = old.segment, !risk.contains(from) else {
        return nil
      }
      return Move(customerID: id, from: from, to: to)
    }.sorted { $0.customerID < $1.customerID }
  }

  static func matrix(labels: [String], a: [String: String?], b: [String: String?]) -> Matrix {
    var index: [String: Int] = [:]
    for (i, l) in labels.enumerated() { index[l] = i }
    let absentIndex = labels.count - 1
    var counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
    for id in Set(a.keys).union(b.keys) {
      let i = a[id].flatMap { $0 }.flatMap { index[$0] } ?? absentIndex
      let j = b[id].flatMap { $0 }.flatMap { index[$0] } ?? absentIndex
      counts[i][j] += 1
    }
    return Matrix(labels: labels, counts: counts)
  }

  /// A plain-text table: rows are the first run, columns the second.
  public static func render(_ m: Matrix) -> String {
    let width = max(8, (m.labels.map(\.count).max() ?? 0) + 4)
    func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
    var out = pad("from\\to", width)
    let colWidth = 7
    for (j, _) in m.labels.enumerated() { out += pad(String(j + 1), colWidth) }
    out += pad("total", colWidth) + "\n"
    for (i, l) in m.labels.enumerated() {
      out += pad("\(i + 1) \(l)", width)
      for j in m.labels.indices { out += pad(String(m.counts[i][j]), colWidth) }
      out += pad(String(m.counts[i].reduce(0, +)), colWidth) + "\n"
    }
    out += pad("total", width)
    for j in m.labels.indices { out += pad(String(m.counts.reduce(0) { $0 + $1[j] }), colWidth) }
    out += pad(String(m.total), colWidth) + "\n"
    return out
  }
}
