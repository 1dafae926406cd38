import Foundation

/// A fact a tag rule can test. Names are those of customers.jsonl where the
/// field exists there.
enum TagFact: String, CaseIterable, Sendable {
  case segment
  case rScore = "r_score"
  case fScore = "f_score"
  case mScore = "m_score"
  case monetary
  case monetaryPercentile = "monetary_percentile"
  case averageOrderValue = "average_order_value"
  case recencyDays = "recency_days"
  case frequency
  case oneOffOnly = "one_off_only"
  case tierID = "tier_id"
  case tierName = "tier_name"
  case pAlive = "p_alive"
  case clv
  /// Per category (rules with `per_category = true` only).
  case dueInDays = "due_in_days"
  case dueProbability = "due_probability"

  var isPerCategory: Bool { self == .dueInDays || self == .dueProbability }
  var isText: Bool { self == .segment || self == .tierName }
}

/// One test: `FACT OP VALUE`, e.g. `segment in [at_risk, hibernating]`,
/// `monetary_percentile >= 0.95`, `tier_id == 2`, `one_off_only == true`.
struct TagCondition: Sendable, Equatable, CustomStringConvertible {
  enum Op: String, Sendable, CaseIterable {
    case eq = "=="
    case ne = "!="
    case ge = ">="
    case le = "<="
    case gt = ">"
    case lt = "<"
    case isIn = "in"
  }
  var fact: TagFact
  var op: Op
  public var values: [String]
  public var description: String { "\(fact.rawValue) \(op.rawValue) \(values.joined(separator: ", "))" }

  struct Reason: Error { let text: String; init(_ text: String) { self.text = text } }

  /// Parses `FACT OP VALUE`; nil with a reason when it is not of that form.
  static func parse(_ text: String) -> Result<TagCondition, Reason> {
    let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
    guard parts.count == 3 else {
      return .failure(Reason("expected \"FACT OP VALUE\" such as \"monetary_percentile >= 0.95\", got \"\(text)\""))
    }
    guard let fact = TagFact(rawValue: parts[0]) else {
      return .failure(
        Reason(
          "unknown fact \"\(parts[0])\" in \"\(text)\"; the facts are \(TagFact.allCases.map(\.rawValue).joined(separator: ", "))"
        ))
    }
    guard let op = Op(rawValue: parts[1]) else {
      return .failure(Reason("unknown operator \"\(parts[1])\" in \"\(text)\"; use one of == != >= <= > < in"))
    }
    var raw = parts[2].trimmingCharacters(in: .whitespaces)
    if raw.hasPrefix("[") && raw.hasSuffix("]") { raw = String(raw.dropFirst().dropLast()) }
    let values = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !values.isEmpty, op == .isIn || values.count == 1 else {
      return .failure(Reason("expected one value after \(op.rawValue) in \"\(text)\""))
    }
    if fact == .segment {
      for v in values where RFMSegment(rawValue: v) == nil {
        return .failure(
          Reason(
            "unknown segment \"\(v)\" in \"\(text)\"; the segments are \(RFMSegment.allCases.map(\.rawValue).joined(separator: ", "))"
          ))
      }
    } else if fact == .oneOffOnly {
      guard values.allSatisfy({ $0 == "true" || $0 == "false" }), op == .eq || op == .ne else {
        return .failure(Reason("one_off_only takes == true, == false or != …, got \"\(text)\""))
      }
    } else if !fact.isText {
      for v in values where Double(v) == nil {
        return .failure(Reason("expected a number after \(op.rawValue) in \"\(text)\", got \"\(v)\""))
      }
    }
    return .success(TagCondition(fact: fact, op: op, values: values))
  }

  enum Outcome { case yes, no, unknown }

  func evaluate(_ f: CustomerFacts, category: CategoryNextPurchase?) -> Outcome {
    let text: String?
    let number: Double?
    switch fact {
    case .segment: text = f.segment?.rawValue; number = nil
    case .tierName: text = f.tierName; number = nil
    case .oneOffOnly: text = f.oneOffOnly.map { String($0) }; number = nil
    case .rScore: text = nil; number = f.rScore.map(Double.init)
    case .fScore: text = nil; number = f.fScore.map(Double.init)
    case .mScore: text = nil; number = f.mScore.map(Double.init)
    case .monetary: text = nil; number = f.monetary
    case .monetaryPercentile: text = nil; number = f.monetaryPercentile
    case .averageOrderValue: text = nil; number = f.averageOrderValue
    case .recencyDays: text = nil; number = f.recencyDays.map(Double.init)
    case .frequency: text = nil; number = f.frequency.map(Double.init)
    case .tierID: text = nil; number = f.tierID.map(Double.init)
    case .pAlive: text = nil; number = f.pAlive
    case .clv: text = nil; number = f.clv
    case .dueInDays: text = nil; number = category?.dueInDays
    case .dueProbability: text = nil; number = category?.probabilityWithinHorizon
    }
    if fact.isText || fact == .oneOffOnly {
      guard let text else { return .unknown }
      let hit = values.contains(text)
      return (op == .ne ? !hit : hit) ? .yes : .no
    }
    guard let x = number, x.isFinite else { return .unknown }
    let vs = values.compactMap(Double.init)
    let v = vs.first ?? 0
    let r: Bool
    switch op {
    case .eq: r = x == v
    case .ne: r = x != v
    case .ge: r = x >= v
    case .le: r = x <= v
    case .gt: r = x > v
    case .lt: r = x < v
    case .isIn: r = vs.contains(x)
    }
    return r ? .yes : .no
  }
}

