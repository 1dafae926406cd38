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

  public var priorityDefinition: String {
    switch self {
    case .dueSoon: return "P(purchase in the category within the horizon) × average order value"
    case .highValueAtRisk, .kocCandidates: return "customer lifetime value when available, else net amount"
    case .winBack: return "average order value × P(alive) (1 when not available)"
    case .crossSell: return "average order value"
    }
  }
}

/// One customer on one list.
public struct CampaignEntry: Sendable, Equatable, Codable {
  public var customerID: String
  public var reason: String
  public var priority: Double

  enum CodingKeys: String, CodingKey {
    case customerID = "customer_id"
    case reason, priority
  }
}

/// One exported list: `exports/<name>.json` (and `.csv`).
public struct CampaignList: Sendable, Codable {
  public var list: String
  public var runID: String
  public var asOf: String
  public var priority: String
  /// "raw" or "hmac-sha256-16" (pseudonymous ids).
  public var ids: String
  public var contactCap: Int
  public var entries: [CampaignEntry]

  enum CodingKeys: String, CodingKey {
    case list
    case runID = "run_id"
    case asOf = "as_of"
    case priority, ids
    case contactCap = "contact_cap"
    case entries
  }
}

/// Builds the lists from facts and tags and applies the contact cap.
public enum CampaignLists {
  /// Candidates of every list before the cap: (customer index, reason,
  /// priority), plus warnings for lists that cannot be filled yet.
  static func candidates(
    _ kind: CampaignListKind, facts: CustomerFactTable, tags: [[String]], options: ExportOptions
  ) -> (entries: [(Int, String, Double)], warning: String?) {
    var out: [(Int, String, Double)] = []
    let highValueFloor = 1 - options.highValueShare
    switch kind {
    case .dueSoon:
      guard facts.nextPurchases != nil else {
        return ([], "due_soon is empty: it needs the repurchase-interval stage, which did not run.")
      }
    case .crossSell:
      guard facts.oneOffOnly != nil else {
        return ([], "cross_sell is empty: it needs [category_priors] marking one-off treatments.")
      }
    default: break
    }
    for c in 0..<facts.count {
      let f = facts[c]
      let aov = f.averageOrderValue ?? 0
      switch kind {
      case .dueSoon:
        var best: (String, Double)?
        for np in f.nextPurchases ?? [] {
          guard let d = np.dueInDays, d <= Double(options.dueWithinDays) else { continue }
          let p = np.probabilityWithinHorizon ?? 1
          let reason = d < 0 ? "\(np.category) overdue by \(Int(-d)) days" : "\(np.category) due in \(Int(d.rounded(.up))) days"
          if best.map({ p * aov > $0.1 }) ?? true { best = (reason, p * aov) }
        }
        if let best { out.append((c, best.0, best.1)) }
      case .highValueAtRisk:
        guard let s = f.segment, s == .atRisk || s == .cantLoseThem,
              let pct = f.monetaryPercentile, pct >= highValueFloor else { continue }
        out.append((c, "\(s.rawValue), top \(Int((options.highValueShare * 100).rounded()))% by spend", f.clv ?? f.monetary ?? 0))
      case .kocCandidates:
        guard tags[c].contains("koc_candidate") else { continue }
        out.append((c, "tier \(f.tierName ?? f.tierID.map(String.init) ?? "?"), high value", f.clv ?? f.monetary ?? 0))
      case .winBack:
        guard tags[c].contains("win_back") else { continue }
        out.append((c, "\(f.segment?.rawValue ?? "?"), \(f.recencyDays ?? 0) days since last purchase", aov * (f.pAlive ?? 1)))
      case .crossSell:
        guard f.oneOffOnly == true, f.segment != .lost else { continue }
        out.append((c, "bought only one-off treatments: \((f.categories ?? []).joined(separator: ", "))", aov))
      }
    }
    return (out, nil)
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
    facts: CustomerFactTable, tags: [[String]], customerIDs: [String], exportedIDs: [String],
    options: ExportOptions, runID: String, asOf: String
  ) -> (lists: [CampaignList], warnings: [String]) {
    var warnings: [String] = []
    var perList: [[(Int, String, Double)]] = []
    for kind in options.lists {
      let (e, w) = candidates(kind, facts: facts, tags: tags, options: options)
      if let w { warnings.append(w) }
      perList.append(e.map { ($0.0, $0.1, rounded($0.2, 2)) })
    }
    // Contact cap: per customer, keep the best `contactCap` (list, entry).
    var byCustomer: [Int: [(list: Int, priority: Double)]] = [:]
    for (l, entries) in perList.enumerated() {
      for e in entries { byCustomer[e.0, default: []].append((l, e.2)) }
    }
    var keep = Set<[Int]>()
    for (c, lists) in byCustomer {
      let chosen = lists.sorted { $0.priority != $1.priority ? $0.priority > $1.priority : $0.list < $1.list }
        .prefix(options.contactCap)
      for x in chosen { keep.insert([c, x.list]) }
    }
    let idsKind = options.hashIDsSalt == nil ? "raw" : "hmac-sha256-16"
    var lists: [CampaignList] = []
    for (l, kind) in options.lists.enumerated() {
      let kept = perList[l].filter { keep.contains([$0.0, l]) }
        .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : customerIDs[$0.0] < customerIDs[$1.0] }
      lists.append(CampaignList(
        list: kind.rawValue, runID: runID, asOf: asOf, priority: kind.priorityDefinition,
        ids: idsKind, contactCap: options.contactCap,
        entries: kept.map { CampaignEntry(customerID: exportedIDs[$0.0], reason: $0.1, priority: $0.2) }))
    }
    return (lists, warnings)
  }
}
