import Foundation

/// The campaign lists Koi exports. Every priority is an expected value in
/// the input's currency, so priorities compare across lists (the contact
/// cap keeps each customer's highest-priority lists).
public enum CampaignListKind: String, CaseIterable, Sendable, Codable {
  /// A category due within `due_within_days`.
  /// Priority = P(purchase within the horizon) × average order value
  /// (P = 1 when the stage gives a due date but no probability).
  case dueSoon = "due_soon"
  /// at_risk or cant_lose_them and in the top `high_value_share` by net
  /// amount. Priority = CLV when the lifetime stage ran, else net amount
  /// (what is at stake).
  case highValueAtRisk = "high_value_at_risk"
  /// Tagged `koc_candidate`. Priority = CLV, else net amount.
  case kocCandidates = "koc_candidates"
  /// Tagged `win_back`. Priority = average order value × P(alive)
  /// (P(alive) = 1 until the lifetime stage lands).
  case winBack = "win_back"
  /// Bought only one-off treatments (by `[category_priors]`) and not lost:
  /// offer a repeating treatment. Priority = average order value.
  case crossSell = "cross_sell"

  var priorityDefinition: String {
    switch self {
    case .dueSoon: return "P(purchase in the category within the horizon) × average order value"
    case .highValueAtRisk, .kocCandidates: return "customer lifetime value when available, else net amount"
    case .winBack: return "average order value × P(alive) (1 when not available)"
    case .crossSell: return "average order value"
    }
  }
}

/// Why a customer is on a list, in words for the CSV's language
/// (`exports.lang`). Category and tier names from the data are kept as
/// they are in both languages.
enum CampaignReason: Sendable, Equatable {
  /// Due within the horizon: days until the expected date, rounded up.
  case due(category: String, inDays: Int)
  /// The expected date has passed.
  case overdue(category: String, byDays: Int)
  /// at_risk or cant_lose_them and in the top `percent`% by net amount.
  case highValueAtRisk(segment: RFMSegment, topPercent: Int)
  /// A KOC candidate of the given tier (tier id such as `savvy_quality_focused`).
  case kocCandidate(tier: String?)
  /// Slipping or gone: the segment and days since the last purchase.
  case winBack(segment: RFMSegment?, daysSinceLastPurchase: Int)
  /// Bought only one-off treatments.
  case crossSell(categories: [String])

  public func text(_ language: ExportLanguage) -> String {
    switch (self, language) {
    case let (.due(c, d), .en): return "\(c) due in \(d) days"
    case let (.due(c, d), .zh): return "\(c)：\(d)天后到期"
    case let (.overdue(c, d), .en): return "\(c) overdue by \(d) days"
    case let (.overdue(c, d), .zh): return "\(c)：已逾期\(d)天"
    case let (.highValueAtRisk(s, p), .en): return "\(s.rawValue), top \(p)% by spend"
    case let (.highValueAtRisk(s, p), .zh): return "\(s.nameZH)，消费额前\(p)%"
    case let (.kocCandidate(t), .en): return "tier \(t ?? "?"), high value"
    case let (.kocCandidate(t), .zh):
      let name = t.flatMap { id in PriceSensitivityTier.allCases.first { $0.id == id }?.nameZH } ?? t ?? "未知"
      return "\(name)，高价值"
    case let (.winBack(s, d), .en): return "\(s?.rawValue ?? "?"), \(d) days since last purchase"
    case let (.winBack(s, d), .zh): return "\(s?.nameZH ?? "未知分层")，距上次消费\(d)天"
    case let (.crossSell(cs), .en): return "bought only one-off treatments: \(cs.joined(separator: ", "))"
    case let (.crossSell(cs), .zh): return "仅购买过一次性项目：\(cs.joined(separator: "、"))"
    }
  }
}

extension RFMSegment {
  /// The segment's name in Chinese, for the zh campaign-list CSVs.
  var nameZH: String {
    switch self {
    case .champions: return "重要价值客户"
    case .loyal: return "忠诚客户"
    case .potentialLoyalist: return "潜力忠诚客户"
    case .newCustomers: return "新客户"
    case .promising: return "潜力新客"
    case .needAttention: return "需关注客户"
    case .aboutToSleep: return "即将沉睡客户"
    case .atRisk: return "流失风险客户"
    case .cantLoseThem: return "重要挽留客户"
    case .hibernating: return "沉睡客户"
    case .lost: return "已流失客户"
    }
  }
}