/// A tag rule (`[[tags]]`): the tag `name` is given when all conditions in
/// `all` hold and at least one in `any` holds (an empty list holds). With
/// `per_category = true` the rule is tried once per category the interval
/// stage predicts, and `{category}` in the name is replaced by the
/// category's slug (`hyaluronic_acid_filler_due_30d`).
///
/// `group` and `name_zh` are for the SCRM: the tag group the tag belongs to
/// and the name operators see (`{category}` in `name_zh` is replaced by the
/// category's name as in the data). customers.jsonl, tags.jsonl and
/// tag_changes.jsonl carry `name`; exports/tag_dictionary.json maps each
/// name to its group and display name. All three are checked against
/// `WeComTagLimits` at load.
struct TagRule: Sendable, Equatable {
  public var name: String
  public var all: [TagCondition]
  public var any: [TagCondition]
  var perCategory: Bool
  /// The SCRM tag group (WeCom 标签组), nil when not set.
  var group: String?
  /// The display name (WeCom 标签名称), nil to show `name`.
  var nameZH: String?

  public init(
    name: String, all: [TagCondition] = [], any: [TagCondition] = [], perCategory: Bool = false,
    group: String? = nil, nameZH: String? = nil
  ) {
    self.name = name
    self.all = all
    self.any = any
    self.perCategory = perCategory
    self.group = group
    self.nameZH = nameZH
  }

  /// The name the SCRM shows: `name_zh` when set, else `name`.
  var displayName: String { nameZH ?? name }

  /// The facts this rule reads.
  public var facts: Set<TagFact> { Set((all + any).map(\.fact)) }

  static func parse(_ t: ConfigTableReader) throws -> TagRule {
    guard let name = try t.string("name", expected: "a tag name such as \"vip\""), !name.isEmpty else {
      throw t.error("name", "missing; every [[tags]] needs name = \"…\"")
    }
    func conditions(_ key: String) throws -> [TagCondition] {
      try (t.stringArray(key, expected: "a list of conditions such as [\"segment == champions\"]") ?? []).map {
        switch TagCondition.parse($0) {
        case let .success(c): return c
        case let .failure(reason): throw t.error(key, reason.text)
        }
      }
    }
    let all = try conditions("all"), any = try conditions("any")
    let perCategory = try t.bool("per_category") ?? false
    guard !all.isEmpty || !any.isEmpty else {
      throw t.error("all", "a rule needs at least one condition in all or any")
    }
    if !perCategory, let c = (all + any).first(where: { $0.fact.isPerCategory }) {
      throw t.error("per_category", "\(c.fact.rawValue) is per category; set per_category = true")
    }
    if perCategory && !name.contains("{category}") {
      throw t.error("name", "a per-category rule needs {category} in its name, e.g. \"{category}_due_30d\"")
    }
    let placeholder = perCategory ? "{category}" : nil
    if let p = WeComTagLimits.problem(name, what: "the tag name", placeholder: placeholder) { throw t.error("name", p) }
    let group = try t.string("group", expected: "a tag group name such as \"客户价值\"")
    if let group, let p = WeComTagLimits.problem(group, what: "the group name") { throw t.error("group", p) }
    let nameZH = try t.string("name_zh", expected: "a display name such as \"高价值客户\"")
    if let nameZH {
      if let p = WeComTagLimits.problem(nameZH, what: "the display name", placeholder: placeholder) {
        throw t.error("name_zh", p)
      }
      if perCategory && !nameZH.contains("{category}") {
        throw t.error(
          "name_zh",
          "a per-category rule needs {category} in its display name too (one tag per category), e.g. \"{category}30天内到期\""
        )
      }
    }
    try t.finish()
    return TagRule(name: name, all: all, any: any, perCategory: perCategory, group: group, nameZH: nameZH)
  }

  private static func c(_ s: String) -> TagCondition {
    switch TagCondition.parse(s) {
    case let .success(c): return c
    case let .failure(reason): preconditionFailure("built-in rule: \(reason.text)")
    }
  }

  /// The built-in rules, used when the configuration has no `[[tags]]`.
  static let defaults: [TagRule] = [
    TagRule(
      name: "vip", any: [c("segment == champions"), c("monetary_percentile >= 0.95")],
      group: "客户价值", nameZH: "VIP客户"),
    TagRule(name: "high_value", all: [c("monetary_percentile >= 0.8")], group: "客户价值", nameZH: "高价值客户"),
    TagRule(
      name: "win_back", all: [c("segment in [at_risk, cant_lose_them, hibernating]")],
      group: "客户状态", nameZH: "待挽回"),
    TagRule(
      name: "koc_candidate", all: [c("tier_id == 2"), c("monetary_percentile >= 0.8")],
      group: "客户价值", nameZH: "KOC候选"),
    TagRule(name: "one_off_only", all: [c("one_off_only == true")], group: "消费特征", nameZH: "仅一次性项目"),
    TagRule(
      name: "{category}_due_30d", all: [c("due_in_days <= 30")], perCategory: true,
      group: "复购提醒", nameZH: "{category}30天内到期"),
  ]
}

