/// The eleven named RFM segments, in the order they are listed in reports.
public enum RFMSegment: String, CaseIterable, Sendable, Codable {
  case champions
  case loyal
  case potentialLoyalist = "potential_loyalist"
  case newCustomers = "new_customers"
  case promising
  case needAttention = "need_attention"
  case aboutToSleep = "about_to_sleep"
  case atRisk = "at_risk"
  case cantLoseThem = "cant_lose_them"
  case hibernating
  case lost

  /// The segment's position in `allCases`, for bit sets of segments
  /// (a switch the compiler reduces to the enum's tag).
  var ordinal: Int {
    switch self {
    case .champions: return 0
    case .loyal: return 1
    case .potentialLoyalist: return 2
    case .newCustomers: return 3
    case .promising: return 4
    case .needAttention: return 5
    case .aboutToSleep: return 6
    case .atRisk: return 7
    case .cantLoseThem: return 8
    case .hibernating: return 9
    case .lost: return 10
    }
  }

  /// What the segment means for the people running the pool.
  public var meaning: String {
    switch self {
    case .champions: return "bought recently, buy often and spend the most"
    case .loyal: return "spend well and often, responsive to the pool's programmes"
    case .potentialLoyalist: return "recent customers with average frequency and spend"
    case .newCustomers: return "bought most recently, but not often"
    case .promising: return "recent shoppers who have not spent much"
    case .needAttention: return "above-average recency, frequency and spend, slipping"
    case .aboutToSleep: return "below-average recency and frequency; will be lost if not reactivated"
    case .atRisk: return "spent much and often, but long ago"
    case .cantLoseThem: return "were among the best, have not come back for the longest"
    case .hibernating: return "last purchase long ago, low spend and few orders"
    case .lost: return "lowest recency, frequency and spend"
    }
  }
}

/// The segment grid: which segment each (R, FM) cell belongs to, where R is
/// the recency score and FM = (F + M) / 2 the mean of the frequency and
/// monetary scores, all on the 1–5 scale. It is data, listed in README:
///
///     R \ FM  1    1.5  2    2.5  3    3.5  4    4.5  5
///     5       new  pot  pot  pot  loy  loy  cha  cha  cha
///     4       pro  pot  pot  pot  loy  loy  cha  cha  cha
///     3       pro  slp  att  att  loy  loy  loy  loy  loy
///     2       hib  slp  slp  att  rsk  rsk  rsk  rsk  rsk
///     1       lst  lst  hib  hib  rsk  rsk  cnt  cnt  cnt
///
/// Every one of the 45 cells is covered by exactly one rule (tested).
public struct SegmentGrid: Sendable {
  /// A rectangle of the grid: R in `recency`, F + M in `frequencyPlusMonetary`.
  struct Rule: Sendable {
    public var segment: RFMSegment
    public var recency: ClosedRange<Int>
    var frequencyPlusMonetary: ClosedRange<Int>
  }

  var rules: [Rule]

  public static let standard = SegmentGrid(rules: [
    Rule(segment: .champions, recency: 4...5, frequencyPlusMonetary: 8...10),
    Rule(segment: .loyal, recency: 4...5, frequencyPlusMonetary: 6...7),
    Rule(segment: .loyal, recency: 3...3, frequencyPlusMonetary: 6...10),
    Rule(segment: .potentialLoyalist, recency: 4...5, frequencyPlusMonetary: 3...5),
    Rule(segment: .newCustomers, recency: 5...5, frequencyPlusMonetary: 2...2),
    Rule(segment: .promising, recency: 4...4, frequencyPlusMonetary: 2...2),
    Rule(segment: .promising, recency: 3...3, frequencyPlusMonetary: 2...2),
    Rule(segment: .aboutToSleep, recency: 3...3, frequencyPlusMonetary: 3...3),
    Rule(segment: .needAttention, recency: 3...3, frequencyPlusMonetary: 4...5),
    Rule(segment: .aboutToSleep, recency: 2...2, frequencyPlusMonetary: 3...4),
    Rule(segment: .needAttention, recency: 2...2, frequencyPlusMonetary: 5...5),
    Rule(segment: .atRisk, recency: 2...2, frequencyPlusMonetary: 6...10),
    Rule(segment: .atRisk, recency: 1...1, frequencyPlusMonetary: 6...7),
    Rule(segment: .cantLoseThem, recency: 1...1, frequencyPlusMonetary: 8...10),
    Rule(segment: .hibernating, recency: 2...2, frequencyPlusMonetary: 2...2),
    Rule(segment: .hibernating, recency: 1...1, frequencyPlusMonetary: 4...5),
    Rule(segment: .lost, recency: 1...1, frequencyPlusMonetary: 2...3),
  ])

  /// The segment of a cell (scores on the 1–5 scale).
  public func segment(r: Int, f: Int, m: Int) -> RFMSegment {
    let fm = f + m
    for rule in rules where rule.recency.contains(r) && rule.frequencyPlusMonetary.contains(fm) {
      return rule.segment
    }
    preconditionFailure("segment grid does not cover R=\(r), F+M=\(fm)")
  }

  /// A score on a 1…bins scale mapped to the grid's 1–5 scale:
  /// `1 + ⌊5 (s − 1) / bins⌋`, so deciles 1–2 → 1, 3–4 → 2, …
  @inlinable
  public static func toFivePoint(_ score: Int, bins: Int) -> Int {
    bins == 5 ? score : 1 + 5 * (score - 1) / bins
  }
}
