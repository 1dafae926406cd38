/// A treatment category as the generator models it: its typical repurchase
/// cycle and price range. The cycles are the ones in DOMAIN.md.
struct TreatmentCategory: Sendable {
  public var id: String
  var chineseName: String
  /// Mean days between purchases for a typical customer; nil for one-off
  /// treatments (surgery, implants).
  var cycleDays: Double?
  /// List-price range in yuan.
  public var listPrice: ClosedRange<Double>
  /// Relative popularity as a customer's first treatment.
  var popularity: Double

  static let catalog: [TreatmentCategory] = [
    .init(id: "filler", chineseName: "玻尿酸填充", cycleDays: 180, listPrice: 3800...9800, popularity: 0.15),
    .init(id: "botox", chineseName: "肉毒素", cycleDays: 120, listPrice: 1800...4800, popularity: 0.15),
    .init(id: "skin_booster", chineseName: "水光针", cycleDays: 30, listPrice: 800...2600, popularity: 0.18),
    .init(id: "photorejuvenation", chineseName: "光子嫩肤", cycleDays: 30, listPrice: 600...2200, popularity: 0.12),
    .init(id: "skin_cleaning", chineseName: "皮肤清洁", cycleDays: 21, listPrice: 150...480, popularity: 0.20),
    .init(id: "dental_cleaning", chineseName: "洗牙", cycleDays: 180, listPrice: 200...600, popularity: 0.12),
    .init(id: "surgery", chineseName: "双眼皮手术", cycleDays: nil, listPrice: 8000...30000, popularity: 0.05),
    .init(id: "dental_implant", chineseName: "种植牙", cycleDays: nil, listPrice: 8000...25000, popularity: 0.03),
  ]
}

/// How a customer of each price-sensitivity tier behaves in the generator.
/// Tier numbers follow DOMAIN.md: 1 savvy & price-sensitive, 2 savvy &
/// quality-focused, 3 novice crowd-follower, 4 novice deal-seeker.
struct TierBehaviour: Sendable {
  var tier: Int
  var name: String
  var share: Double
  /// Treatments taken up: a uniform draw from this range.
  var breadth: ClosedRange<Int>
  /// Probability that a purchase is on promotion, and the mean discount then.
  var promoProbability: Double
  var promoDiscount: Double
  /// Probability of choosing the premium half of a category's price range.
  var premiumProbability: Double
  /// Probability of leaving after each purchase occasion.
  var dropoutProbability: Double
  /// Channel weights: wechat, meituan, douyin, referral, walk_in.
  var channelWeights: [Double]

  static let all: [TierBehaviour] = [
    .init(
      tier: 1, name: "savvy_price_sensitive", share: 0.20, breadth: 3...5,
      promoProbability: 0.70, promoDiscount: 0.30, premiumProbability: 0.30,
      dropoutProbability: 0.05, channelWeights: [0.30, 0.30, 0.25, 0.05, 0.10]),
    .init(
      tier: 2, name: "savvy_quality_focused", share: 0.15, breadth: 3...5,
      promoProbability: 0.08, promoDiscount: 0.10, premiumProbability: 0.85,
      dropoutProbability: 0.04, channelWeights: [0.45, 0.02, 0.03, 0.30, 0.20]),
    .init(
      tier: 3, name: "novice_crowd_follower", share: 0.40, breadth: 1...2,
      promoProbability: 0.25, promoDiscount: 0.15, premiumProbability: 0.50,
      dropoutProbability: 0.12, channelWeights: [0.35, 0.15, 0.30, 0.10, 0.10]),
    .init(
      tier: 4, name: "novice_deal_seeker", share: 0.25, breadth: 1...2,
      promoProbability: 0.80, promoDiscount: 0.35, premiumProbability: 0.12,
      dropoutProbability: 0.15, channelWeights: [0.15, 0.40, 0.35, 0.05, 0.05]),
  ]

  static let channels = ["wechat", "meituan", "douyin", "referral", "walk_in"]
  static let chineseChannels = ["微信", "美团", "抖音", "转介绍", "到店"]
}
