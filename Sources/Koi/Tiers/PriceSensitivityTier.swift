/// The four price-sensitivity tiers of DOMAIN.md §2, with stable ids.
///
/// Each tier is a quadrant of two axes computed from a standardised centroid
/// `z` (see `TierAxes`): `savvy` (+1 savvy, −1 novice) and `priceSensitivity`
/// (+1 price-sensitive, −1 quality-focused).
public enum PriceSensitivityTier: Int, Sendable, Codable, CaseIterable, Comparable {
  /// 很懂，对价格尤其敏感: compares prices across channels, buys on promotion.
  case savvyPriceSensitive = 1
  /// 很懂，在意产品服务品质: the high-net-worth core; KOC candidates.
  case savvyQualityFocused = 2
  /// 不太懂，但随大流: responds to social proof.
  case noviceCrowdFollower = 3
  /// 不太懂，对价格尤其敏感: responds to deals.
  case noviceDealSeeker = 4

  /// Stable snake_case id for JSON and SCRM tags.
  public var id: String {
    switch self {
    case .savvyPriceSensitive: return "savvy_price_sensitive"
    case .savvyQualityFocused: return "savvy_quality_focused"
    case .noviceCrowdFollower: return "novice_crowd_follower"
    case .noviceDealSeeker: return "novice_deal_seeker"
    }
  }

  /// Human-readable name.
  public var name: String {
    switch self {
    case .savvyPriceSensitive: return "Savvy and price-sensitive"
    case .savvyQualityFocused: return "Savvy and quality-focused"
    case .noviceCrowdFollower: return "Not savvy, follows the crowd"
    case .noviceDealSeeker: return "Not savvy and price-sensitive"
    }
  }

  /// The quadrant's signs: `(savvy, priceSensitivity)`.
  var quadrant: (savvy: Double, priceSensitivity: Double) {
    switch self {
    case .savvyPriceSensitive: return (1, 1)
    case .savvyQualityFocused: return (1, -1)
    case .noviceCrowdFollower: return (-1, -1)
    case .noviceDealSeeker: return (-1, 1)
    }
  }

  public init?(id: String) {
    guard let t = Self.allCases.first(where: { $0.id == id }) else { return nil }
    self = t
  }

  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

  // Encoded as the stable id.
  public init(from decoder: Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    guard let t = Self(id: s) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown tier id \(s)"))
    }
    self = t
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(id)
  }
}

/// Where a standardised centroid `z` sits on the two tier axes. With `F` the
/// features present in the model (a missing feature is left out of its mean;
/// an axis with no feature is 0):
///
/// ```
/// savvy            = mean(z_breadth, z_tenure_days, z_purchase_days, z_premium_share)
/// priceSensitivity = mean(z_discount_depth, z_promo_share, −z_premium_share)
/// ```
public struct TierAxes: Sendable, Codable, Equatable {
  let savvy: Double
  let priceSensitivity: Double

  public init(savvy: Double, priceSensitivity: Double) {
    self.savvy = savvy
    self.priceSensitivity = priceSensitivity
  }

  /// The axes of standardised point `z` over `features`.
  public init(z: [Double], features: [TierFeature]) {
    func mean(_ terms: [(TierFeature, Double)]) -> Double {
      var s = 0.0, c = 0
      for (f, sign) in terms { if let i = features.firstIndex(of: f) { s += sign * z[i]; c += 1 } }
      return c > 0 ? s / Double(c) : 0
    }
    savvy = mean([(.breadth, 1), (.tenureDays, 1), (.purchaseDays, 1), (.premiumShare, 1)])
    priceSensitivity = mean([(.discountDepth, 1), (.promoShare, 1), (.premiumShare, -1)])
  }

  /// Agreement with a tier's quadrant: `savvy · s_t + priceSensitivity · p_t`.
  func agreement(with tier: PriceSensitivityTier) -> Double {
    let q = tier.quadrant
    return savvy * q.savvy + priceSensitivity * q.priceSensitivity
  }
}

extension PriceSensitivityTier {
  /// Names clusters from their axes.
  ///
  /// - k = 4: the bijection cluster → tier maximising total agreement
  ///   `Σ_j agreement(axes_j, tier_j)` over all 24 permutations; ties go to
  ///   the permutation enumerated first (lexicographic in tier order).
  /// - k ≠ 4: each cluster independently gets the tier of highest agreement
  ///   (the quadrant its centroid points into); ties to the lower tier number.
  ///   Several clusters may share a tier, and a tier may be empty.
  ///
  /// - Complexity: O(4! · 4) for k = 4, O(k) otherwise.
  public static func assign(axes: [TierAxes]) -> [PriceSensitivityTier] {
    let tiers = PriceSensitivityTier.allCases
    if axes.count == 4 {
      var best: [PriceSensitivityTier] = tiers
      var bestScore = -Double.infinity
      func permute(_ prefix: [PriceSensitivityTier], _ rest: [PriceSensitivityTier]) {
        if rest.isEmpty {
          var s = 0.0
          for j in 0..<4 { s += axes[j].agreement(with: prefix[j]) }
          if s > bestScore { bestScore = s; best = prefix }
          return
        }
        for (i, t) in rest.enumerated() {
          var r = rest
          r.remove(at: i)
          permute(prefix + [t], r)
        }
      }
      permute([], tiers)
      return best
    }
    return axes.map { a in
      var best = tiers[0]
      var bestScore = -Double.infinity
      for t in tiers {
        let s = a.agreement(with: t)
        if s > bestScore { bestScore = s; best = t }
      }
      return best
    }
  }
}
