/// WeCom's (企业微信) limits on enterprise customer tags (企业客户标签), which
/// the SCRM that receives Koi's tags enforces when it creates them:
///
/// ```
/// tag name   (tag.name)    ≤ 30 characters
/// group name (group_name)  ≤ 30 characters
/// tags per enterprise      ≤ 3,000
/// ```
///
/// Sources: WeCom's server API page "管理企业标签" (add_corp_tag,
/// developer.work.weixin.qq.com/document/path/92117), as quoted in the WeChat
/// open community ("标签字符长度最大为30个字符；每个企业最多设置3000个标签",
/// developers.weixin.qq.com/community/develop/doc/000aeca706882076338bd309256c00)
/// and in SCRM vendors' wrappers of the same call ("groupName … 最长为30个字符",
/// "tag.name … 最长为30个字符", open.dustess.com/doc-5147893; "每个企业最多可配置
/// 3000个企业标签", hexdocs.pm/wechat_sdk WeChat.Work.Customer.Tag). One
/// third-party page gives 10,000 for enterprise and rule-group tags together;
/// Koi keeps the documented 3,000, the stricter figure.
///
/// A character is a Swift `Character` (one user-perceived character: 客 and
/// `a` both count 1). The 3,000 limit is the enterprise's, shared with tags
/// Koi does not make; Koi checks what it can: its own rules at load (at most
/// 3,000 `[[tags]]`) and, per run, the tags its rules can give once
/// per-category rules are expanded (a warning, see `TagDictionary`).
enum WeComTagLimits {
  /// Longest tag or group name, in characters.
  static let nameCharacters = 30
  /// Most tags an enterprise may define.
  static let tagsPerEnterprise = 3_000

  /// Nil when `text` fits; else a sentence for a configuration error.
  /// `placeholder` (`{category}`) is not counted: it is replaced per
  /// category at run time, where a name that grows too long is a warning.
  static func problem(_ text: String, what: String, placeholder: String? = nil) -> String? {
    if text.isEmpty { return "\(what) is empty" }
    if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
      return "\(what) contains a control character (a line break or tab)"
    }
    let counted = placeholder.map { text.replacingOccurrences(of: $0, with: "") } ?? text
    guard counted.count > nameCharacters else { return nil }
    let fixed = placeholder != nil && text.contains(placeholder ?? "") ? " without \(placeholder ?? "")" : ""
    return
      "\(what) \"\(UserText.excerpt(text))\" has \(counted.count) characters\(fixed); WeCom allows at most \(nameCharacters)"
  }
}
