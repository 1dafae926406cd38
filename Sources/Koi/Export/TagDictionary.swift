/// One tag Koi's rules can give, as the SCRM creates it.
struct TagDefinition: Sendable, Equatable, Codable {
  /// The tag as customers.jsonl, tags.jsonl and tag_changes.jsonl carry it.
  public var name: String
  /// The rule's name (`{category}_due_30d` for a per-category rule).
  var rule: String
  /// The category a per-category tag is for, as in the data; nil otherwise.
  public var category: String?
  /// WeCom tag group (`group` of the rule), nil when not set.
  var group: String?
  /// Display name (`name_zh` of the rule, `{category}` replaced by the
  /// category), nil when not set.
  var nameZH: String?

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case name, rule, category, group
    case nameZH = "nameZh"
  }

  /// Every key is written; unset ones as null.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(rule, forKey: .rule)
    try c.encode(category, forKey: .category)
    try c.encode(group, forKey: .group)
    try c.encode(nameZH, forKey: .nameZH)
  }
}

/// `exports/tag_dictionary.json`: every tag this run's rules can give, with
/// its group and display name, so the SCRM can create tags and show them
/// under their Chinese names while Koi's files carry the stable `name`.
///
/// One entry per rule, in rule order; a per-category rule has one entry per
/// category in the data (in the data's category order), whether or not any
/// customer has it today. A name given by two entries (two categories with
/// one slug) is listed once, the first.
struct TagDictionary: Sendable, Codable {
  public var runID: String
  public var tags: [TagDefinition]

  /// Only keys the snake-case strategies cannot derive from the property
  /// name, given in the camelCase those strategies map to the file's key.
  enum CodingKeys: String, CodingKey {
    case tags
    case runID = "runId"
  }

  /// The dictionary, and a warning for each WeCom limit (`WeComTagLimits`)
  /// the expanded tags exceed: a name or display name over 30 characters
  /// once `{category}` is replaced, more than 3,000 tags in all. The
  /// configuration was checked at load; these depend on the data's
  /// categories, so they warn rather than fail a scheduled run.
  ///
  /// - Complexity: O(rules × categories).
  public static func build(rules: [TagRule], categories: [String], runID: String) -> (
    dictionary: TagDictionary, warnings: [String]
  ) {
    var tags: [TagDefinition] = []
    var seen = Set<String>()
    var tooLong: [String] = []
    for r in rules {
      let expansions: [(name: String, category: String?, shown: String?)] =
        r.perCategory
        ? categories.map { cat in
          (
            r.name.replacingOccurrences(of: "{category}", with: categorySlug(cat)), cat,
            r.nameZH?.replacingOccurrences(of: "{category}", with: cat)
          )
        }
        : [(r.name, nil, r.nameZH)]
      for e in expansions where seen.insert(e.name).inserted {
        tags.append(TagDefinition(name: e.name, rule: r.name, category: e.category, group: r.group, nameZH: e.shown))
        if e.name.count > WeComTagLimits.nameCharacters || (e.shown?.count ?? 0) > WeComTagLimits.nameCharacters {
          tooLong.append(e.shown.map { UserText.excerpt($0) } ?? UserText.excerpt(e.name))
        }
      }
    }
    var warnings: [String] = []
    if !tooLong.isEmpty {
      let shown = tooLong.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
      warnings.append(
        "\(tooLong.count) tag names are longer than WeCom's \(WeComTagLimits.nameCharacters) characters once {category} is replaced (\(shown)\(tooLong.count > 5 ? ", …" : "")); shorten the rules' name or name_zh, or the category names."
      )
    }
    if tags.count > WeComTagLimits.tagsPerEnterprise {
      warnings.append(
        "the tag rules can give \(tags.count) tags across the data's categories; WeCom allows at most \(WeComTagLimits.tagsPerEnterprise) tags per enterprise. Fewer per-category rules keep the SCRM within it."
      )
    }
    return (TagDictionary(runID: runID, tags: tags), warnings)
  }
}
