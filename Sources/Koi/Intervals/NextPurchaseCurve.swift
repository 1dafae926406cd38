import RealModule

/// The distribution of the time from the as-of day to a pair's next purchase
/// in its category, given no purchase since the last one. Every date and
/// probability of a repurchase prediction is read off this one curve, so
/// they agree with each other.
///
/// **Statistical part.** With the pair's predictive gap distribution
/// (family, location μ, scale σ; `IntervalShrinkage.predictive`), elapsed
/// days e and return probability π (logit α; π = 1 without it), the
/// statistical survival of the next-purchase time t ≥ 0 is
/// ```
/// ρ       = π S(e) / (1 − π + π S(e))                 (returns at all, given the silence)
/// 1 − F_s(t) = 1 − ρ + ρ · S(e + t) / S(e)
/// L_s(t)  = log(1 − F_s(t))
/// ```
///
/// **Calibration to the boosted probabilities.** When the repurchase
/// propensity model (`RepurchasePropensity`) gives P(purchase within t_i) at
/// knots t₁ < t₂ < … (30 and 90 days), the curve is bent through them by
/// scaling the statistical hazard by a constant λ_i on each segment
/// (piecewise proportional hazards), t₀ = 0, L(0) = 0:
/// ```
/// L(t) = L(t_i) + λ_i · (L_s(t) − L_s(t_i))            t_i ≤ t ≤ t_{i+1}
/// λ_i  = (L(t_{i+1}) − L(t_i)) / (L_s(t_{i+1}) − L_s(t_i))
/// L(t) = L(t_n) + (L_s(t) − L_s(t_n))                  t ≥ t_n (the statistical
///                                                      conditional survival beyond
///                                                      the last knot)
/// ```
/// A segment where the statistical curve is flat (no hazard) takes a
/// constant hazard instead (L linear in t). Without a statistical part (no
/// gap distribution for the category) the curve is the knots with a constant
/// hazard per segment, the last one continued.
///
/// - Complexity: O(1) per evaluation (a few log/exp/erfc).
struct NextPurchaseCurve {
  struct Statistical {
    var family: IntervalFamily
    var location: Double
    var scale: Double
    /// Days since the last purchase, ≥ 1.
    var elapsed: Double
    var logitReturn: Double?
    /// log S(e) of the gap distribution.
    let logSurvivalAtElapsed: Double
    /// ρ: probability of buying again at all, given the silence so far.
    let returnProbability: Double

    init(family: IntervalFamily, location: Double, scale: Double, elapsed: Double, logitReturn: Double?) {
      self.family = family
      self.location = location
      self.scale = scale
      self.elapsed = elapsed
      self.logitReturn = logitReturn
      let a = family.logSurvivalW((DayLogarithm.log(elapsed) - location) / scale)
      logSurvivalAtElapsed = a
      returnProbability = logitReturn.map { family.returnProbability(logSurvival: a, logitReturn: $0) } ?? 1
    }

    /// L_s(t).
    func logSurvival(_ t: Double) -> Double {
      let a = logSurvivalAtElapsed
      let b = family.logSurvivalW((DayLogarithm.log(elapsed + t) - location) / scale)
      let rho = returnProbability
      let ratio = Double.exp(min(0, b - a))
      return Double.log(max(0, (1 - rho) + rho * ratio))
    }

    /// The t ≥ 0 with L_s(t) = target (≤ 0), or nil when the curve never
    /// gets that low (the customer may not come back at all).
    func time(atLogSurvival target: Double) -> Double? {
      if target >= 0 { return 0 }
      let rho = returnProbability
      // e^target = 1 − ρ + ρ · S(e+t)/S(e)
      let ratio = (Double.exp(target) - (1 - rho)) / rho
      guard ratio > 0, rho > 0 else { return nil }
      let b = logSurvivalAtElapsed + Double.log(ratio)
      let w = family.inverseLogSurvivalW(b)
      let t = Double.exp(location + scale * w) - elapsed
      return t.isFinite ? max(0, t) : nil
    }
  }

