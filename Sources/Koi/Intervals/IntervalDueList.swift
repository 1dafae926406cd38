/// One customer on a category's due list.
public struct IntervalDueEntry: Codable, Sendable, Equatable {
  public var customer: Int32
  /// Pair index into `IntervalColumns`.
  public var pair: Int
  /// `P(purchase within the window | no purchase since the last one)`.
  public var probability: Double
  public var status: IntervalStatus
}

/// Outreach lists: who is due for a category within a window.
public enum IntervalDueList {
  /// Customers of category `category` (index into `IntervalModel.categories`)
  /// ranked by the probability of purchasing within the next `dueWithinDays`
  /// days given the time elapsed, descending; ties by customer index
  /// ascending, so the order is deterministic. Pairs without a prediction
  /// (`one_off`, `unknown`) are left out, as are those below
  /// `minimumProbability`. At most `limit` entries (restraint: lists are
  /// targeted, never "everyone").
  ///
  /// - Complexity: O(pairs + m log m) for m listed pairs.
  public static func make(
    columns: IntervalColumns, model: IntervalModel, category: Int, dueWithinDays: Int,
    minimumProbability: Double = 0, limit: Int? = nil
  ) -> [IntervalDueEntry] {
    precondition(dueWithinDays > 0, "the window must be at least one day")
    guard model.categories[category].family != nil else { return [] }
    var entries: [IntervalDueEntry] = []
    for p in 0..<columns.pairCount where Int(columns.category[p]) == category {
      let s = columns.status[p]
      if s == .oneOff || s == .unknown { continue }
      let prob: Double
      switch dueWithinDays {
      case 30: prob = columns.probability30[p]
      case 60: prob = columns.probability60[p]
      case 90: prob = columns.probability90[p]
      default: prob = columns.probability(pair: p, withinDays: dueWithinDays, model: model) ?? 0
      }
      if prob < minimumProbability { continue }
      entries.append(IntervalDueEntry(customer: columns.customer[p], pair: p, probability: prob, status: s))
    }
    entries.sort { a, b in
      a.probability != b.probability ? a.probability > b.probability : a.customer < b.customer
    }
    if let limit, entries.count > limit { entries.removeSubrange(limit...) }
    return entries
  }
}