extension PriceSensitivityTier {
  /// The tier's name in Chinese, as DOMAIN.md §2 gives it.
  var nameZH: String {
    switch self {
    case .savvyPriceSensitive: return "很懂，对价格尤其敏感"
    case .savvyQualityFocused: return "很懂，在意产品服务品质"
    case .noviceCrowdFollower: return "不太懂，但随大流"
    case .noviceDealSeeker: return "不太懂，对价格尤其敏感"
    }
  }
}

/// One customer on one list.
struct CampaignEntry: Sendable, Equatable, Codable {
  public var customerID: String
  /// The reason in English (JSON, and the CSV when `exports.lang = "en"`).
  public var reason: String
  var priority: Double
  /// The reason as data, for the CSV in another language; nil in entries
  /// read back from JSON (the writer then uses `reason`).
  var why: CampaignReason? = nil

  /// `why` stays out of the JSON; `customerId` is what the snake-case
  /// strategies map to and from `customer_id`.
  enum CodingKeys: String, CodingKey {
    case customerID = "customerId"
    case reason, priority
  }
}

/// One exported list: `exports/<name>.json` (and `.csv`).
struct CampaignList: Sendable, Codable {
  public var list: String
  public var runID: String
  public var asOf: String
  var priority: String
  /// "raw" or "hmac-sha256-16" (pseudonymous ids).
  public var ids: String
  var contactCap: Int
  var entries: [CampaignEntry]

  /// `runId` is what the snake-case strategies map to and from `run_id`.
  enum CodingKeys: String, CodingKey {
    case list, asOf, priority, ids, contactCap, entries
    case runID = "runId"
  }
}

/// Builds the lists from facts and tags and applies the contact cap.
enum CampaignLists {
  /// Candidates of every list of `kinds` before the cap: per list, (customer
  /// index, reason, priority) in customer order, plus warnings for lists
  /// that cannot be filled yet (such a list is empty).
  ///
  /// One pass over the customers for all lists, in fixed chunks on every
  /// core, joined in chunk order: a customer's facts (`facts[c]`, with its
  /// treatments and next purchases as arrays of strings) are made once, not
  /// once per list. A pass per list on one core was most of the campaign
  /// lists' time (400 of 541 samples in a 1M-row `koi run` profile).
  static func candidates(
    _ kinds: [CampaignListKind], facts: CustomerFactTable, tags: CustomerTags, options: ExportOptions
  ) -> (perList: [[(Int, CampaignReason, Double)]], warnings: [String]) {
    var warnings: [String] = []
    var fillable = [Bool](repeating: true, count: kinds.count)
    for (l, kind) in kinds.enumerated() {
      switch kind {
      case .dueSoon where facts.nextPurchases == nil:
        warnings.append("due_soon is empty: it needs the repurchase-interval stage, which did not run.")
        fillable[l] = false
      case .crossSell where facts.oneOffOnly == nil:
        warnings.append("cross_sell is empty: it needs [category_priors] marking one-off treatments.")
        fillable[l] = false
      default: break
      }
    }
    let lists = kinds.indices.filter { fillable[$0] }
    var perList = [[(Int, CampaignReason, Double)]](repeating: [], count: kinds.count)
    guard !lists.isEmpty else { return (perList, warnings) }
    let chunks = Parallel.chunkCount(for: facts.count)
    let parts = Parallel.map(chunks) { chunk in
      var out = [[(Int, CampaignReason, Double)]](repeating: [], count: kinds.count)
      for c in Parallel.chunk(chunk, of: chunks, count: facts.count) {
        let f = facts[c]
        var customerTags: [String]?
        for l in lists {
          let kind = kinds[l]
          if kind == .kocCandidates || kind == .winBack, customerTags == nil { customerTags = tags[c] }
          if let (reason, priority) = candidate(kind, f, tags: customerTags ?? [], options: options) {
            out[l].append((c, reason, rounded(priority, 2)))
          }
        }
      }
      return out
    }
    for l in lists { perList[l] = parts.flatMap { $0[l] } }
    return (perList, warnings)
  }

