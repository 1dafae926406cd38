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

/// Tags of every customer, in rule order: ids into `names`, stored flat.
public struct CustomerTags: Sendable {
  /// Every tag a rule can give: a rule's name, or a per-category rule's
  /// name for each treatment.
  let names: [String]
  let ids: RaggedColumn<Int32>

  init(names: [String], ids: RaggedColumn<Int32>) {
    self.names = names
    self.ids = ids
  }

  /// Tags given as lists of names (a run recovered from its directory).
  init(_ lists: [[String]]) {
    var index: [String: Int32] = [:]
    var names: [String] = []
    ids = RaggedColumn(
      lists.map { list in
        list.map { name in
          if let id = index[name] { return id }
          names.append(name)
          index[name] = Int32(names.count - 1)
          return Int32(names.count - 1)
        }
      })
    self.names = names
  }

  public var count: Int { ids.count }

  /// Customer `c`'s tags.
  public subscript(c: Int) -> [String] { ids[c].map { names[Int($0)] } }
}

/// Applies tag rules to customers: each condition is compiled once into a
/// test on the fact table's columns, so evaluating makes no per-customer
/// values, strings or dictionaries.
struct TagEngine: Sendable {
  let rules: [TagRule]

  public init(rules: [TagRule]) { self.rules = rules }

  /// Tags of every customer, evaluated in parallel over fixed chunks of
  /// customers (rules are pure, so the result does not depend on
  /// chunking), plus one warning per fact that rules needed and no stage
  /// provided.
  ///
  /// - Complexity: O(customers × conditions × categories).
  func tagAll(_ facts: CustomerFactTable) -> (tags: CustomerTags, warnings: [String]) {
    // Tag ids: rule k's is first[k]; a per-category rule has one per
    // treatment of the next-purchase facts, in their order.
    let treatments = facts.nextPurchases?.names ?? []
    var names: [String] = []
    var first: [Int32] = []
    for rule in rules {
      first.append(Int32(names.count))
      if rule.perCategory {
        names += treatments.map { rule.name.replacingOccurrences(of: "{category}", with: categorySlug($0)) }
      } else {
        names.append(rule.name)
      }
    }
    let compiled = CompiledRules(rules)
    let (ids, missingByChunk) = compiled.withBuffers(first: first) { view in
      RaggedColumn<Int32>.build(count: facts.count, minimumChunk: 4096, state: UInt32(0)) { c, out, missing in
        view.tags(of: c, in: facts, into: &out, missing: &missing)
      }
    }
    let missing = missingByChunk.reduce(0, |)
    var warnings: [String] = []
    for fact in TagFact.allCases where missing & fact.bit != 0 {
      let users = rules.filter { $0.facts.contains(fact) }.map { UserText.excerpt($0.name) }
      warnings.append(
        "tag rules \(users.joined(separator: ", ")) use \(fact.rawValue), which this run does not provide for every customer; where it is missing they did not fire."
      )
    }
    return (CustomerTags(names: names, ids: ids), warnings)
  }
}

extension TagFact {
  /// This fact's bit in a set of facts.
  var bit: UInt32 { 1 << UInt32(Self.allCases.firstIndex(of: self)!) }  // every case is in allCases
}

/// Rules compiled for `TagEngine`: every condition in one array, each
/// rule a range of it for `all` and one for `any`, and every value in
/// another, so a condition holds no references and evaluating counts none
/// per customer.
private struct CompiledRules {
  struct Rule {
    let all: Range<Int>
    let any: Range<Int>
    let perCategory: Bool
    /// The facts the rule reads, as bits.
    let facts: UInt32
  }
  let rules: [Rule]
  let conditions: [CompiledCondition]
  /// The values of every condition (`in` lists them all).
  let numbers: [Double]

  init(_ rules: [TagRule]) {
    var conditions: [CompiledCondition] = []
    var numbers: [Double] = []
    self.rules = rules.map { rule in
      let all = conditions.count..<(conditions.count + rule.all.count)
      conditions += rule.all.map { CompiledCondition($0, numbers: &numbers) }
      let any = conditions.count..<(conditions.count + rule.any.count)
      conditions += rule.any.map { CompiledCondition($0, numbers: &numbers) }
      return Rule(all: all, any: any, perCategory: rule.perCategory, facts: rule.facts.reduce(0) { $0 | $1.bit })
    }
    self.conditions = conditions
    self.numbers = numbers
  }