  /// At most this many knots (the stage bends through 2, the probability
  /// columns through 3).
  static let maximumKnots = Values.capacity - 1

  var statistical: Statistical?
  /// Knot days t₁ < t₂ < … and L at each (non-increasing, finite); empty
  /// without calibration.
  private(set) var knotDays = Values()
  private(set) var knotLogSurvival = Values()
  /// L_s at t₀ = 0 and at each knot, computed once.
  private var knotStatistical = Values()
  /// The last knot's probability after clamping (0 before the first).
  private var previousProbability = 0.0

  /// The curve without knots (the statistical one); `addKnot` bends it.
  init(statistical: Statistical?) {
    self.statistical = statistical
    if statistical != nil { knotStatistical.append(0) }
  }

  /// Builds the calibrated curve from probabilities of a purchase within
  /// each knot; they are made non-decreasing and kept inside [1e-6, 1 − 1e-6].
  init(statistical: Statistical?, knots: [(days: Double, probability: Double)]) {
    self.init(statistical: statistical)
    for (d, p) in knots { addKnot(days: d, probability: p) }
  }

  /// Adds the knot P(purchase within `d` days) = `p` after the others (`d`
  /// beyond the last knot's day); a non-finite `p` is skipped. The same
  /// curve as passing every knot to `init(statistical:knots:)`, built
  /// without allocating (one curve per pair while scoring).
  ///
  /// - Precondition: fewer than `maximumKnots` knots so far.
  mutating func addKnot(days d: Double, probability p: Double) {
    guard p.isFinite else { return }
    precondition(knotDays.count < Self.maximumKnots, "a curve holds at most \(Self.maximumKnots) knots")
    let q = min(1 - 1e-6, max(previousProbability, max(1e-6, p)))
    previousProbability = q
    knotDays.append(d)
    knotLogSurvival.append(Double.log(onePlus: -q))
    if let s = statistical { knotStatistical.append(s.logSurvival(d)) }
  }

  /// Whether the curve can say anything.
  var isDefined: Bool { statistical != nil || !knotDays.isEmpty }

  /// Segment i spans [t_i, t_{i+1}] with t₀ = 0, L(0) = 0.
  private func segment(_ i: Int) -> (t0: Double, l0: Double, t1: Double, l1: Double) {
    (i == 0 ? 0 : knotDays[i - 1], i == 0 ? 0 : knotLogSurvival[i - 1], knotDays[i], knotLogSurvival[i])
  }

  /// L(t) = log P(no purchase within t days of the as-of day).
  func logSurvival(_ t: Double) -> Double {
    guard !knotDays.isEmpty else { return statistical?.logSurvival(t) ?? 0 }
    var i = 0
    while i < knotDays.count && !(t <= knotDays[i]) { i += 1 }
    if i == knotDays.count {
      let (t0, l0, t1, l1) = segment(knotDays.count - 1)
      if let s = statistical { return l1 + (statisticalLogSurvival(s, t) - knotStatistical[knotDays.count]) }
      return l1 + (l1 - l0) / (t1 - t0) * (t - t1)
    }
    let (t0, l0, t1, l1) = segment(i)
    if let s = statistical {
      let s0 = knotStatistical[i], s1 = knotStatistical[i + 1]
      if s1 - s0 < -1e-12 { return l0 + (l1 - l0) / (s1 - s0) * (statisticalLogSurvival(s, t) - s0) }
    }
    return l0 + (l1 - l0) / (t1 - t0) * (t - t0)
  }

