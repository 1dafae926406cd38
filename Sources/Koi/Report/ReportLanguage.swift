import Foundation

/// The language of report.html: every label, segment and tier name, status
/// and number format. Chinese is the default: most readers of the report
/// (operations directors, clinic managers, private-pool leads) read it.
public enum ReportLanguage: String, Sendable, CaseIterable {
  case zh
  case en

  /// `value` as a language, or nil.
  public init?(code: String) { self.init(rawValue: code.lowercased()) }

  /// The phrase `key` in this language. Every key is in both tables
  /// (tested); an unknown key is a programmer error.
  func callAsFunction(_ key: ReportPhrase) -> String {
    switch self {
    case .zh: return key.zh
    case .en: return key.en
    }
  }

  /// An integer with thousands separators: `12,345`.
  func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// Money in yuan with thousands separators, whole yuan: `¥1,234,567`.
  /// Amounts under ¥100 keep two decimals (`¥12.50`).
  func money(_ x: Double) -> String {
    guard x.isFinite else { return "—" }
    if abs(x) < 100 && x != x.rounded() {
      let s = String(format: "%.2f", abs(x))
      return (x < 0 ? "-¥" : "¥") + s
    }
    let n = Int(x.rounded())
    return (n < 0 ? "-¥" : "¥") + count(abs(n))
  }

  /// Money in a few characters for cells of a heat map: `¥19.8万` /
  /// `¥1.2亿` in Chinese, `¥19.8k` / `¥1.2M` in English.
  func compactMoney(_ x: Double) -> String {
    guard x.isFinite else { return "—" }
    let a = abs(x)
    let sign = x < 0 ? "-¥" : "¥"
    let steps: [(Double, String)] =
      self == .zh ? [(1e8, "亿"), (1e4, "万")] : [(1e9, "B"), (1e6, "M"), (1e3, "k")]
    for (d, suffix) in steps where a >= d {
      return sign + number(a / d, decimals: a / d >= 100 ? 0 : 1) + suffix
    }
    return sign + count(Int(a.rounded()))
  }

  /// A share as a percentage with one decimal: `12.3%`.
  func percent(_ share: Double, decimals: Int = 1) -> String {
    guard share.isFinite else { return "—" }
    return String(format: "%.\(decimals)f%%", share * 100)
  }

  /// A number with up to `decimals` decimals and thousands separators in
  /// the integer part.
  func number(_ x: Double, decimals: Int = 2) -> String {
    guard x.isFinite else { return "—" }
    if decimals == 0 { return count(Int(x.rounded())) }
    let s = String(format: "%.\(decimals)f", abs(x))
    let parts = s.split(separator: ".", maxSplits: 1)
    let whole = Int(parts[0]) ?? 0
    var frac = parts.count > 1 ? String(parts[1]) : ""
    while frac.hasSuffix("0") { frac.removeLast() }
    return (x < 0 && (whole != 0 || !frac.isEmpty) ? "-" : "") + count(whole) + (frac.isEmpty ? "" : "." + frac)
  }

  /// A value in a unit: days, a share, money or a plain number.
  func value(_ x: Double, unit: ReportUnit) -> String {
    switch unit {
    case .money: return money(x)
    case .share: return percent(x)
    case .days: return number(x, decimals: 1) + (self == .zh ? " 天" : " d")
    case .count: return number(x, decimals: x.magnitude >= 100 ? 0 : 2)
    case .probability: return number(x, decimals: 3)
    }
  }

  /// The display name of an RFM segment id (`champions` → 重要价值客户).
  func segmentName(_ id: String) -> String {
    guard let s = RFMSegment(rawValue: id) else { return id }
    return self == .zh ? s.nameZH : s.displayName
  }

  /// The display name of a tier id.
  func tierName(_ id: String) -> String {
    guard let t = PriceSensitivityTier(id: id) else { return id }
    return self == .zh ? t.nameZH : t.name
  }