  /// Calls `body` with the rules, conditions, values and first tag ids as
  /// buffers, valid for the call: a per-customer evaluation then touches
  /// no array's reference count (reaching the arrays per customer retained
  /// and released them, ~3% of an RFM-only run's samples at 10M rows).
  func withBuffers<R>(first: [Int32], _ body: (View) -> R) -> R {
    rules.withUnsafeBufferPointer { rules in
      conditions.withUnsafeBufferPointer { conditions in
        numbers.withUnsafeBufferPointer { numbers in
          first.withUnsafeBufferPointer { first in
            body(View(rules: rules, conditions: conditions, numbers: numbers, first: first))
          }
        }
      }
    }
  }

  struct View {
    let rules: UnsafeBufferPointer<Rule>
    let conditions: UnsafeBufferPointer<CompiledCondition>
    let numbers: UnsafeBufferPointer<Double>
    /// Rule k's tag id (`TagEngine.tagAll`).
    let first: UnsafeBufferPointer<Int32>

    /// Appends customer `c`'s tag ids (rule k's is `first[k]`, plus the
    /// treatment for a per-category rule) in rule order; facts a rule
    /// could not be told go into `missing`.
    func tags(of c: Int, in t: CustomerFactTable, into out: inout [Int32], missing: inout UInt32) {
      for k in rules.indices {
        let rule = rules[k]
        if !rule.perCategory {
          if CompiledRules.fires(rule, conditions, numbers, t, c, entry: -1, &missing) { out.append(first[k]) }
        } else if let entries = t.nextPurchases?.entries[c] {
          // (Not `if let next = t.nextPurchases`: that copied the columns.)
          for e in entries where CompiledRules.fires(rule, conditions, numbers, t, c, entry: Int(e), &missing) {
            out.append(first[k] + t.nextPurchases!.category[Int(e)])  // non-nil: entries came from it
          }
        } else {
          missing |= rule.facts
        }
      }
    }
  }

  /// Whether `rule` gives customer `c` its tag (for next-purchase entry
  /// `entry` of a per-category rule, -1 otherwise); a condition that could
  /// not be told adds its fact to `missing` and does not hold.
  private static func fires(
    _ rule: Rule, _ conditions: UnsafeBufferPointer<CompiledCondition>, _ numbers: UnsafeBufferPointer<Double>,
    _ t: CustomerFactTable, _ c: Int, entry: Int, _ missing: inout UInt32
  ) -> Bool {
    for i in rule.all {
      switch conditions[i].evaluate(t, c, entry: entry, numbers: numbers) {
      case .yes: continue
      case .no: return false
      case .unknown: missing |= conditions[i].bit; return false
      }
    }
    if rule.any.isEmpty { return true }
    var hit = false
    for i in rule.any {
      switch conditions[i].evaluate(t, c, entry: entry, numbers: numbers) {
      case .yes: hit = true
      case .no: break
      case .unknown: missing |= conditions[i].bit
      }
    }
    return hit
  }
}

/// A condition compiled for `TagEngine`: its values parsed once.
private struct CompiledCondition {
  let fact: TagFact
  let bit: UInt32
  let op: TagCondition.Op
  /// Numeric facts: the value (the first, for `in`), and all of them as
  /// a range of `CompiledRules.numbers`.
  let number: Double
  let numbers: Range<Int>
  /// Text facts: the listed segments, and the tier ids whose names are
  /// listed (0: no tier, named ""), as bits by `RFMSegment.allCases`
  /// index and tier id; whether `true` and `false` are listed.
  let segments: UInt32
  let tiers: UInt32
  let listsTrue: Bool
  let listsFalse: Bool