  /// The smallest t ≥ 0 with L(t) ≤ target, or nil when the curve never
  /// reaches it.
  func time(atLogSurvival target: Double) -> Double? {
    guard !knotDays.isEmpty else { return statistical?.time(atLogSurvival: target) }
    if target >= 0 { return 0 }
    for i in 0..<knotDays.count {
      let (t0, l0, t1, l1) = segment(i)
      guard target >= l1 else { continue }
      if let s = statistical {
        let s0 = knotStatistical[i], s1 = knotStatistical[i + 1]
        if s1 - s0 < -1e-12, let t = s.time(atLogSurvival: s0 + (target - l0) * (s1 - s0) / (l1 - l0)) {
          return min(t1, max(t0, t))
        }
      }
      return l1 < l0 ? t0 + (target - l0) / (l1 - l0) * (t1 - t0) : t0
    }
    let (t0, l0, t1, l1) = segment(knotDays.count - 1)
    if let s = statistical {
      return s.time(atLogSurvival: knotStatistical[knotDays.count] + (target - l1)).map { max(t1, $0) }
    }
    return l1 < l0 ? t1 + (target - l1) / ((l1 - l0) / (t1 - t0)) : nil
  }

  /// L_s(t), taken from the knots' values when `t` is a knot day: the same
  /// number (the same function of the same arguments) without evaluating it
  /// again; the stage asks for the curve at its 30- and 90-day knots.
  private func statisticalLogSurvival(_ s: Statistical, _ t: Double) -> Double {
    for j in 0..<knotDays.count where knotDays[j] == t { return knotStatistical[j + 1] }
    return s.logSurvival(t)
  }

  /// P(purchase within t days).
  func probability(within t: Double) -> Double { -Double.expMinusOne(logSurvival(t)) }

  /// P(a purchase ever), given the silence so far; NaN (unknown) without a
  /// statistical part.
  var returnProbability: Double {
    guard let s = statistical else { return .nan }
    guard let l = knotLogSurvival.last else { return s.returnProbability }
    // L(∞) = L(t_n) + log(1 − ρ) − L_s(t_n)
    let rho = s.returnProbability
    if rho >= 1 { return 1 }
    return -Double.expMinusOne(l + Double.log(onePlus: -rho) - knotStatistical[knotDays.count])
  }

  /// Day offset by which a purchase has happened with probability q, or nil
  /// when that probability is not reached within `horizon` days.
  func quantile(_ q: Double, horizon: Double) -> Double? {
    quantile(logSurvival: Double.log(onePlus: -q), horizon: horizon)
  }

  /// `quantile(q, horizon:)` given `log(1 − q)` (computed once for many curves).
  func quantile(logSurvival target: Double, horizon: Double) -> Double? {
    guard let t = time(atLogSurvival: target), t <= horizon else { return nil }
    return t
  }

  /// Median time of the next purchase given that it happens within
  /// `horizon` days: the t with F(t) = F(horizon)/2; nil when F(horizon) is 0.
  func medianGivenPurchase(within horizon: Double) -> Double? {
    medianGivenPurchase(within: horizon, probabilityWithin: probability(within: horizon))
  }

  /// `medianGivenPurchase(within:)` given `f = probability(within: horizon)`.
  func medianGivenPurchase(within horizon: Double, probabilityWithin f: Double) -> Double? {
    guard f > 1e-12 else { return nil }
    return time(atLogSurvival: Double.log(onePlus: -f / 2)).map { min(horizon, $0) }
  }
}

extension NextPurchaseCurve {
  /// A few doubles stored inline, so a curve needs no heap allocation.
  /// A SIMD vector rather than a tuple: its elements are read in place,
  /// where `withUnsafeBytes(of:)` on a tuple copied it to read one value.
  struct Values {
    static let capacity = 8
    private var storage = SIMD8<Double>()
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var last: Double? { count > 0 ? self[count - 1] : nil }

    subscript(i: Int) -> Double {
      precondition(i >= 0 && i < count, "index out of range")
      return storage[i]
    }

    mutating func append(_ v: Double) {
      precondition(count < Self.capacity, "at most \(Self.capacity) values")
      storage[count] = v
      count += 1
    }
  }
}