  /// The display name of a repurchase status.
  func statusName(_ status: String) -> String {
    let names: [String: (String, String)] = [
      "not_yet_due": ("未到期", "not yet due"), "due": ("到期", "due"), "overdue": ("逾期", "overdue"),
      "one_off": ("一次性", "one-off"), "lapsed": ("已流失", "lapsed"), "unknown": ("数据不足", "unknown"),
    ]
    guard let n = names[status] else { return status }
    return self == .zh ? n.0 : n.1
  }

  /// A reject reason of rejects.csv, with its id in brackets in Chinese
  /// (the id is what rejects.csv holds).
  func rejectReason(_ reason: String) -> String {
    let zh: [String: String] = [
      "wrong_field_count": "字段数不符", "missing_customer_id": "缺少客户编号", "missing_item": "缺少项目",
      "bad_date": "日期无法识别", "bad_amount": "金额无法识别", "bad_list_price": "原价无法识别",
      "bad_promo": "活动标记无法识别", "after_as_of": "晚于截止日", "malformed_quotes": "引号格式错误",
      "unterminated_quote": "引号未闭合", "invalid_encoding": "编码无效", "no_purchase": "无购买",
      "duplicate_across_files": "跨文件重复", "formula_without_value": "公式无保存值",
    ]
    guard self == .zh, let name = zh[reason] else { return reason }
    return "\(name)（\(reason)）"
  }

  /// How a treatment's interval model was obtained (segments.json `basis`).
  func basisName(_ basis: String) -> String {
    let names: [String: (String, String)] = [
      "fitted": ("拟合", "fitted"), "prior": ("先验周期", "prior cycle"), "pooled": ("合并估计", "pooled"),
      "one_off": ("一次性", "one-off"), "insufficient_data": ("数据不足", "too little data"),
    ]
    guard let n = names[basis] else { return basis }
    return self == .zh ? n.0 : n.1
  }

  /// A stage id (`rfm`, `tiers`, `intervals`, `lifetime`).
  func stageName(_ stage: String) -> String {
    let names: [String: (String, String)] = [
      "rfm": ("RFM 分层", "RFM"), "tiers": ("价格敏感度客群", "tiers"), "intervals": ("复购周期", "repurchase intervals"),
      "lifetime": ("终身价值", "lifetime value"),
    ]
    guard let n = names[stage] else { return stage }
    return self == .zh ? n.0 : n.1
  }

  /// The display name of a tier-profile feature, with its unit.
  func featureName(_ feature: String) -> String {
    let names: [String: (String, String)] = [
      "discount_depth": ("折扣深度", "Discount depth"), "promo_share": ("活动购买占比", "Promotion share"),
      "premium_share": ("高端项目占比", "Premium-item share"), "breadth": ("项目种类数", "Treatments bought (breadth)"),
      "purchase_days": ("消费天数", "Purchase days"), "net_spend": ("净消费额", "Net spend"),
      "tenure_days": ("客龄（天）", "Tenure (days)"),
    ]
    guard let n = names[feature] else { return feature }
    return self == .zh ? n.0 : n.1
  }

  /// The unit a tier-profile feature is in.
  static func featureUnit(_ feature: String) -> ReportUnit {
    switch feature {
    case "discount_depth", "promo_share", "premium_share": return .share
    case "net_spend": return .money
    case "tenure_days": return .days
    default: return .count
    }
  }
}

/// Units of values in charts and tables.
enum ReportUnit: Sendable {
  case money, share, days, count, probability
}

extension RFMSegment {
  // `nameZH` (segments.json `name_zh`, the zh campaign lists) is in
  // Export/CampaignList.swift.

  /// The segment's English display name.
  public var displayName: String {
    switch self {
    case .champions: return "Champions"
    case .loyal: return "Loyal"
    case .potentialLoyalist: return "Potential loyalists"
    case .newCustomers: return "New customers"
    case .promising: return "Promising"
    case .needAttention: return "Need attention"
    case .aboutToSleep: return "About to sleep"
    case .atRisk: return "At risk"
    case .cantLoseThem: return "Can't lose them"
    case .hibernating: return "Hibernating"
    case .lost: return "Lost"
    }
  }
}