  /// Compiles `c`, appending its numbers to `numbers`.
  init(_ c: TagCondition, numbers: inout [Double]) {
    fact = c.fact
    bit = c.fact.bit
    op = c.op
    let mine = c.values.compactMap(Double.init)
    self.numbers = numbers.count..<(numbers.count + mine.count)
    numbers += mine
    number = mine.first ?? 0
    segments = RFMSegment.allCases.reduce(0) { $0 | (c.values.contains($1.rawValue) ? 1 << $1.ordinal : 0) }
    tiers = (0...PriceSensitivityTier.allCases.count).reduce(0) {
      $0 | (c.values.contains(PriceSensitivityTier(rawValue: $1)?.id ?? "") ? 1 << $1 : 0)
    }
    listsTrue = c.values.contains("true")
    listsFalse = c.values.contains("false")
  }

  func evaluate(_ t: CustomerFactTable, _ c: Int, entry: Int, numbers: UnsafeBufferPointer<Double>)
    -> TagCondition.Outcome
  {
    // Each fact is read through optional chaining down to the element: a
    // binding or `map` of `t.rfm` may copy the whole RFMColumns (seven
    // arrays to retain and release) per condition and customer.
    let x: Double?
    switch fact {
    case .segment:
      guard let segment = t.rfm?.segment[c] else { return .unknown }
      return text(listed: segments & (1 << segment.ordinal) != 0)
    case .tierName:
      guard let tier = t.tierID?[c] else { return .unknown }
      return text(listed: (0..<32).contains(tier) && tiers & (1 << tier) != 0)
    case .oneOffOnly:
      guard let oneOff = t.oneOffOnly?[c] else { return .unknown }
      return text(listed: oneOff ? listsTrue : listsFalse)
    case .rScore: x = (t.rfm?.rScore[c]).map(Double.init)
    case .fScore: x = (t.rfm?.fScore[c]).map(Double.init)
    case .mScore: x = (t.rfm?.mScore[c]).map(Double.init)
    case .monetary: x = t.rfm?.monetary[c]
    case .monetaryPercentile: x = t.monetaryPercentile?[c]
    case .averageOrderValue:
      if let frequency = t.rfm?.frequency[c], let monetary = t.rfm?.monetary[c] {
        x = frequency > 0 ? monetary / Double(frequency) : nil
      } else {
        x = nil
      }
    case .recencyDays: x = (t.rfm?.recencyDays[c]).map(Double.init)
    case .frequency: x = (t.rfm?.frequency[c]).map(Double.init)
    case .tierID: x = (t.tierID?[c]).map(Double.init)
    case .pAlive: x = t.pAlive?[c]
    case .clv: x = t.clv?[c]
    case .dueInDays: x = entry >= 0 ? t.nextPurchases?.dueInDays[entry] : nil
    case .dueProbability: x = entry >= 0 ? t.nextPurchases?.probabilityWithinHorizon[entry] : nil
    }
    guard let x, x.isFinite else { return .unknown }
    let r: Bool
    switch op {
    case .eq: r = x == number
    case .ne: r = x != number
    case .ge: r = x >= number
    case .le: r = x <= number
    case .gt: r = x > number
    case .lt: r = x < number
    case .isIn: r = self.numbers.contains { numbers[$0] == x }
    }
    return r ? .yes : .no
  }

  /// A text fact's outcome: listed, or not listed for `!=`.
  private func text(listed: Bool) -> TagCondition.Outcome {
    (op == .ne ? !listed : listed) ? .yes : .no
  }
}

/// The tags part of a customer record: `"tags": [...]`. The integrator adds
/// it to the field list in `ScoringRun` after the stages.
struct TagRecordFields: CustomerRecordFields {
  let tags: CustomerTags
  /// Each tag name as a JSON string literal, made once.
  private let literals: JSONStringLiterals

  init(tags: CustomerTags) {
    self.tags = tags
    literals = JSONStringLiterals(tags.names)
  }

  public func write(customer c: Int, into w: inout JSONWriter) {
    w.key("tags")
    w.beginArray()
    // By position, not through the slice `tags.ids[c]`, which retained the
    // shared id array for every customer.
    for k in tags.ids.start[c]..<tags.ids.start[c + 1] { w.encodedString(literals, Int(tags.ids.values[k])) }
    w.endArray()
  }
}