/// Turns a category name into a tag-safe slug: ASCII letters and digits
/// lower-cased, other runs of characters as `_`; non-ASCII letters (Chinese
/// names) are kept as they are.
func categorySlug(_ name: String) -> String {
  var out = ""
  var lastUnderscore = false
  for ch in name.lowercased() {
    if ch.isLetter || ch.isNumber {
      out.append(ch); lastUnderscore = false
    } else if !lastUnderscore && !out.isEmpty {
      out.append("_"); lastUnderscore = true
    }
  }
  while out.hasSuffix("_") { out.removeLast() }
  return out
}

/// Applies tag rules to customers.
struct TagEngine: Sendable {
  let rules: [TagRule]

  public init(rules: [TagRule]) { self.rules = rules }

  /// Tags of one customer, in rule order; `missing` collects the facts a
  /// rule needed but the customer did not have.
  public func tags(for f: CustomerFacts, missing: inout Set<TagFact>) -> [String] {
    var names: [String: [String]] = [:]
    return tags(for: f, missing: &missing, names: &names)
  }

  /// `tags(for:missing:)` with a cache, shared across customers, of each
  /// category's per-category tag names (category → one name per rule, in
  /// rule order; "" for a rule that is not per category): the names are
  /// made once per category, not once per customer.
  func tags(for f: CustomerFacts, missing: inout Set<TagFact>, names: inout [String: [String]]) -> [String] {
    var out: [String] = []
    for (k, rule) in rules.enumerated() {
      if rule.perCategory {
        for np in f.nextPurchases ?? [] where fires(rule, f, np, &missing) {
          if let cached = names[np.category] {
            out.append(cached[k])
          } else {
            let slug = categorySlug(np.category)
            let made = rules.map { $0.perCategory ? $0.name.replacingOccurrences(of: "{category}", with: slug) : "" }
            names[np.category] = made
            out.append(made[k])
          }
        }
        if f.nextPurchases == nil { missing.formUnion(rule.facts) }
      } else if fires(rule, f, nil, &missing) {
        out.append(rule.name)
      }
    }
    return out
  }

  private func fires(_ r: TagRule, _ f: CustomerFacts, _ np: CategoryNextPurchase?, _ missing: inout Set<TagFact>)
    -> Bool
  {
    for c in r.all {
      switch c.evaluate(f, category: np) {
      case .yes: continue
      case .no: return false
      case .unknown: missing.insert(c.fact); return false
      }
    }
    if r.any.isEmpty { return true }
    var hit = false
    for c in r.any {
      switch c.evaluate(f, category: np) {
      case .yes: hit = true
      case .no: break
      case .unknown: missing.insert(c.fact)
      }
    }
    return hit
  }

  /// Tags for every customer, plus one warning per fact that rules needed
  /// and no stage provided.
  ///
  /// - Complexity: O(customers × conditions).
  /// Tags of every customer, evaluated in parallel over fixed chunks of
  /// customers (rules are pure, so the result does not depend on chunking).
  ///
  /// - Complexity: O(customers × rules × categories).
  func tagAll(_ facts: CustomerFactTable) -> (tags: [[String]], warnings: [String]) {
    var tags = [[String]](repeating: [], count: facts.count)
    let chunks = Parallel.chunkCount(for: facts.count, minimumChunk: 4096)
    var missingByChunk = [Set<TagFact>](repeating: [], count: chunks)
    tags.withUnsafeMutableBufferPointer { out in
      missingByChunk.withUnsafeMutableBufferPointer { missingOut in
        Parallel.forEachChunk(count: facts.count, chunkCount: chunks) { k, range in
          var missing = Set<TagFact>()
          var names: [String: [String]] = [:]
          for c in range { out[c] = self.tags(for: facts[c], missing: &missing, names: &names) }
          missingOut[k] = missing
        }
      }
    }
    let missing = missingByChunk.reduce(into: Set<TagFact>()) { $0.formUnion($1) }
    var warnings: [String] = []
    for fact in TagFact.allCases where missing.contains(fact) {
      let users = rules.filter { $0.facts.contains(fact) }.map { UserText.excerpt($0.name) }
      warnings.append(
        "tag rules \(users.joined(separator: ", ")) use \(fact.rawValue), which this run does not provide for every customer; where it is missing they did not fire."
      )
    }
    return (tags, warnings)
  }
}

/// The tags part of a customer record: `"tags": [...]`. The integrator adds
/// it to the field list in `ScoringRun` after the stages.
struct TagRecordFields: CustomerRecordFields {
  let tags: [[String]]

  public init(tags: [[String]]) { self.tags = tags }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("tags")
    w.beginArray()
    for t in tags[c] { w.string(t) }
    w.endArray()
  }
}