  /// Customer `f`'s entry in a list of `kind`, if it belongs there: the
  /// reason and the priority (not yet rounded). `tags` are the customer's
  /// tags (needed by the KOC and win-back lists only).
  static func candidate(
    _ kind: CampaignListKind, _ f: CustomerFacts, tags: [String], options: ExportOptions
  ) -> (CampaignReason, Double)? {
    let aov = f.averageOrderValue ?? 0
    switch kind {
    case .dueSoon:
      var best: (CampaignReason, Double)?
      for np in f.nextPurchases ?? [] {
        guard let d = np.dueInDays, d <= Double(options.dueWithinDays) else { continue }
        let p = np.probabilityWithinHorizon ?? 1
        let reason: CampaignReason =
          d < 0
          ? .overdue(category: np.category, byDays: Int(-d))
          : .due(category: np.category, inDays: Int(d.rounded(.up)))
        if best.map({ p * aov > $0.1 }) ?? true { best = (reason, p * aov) }
      }
      return best
    case .highValueAtRisk:
      guard let s = f.segment, s == .atRisk || s == .cantLoseThem,
        let pct = f.monetaryPercentile, pct >= 1 - options.highValueShare
      else { return nil }
      return (
        .highValueAtRisk(segment: s, topPercent: Int((options.highValueShare * 100).rounded())),
        f.clv ?? f.monetary ?? 0
      )
    case .kocCandidates:
      guard tags.contains("koc_candidate") else { return nil }
      return (.kocCandidate(tier: f.tierName ?? f.tierID.map(String.init)), f.clv ?? f.monetary ?? 0)
    case .winBack:
      guard tags.contains("win_back") else { return nil }
      return (.winBack(segment: f.segment, daysSinceLastPurchase: f.recencyDays ?? 0), aov * (f.pAlive ?? 1))
    case .crossSell:
      guard f.oneOffOnly == true, f.segment != .lost else { return nil }
      return (.crossSell(categories: f.categories ?? []), aov)
    }
  }

  /// Which entries of `perList` the contact cap keeps (`[list][entry]`):
  /// each customer's best `cap` lists by priority, ties to the list named
  /// first. A list has a customer at most once. The entries are gathered
  /// by customer into one flat array (counts, then offsets), not into a
  /// dictionary of arrays and a set of `[customer, list]` arrays: the
  /// exports step of a 10M-row `koi run` took 6.2 s with those, 3.75 s
  /// with this (one run each).
  static func contactCap(_ perList: [[(Int, CampaignReason, Double)]], customers: Int, cap: Int) -> [[Bool]] {
    var start = [Int](repeating: 0, count: customers + 1)
    for entries in perList { for e in entries { start[e.0 + 1] += 1 } }
    for c in 0..<customers { start[c + 1] += start[c] }
    var next = start
    var slots = [(list: Int, entry: Int, priority: Double)](repeating: (0, 0, 0), count: start[customers])
    for (l, entries) in perList.enumerated() {
      for (i, e) in entries.enumerated() {
        slots[next[e.0]] = (l, i, e.2)
        next[e.0] += 1
      }
    }
    var keep = perList.map { [Bool](repeating: false, count: $0.count) }
    for c in 0..<customers where start[c] < start[c + 1] {
      var mine = slots[start[c]..<start[c + 1]]
      if mine.count > cap {
        mine.sort { $0.priority != $1.priority ? $0.priority > $1.priority : $0.list < $1.list }
      }
      for s in mine.prefix(cap) { keep[s.list][s.entry] = true }
    }
    return keep
  }

  /// The lists in `options.lists` order, each sorted by priority (highest
  /// first; ties by customer id), with at most `options.contactCap` lists
  /// per customer.
  ///
  /// Contact cap tie rule: a customer keeps the lists with the highest
  /// priority for them; equal priorities keep the list named earlier in
  /// `exports.lists`.
  ///
  /// - Complexity: O(E log E) for E candidate entries.
  public static func build(
    facts: CustomerFactTable, tags: CustomerTags, customerIDs: [String], exportedIDs: [String],
    options: ExportOptions, runID: String, asOf: String
  ) -> (lists: [CampaignList], warnings: [String]) {
    let (perList, warnings) = candidates(options.lists, facts: facts, tags: tags, options: options)
    let keep = contactCap(perList, customers: facts.count, cap: options.contactCap)
    let idsKind = options.hashIDsSalt == nil ? "raw" : "hmac-sha256-16"
    var lists: [CampaignList] = []
    for (l, kind) in options.lists.enumerated() {
      let kept = perList[l].indices.filter { keep[l][$0] }.map { perList[l][$0] }
        .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : customerIDs[$0.0] < customerIDs[$1.0] }
      lists.append(
        CampaignList(
          list: kind.rawValue, runID: runID, asOf: asOf, priority: kind.priorityDefinition,
          ids: idsKind, contactCap: options.contactCap,
          entries: kept.map {
            CampaignEntry(customerID: exportedIDs[$0.0], reason: $0.1.text(.en), priority: $0.2, why: $0.1)
          }))
    }
    return (lists, warnings)
  }
}
